"""The built board in a real headless Chromium (Debian's package, driven by Playwright): search, follow, read.

The browser is required: when /usr/bin/chromium (or $SUNSET_CHROMIUM) is missing the test fails, never skips
(CI installs it). Screenshots go to the test's folder, or to $SUNSET_SCREENSHOTS when set (docs/ for the README).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.site.serve import preview_server

CHROMIUM = Path(os.environ.get("SUNSET_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container: no sandbox (no user namespaces), no GPU, and nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium (CI does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site_url(board) -> Iterator[str]:
    """The built board served over HTTP on loopback, as `sunset site serve` serves it."""
    server = preview_server(board, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ["SUNSET_SCREENSHOTS"]) if os.environ.get("SUNSET_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(browser: Browser, **options) -> Page:
    page = browser.new_page(viewport={"width": 1100, "height": 800}, **options)
    page.set_default_timeout(10_000)
    return page


def test_search_for_a_model_follow_it_check_facts_and_sources_then_follow_the_lab(browser, site_url, shots):
    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("The Sunset Board")
    page.screenshot(path=str(shots / "board-home.png"))
    page.get_by_label("Find a model by name, alias or lab").fill("alphago")
    result = page.locator("#search-results a", has_text="AlphaGo").first
    expect(result).to_be_visible()
    result.click()
    expect(page).to_have_url(f"{site_url}models/alphago/index.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("AlphaGo")
    expect(page.locator("#first-release")).to_contain_text("2016-01-27")
    expect(page.locator("#level")).to_have_text("L0 closed")
    expect(page.locator("#sunset-date")).to_contain_text("2026-01-27")
    expect(page.locator("#status")).to_contain_text("overdue by 10 months")
    sources = page.locator("#evidence a.source")
    assert sources.count() >= 3
    hrefs = {sources.nth(index).get_attribute("href") for index in range(sources.count())}
    assert "https://www.nature.com/articles/nature16961" in hrefs
    assert all(href and href.startswith("https://") for href in hrefs)
    badge = page.get_by_role("img", name="Badge: sunset overdue by 10 months")
    expect(badge).to_be_visible()
    assert page.evaluate("document.querySelector('img[alt^=Badge]').naturalWidth") > 0  # the SVG loaded
    page.screenshot(path=str(shots / "board-model.png"), full_page=True)
    page.locator("#lab-link").click()
    expect(page).to_have_url(f"{site_url}labs/deepmind/index.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Google DeepMind")
    expect(page.locator("#section-overdue")).to_be_visible()
    expect(page.locator("main a", has_text="AlphaGo").first).to_be_visible()
    page.screenshot(path=str(shots / "board-lab.png"))
    page.locator("#part-of a", has_text="Google").click()  # the lab DeepMind is part of, as the catalog states
    expect(page).to_have_url(f"{site_url}labs/google/index.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Google")
    expect(page.locator("#parts")).to_contain_text("Labs part of Google, each on its own page and not counted here")
    page.screenshot(path=str(shots / "board-lab-parent.png"))
    page.locator("#parts a", has_text="Google DeepMind").click()
    expect(page).to_have_url(f"{site_url}labs/deepmind/index.html")
    assert errors == []


def test_the_search_and_its_results_work_from_the_keyboard(browser, site_url):
    page = new_page(browser)
    page.goto(site_url)
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.locator("#search").focus()
    page.keyboard.type("word2vec")
    expect(page.locator("#search-results a").first).to_have_text("word2vec")
    page.keyboard.press("Tab")
    expect(page.locator("#search-results a").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("word2vec")


def test_a_search_that_matches_nothing_says_so(browser, site_url):
    page = new_page(browser)
    page.goto(site_url)
    page.get_by_label("Find a model by name, alias or lab").fill("no such model zzz")
    expect(page.locator("#search-results li")).to_have_text("No model matches “no such model zzz”.")


def test_pages_work_without_javascript_and_on_a_phone(browser, site_url, shots):
    page = browser.new_page(java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{site_url}models/alphago/index.html")
    expect(page.locator("#status")).to_contain_text("overdue by 10 months")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0  # nothing wider than the phone's screen
    page.screenshot(path=str(shots / "board-phone.png"))
    page.goto(site_url)
    expect(page.locator("#overdue a", has_text="AlphaGo")).to_be_visible()


def test_the_built_folder_opens_from_disk_with_search(browser, board):
    page = new_page(browser)
    page.goto((board / "index.html").as_uri())
    page.get_by_label("Find a model by name, alias or lab").fill("gpt-2")
    expect(page.locator("#search-results a", has_text="GPT-2").first).to_be_visible()
