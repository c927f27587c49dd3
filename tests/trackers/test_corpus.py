"""Optional: every reader over the shared real-world corpus (../shared/fixtures/real) — no crash, no traceback."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path

import pytest

from trackers.sources import Context, Document, ParseError, SourceSpec, github, huggingface, rss


def _shared_corpus() -> Path:
    """`shared/fixtures/real` beside the checkout (CI, /work/main) or beside a folder of worktrees (/work/wt/NAME)."""
    here = Path(__file__).resolve()
    candidates = [folder / "shared" / "fixtures" / "real" for folder in here.parents[3:5]]
    return next((candidate for candidate in candidates if candidate.is_dir()), candidates[0])


CORPUS = Path(os.environ.get("SUNSET_CORPUS", _shared_corpus()))
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"real-world corpus not found at {CORPUS} (set SUNSET_CORPUS to point at it)"
)
TODAY = date(2026, 11, 10)


def files(pattern: str) -> list[Path]:
    return sorted(CORPUS.glob(pattern)) if CORPUS.is_dir() else []


def read(reader, path: Path, kind: str, role: str = "main"):
    context = Context(SourceSpec("corpus", kind, options={"model": "Corpus Model"}), TODAY)
    document = Document(f"https://corpus.example/{path.name}", path.read_bytes(), role=role, subject="corpus/model")
    try:
        return reader(document, context)
    except ParseError as error:
        return error


@pytest.mark.parametrize("path", files("feeds/**/*.*"), ids=lambda p: p.name)
def test_every_feed_reads_or_fails_cleanly(path, caplog):
    caplog.set_level(logging.ERROR)
    for reader, kind in ((rss.read, "rss"), (github.read, "github")):
        result = read(reader, path, kind)
        assert result is not None
    assert "Traceback" not in caplog.text


def test_lab_feeds_yield_announcements_and_broken_ones_are_told_apart():
    results = {path.name: read(rss.read, path, "rss") for path in files("feeds/**/*.*")}
    announced = {name for name, result in results.items() if not isinstance(result, ParseError) and result.sightings}
    assert {"olshansk_feed_mistral.xml", "olshansk_feed_anthropic_news.xml"} <= announced
    assert isinstance(results["rssparser_unrecognized_html_document_moved.rss"], ParseError)
    latin1 = results["rssparser_uolNoticias_latin1_no_decl.rss"]
    assert not isinstance(latin1, ParseError) and latin1.items > 0  # bozo from the encoding is not a failure


@pytest.mark.parametrize("path", files("model_cards/*.md"), ids=lambda p: p.name)
def test_every_model_card_reads_without_raising(path):
    result = read(huggingface.read, path, "huggingface", role="card")
    assert not isinstance(result, ParseError)


@pytest.mark.parametrize("path", files("hf_api/*.json"), ids=lambda p: p.name)
def test_every_hub_response_reads_or_fails_cleanly(path):
    result = read(huggingface.read, path, "huggingface")
    if "list_models" in path.name and "exchange" not in path.name:
        assert not isinstance(result, ParseError)
        assert all(s.fact != "released" or s.value != "2024-09-25" for s in result.sightings)  # never lastModified
