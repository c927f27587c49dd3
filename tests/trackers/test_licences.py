import pytest

from trackers.licences import classify_licence
from trackers.records import Licence, Tier


@pytest.mark.parametrize(
    ("raw", "spdx", "tier"),
    [
        ("Apache License 2.0", "Apache-2.0", Tier.A),
        ("apache-2.0", None, Tier.A),  # a Hugging Face id that is also an SPDX id: SPDX decides
        ("MIT", None, Tier.A),
        ("bsd-3-clause", None, Tier.A),
        ("cc-by-4.0", None, Tier.A),  # open-data licence
        ("CC0 1.0", "CC0-1.0", Tier.A),
        ("odc-by", None, Tier.A),
        ("Llama 2 Community License Agreement", None, Tier.B),
        ("llama3.1", None, Tier.B),
        ("gemma", None, Tier.B),
        ("CreativeML OpenRAIL-M", "CreativeML-OpenRAIL-M", Tier.B),
        ("bigscience-bloom-rail-1.0", None, Tier.B),
        ("NVIDIA Open Model License", None, Tier.B),
        ("Tongyi Qianwen License Agreement", None, Tier.B),
        ("CC BY-NC 4.0", "CC-BY-NC-4.0", Tier.C),
        ("cc-by-nc-sa-4.0", None, Tier.C),
        ("Mistral AI Non-Production License", None, Tier.C),
        ("fair-noncommercial-research-license", None, Tier.C),
        ("The CogVLM License", None, Tier.B),
        ("Kimi K2.5 Modified MIT License", None, Tier.B),
        ("MiniMax-M2.1 Modified MIT License", None, Tier.B),
        ("MiniMax-M2.5 Modified MIT License", None, Tier.B),
        ("MiniMax H3 Community License Agreement", None, Tier.B),
        ("K-EXAONE AI Model License Agreement", None, Tier.B),
        ("Upstage Solar License", None, Tier.B),
        ("upstage-solar-license", None, Tier.B),
        ("TeleChat Model Community License Agreement", None, Tier.B),
        ("Tencent Hunyuan 3D 2.1 Community License Agreement", None, Tier.B),
        ("Skywork Community License", None, Tier.B),
        ("EXAONE AI Model License Agreement 1.2 - NC", None, Tier.C),
        ("Simplified BSD License for non-commercial use", None, Tier.C),
        ("Chai Discovery Community License Agreement", None, Tier.C),
    ],
)
def test_known_licences_get_their_tier(raw, spdx, tier):
    verdict = classify_licence(Licence(raw, spdx))
    assert verdict.tier is tier
    assert verdict.known


def test_no_licence_is_tier_d_and_known():
    verdict = classify_licence(None)
    assert (verdict.tier, verdict.known) == (Tier.D, True)


@pytest.mark.parametrize("raw", ["Some Bespoke Licence v7", "other", "unknown", "GPL-ish"])
def test_unknown_strings_are_tier_d_and_reported_not_guessed(raw):
    verdict = classify_licence(Licence(raw))
    assert verdict.tier is Tier.D
    assert not verdict.known


def test_an_spdx_id_that_is_not_osi_approved_is_not_promoted():
    # CC-BY-ND is on the SPDX list but grants no right to modify: never tier A.
    assert classify_licence(Licence("CC BY-ND 4.0", "CC-BY-ND-4.0")).tier is not Tier.A
