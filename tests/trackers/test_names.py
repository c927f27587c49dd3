"""Name normalisation and suggestions: a family prefix ranks the newest model of each line first."""

from trackers.names import family_first

SD = [
    ("stable-diffusion-v1-1", ["Stable Diffusion v1.1", "Stable Diffusion 1.1"], "2022-08-10"),
    ("stable-diffusion-v1-5", ["Stable Diffusion v1.5", "Stable Diffusion 1.5"], "2022-10-20"),
    ("stable-diffusion-2.1", ["Stable Diffusion 2.1"], "2022-12-07"),
    ("sdxl-1.0", ["SDXL", "Stable Diffusion XL 1.0"], "2023-07-26"),
    ("stable-diffusion-3.5", ["Stable Diffusion 3.5", "Stable Diffusion 3.5 Large"], "2024-10-22"),
    ("stable-diffusion-3", ["Stable Diffusion 3"], "2024-04"),
    ("stable-video", ["Stable Video Diffusion"], "2023-11-21"),
]
LLAMA = [
    ("llama-2", ["Llama 2"], "2023-07-18"),
    ("llama-3", ["Llama 3"], "2024-04-18"),
    ("llama-4-scout", ["Llama 4 Scout"], "2025-04-05"),
    ("llama-4-maverick", ["Llama 4 Maverick"], "2025-04-05"),
]


def test_a_family_query_offers_the_newest_model_of_each_line_before_older_sub_releases():
    assert family_first("stable diffusion", SD) == [
        "stable-diffusion-3.5", "sdxl-1.0", "stable-diffusion-2.1", "stable-diffusion-v1-5", "stable-diffusion-3",
    ]  # fmt: skip


def test_a_version_in_the_query_keeps_only_that_versions_models():
    assert set(family_first("llama 4", LLAMA)) == {"llama-4-scout", "llama-4-maverick"}
    assert family_first("LLaMA-3", LLAMA) == ["llama-3"]


def test_a_query_that_starts_no_name_is_no_family():
    assert family_first("gpt 7", SD + LLAMA) == [] and family_first("", SD) == []
