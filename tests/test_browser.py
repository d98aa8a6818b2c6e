"""The report in a real browser: headless Debian Chromium through Selenium.

Uses the real London report for the latest year (the session's ``real_reports`` fixture), serves it on 127.0.0.1 (http.server in a
thread), opens index.html and one notebook page, and checks that every <img> loaded
(naturalWidth > 0) and carries alt text, and that the browser console logged nothing SEVERE
(a missing file, a blocked CDN script, a favicon 404...). A screenshot of each page is saved
under artifacts/browser/ and its path printed.

On a phone-sized screen (375px wide, emulated through the DevTools protocol) the index must not
scroll sideways and its text must stay readable; and no narrative page may show a table as
preformatted text (a ``<pre>`` of more than three lines outside the code): tables are HTML.

Needs /usr/bin/chromium and /usr/bin/chromedriver (``make browser``). Without them the test is
skipped locally, but fails in CI (``CI=true``), where the browser must be installed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from conftest import serve_folder

pytestmark = pytest.mark.slow  # builds reports or runs notebooks

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOK_STEMS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: An iPhone-sized screen: 375 CSS pixels wide, a mobile viewport (the page's viewport meta applies).
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"{' and '.join(missing)} not installed (Debian packages chromium, chromium-driver; `make browser`)"
        if _in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def served_report(real_reports):
    _require_browser()
    folder = real_reports[("London", "2025")]

    with serve_folder(folder) as url:
        yield url


@pytest.fixture(scope="module")
def browser(served_report):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="lva-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1800"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        import shutil

        shutil.rmtree(profile, ignore_errors=True)


BROKEN_IMAGES_JS = """
return Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.src.slice(0, 120));
"""


def _screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height), 8000)))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


@pytest.mark.parametrize("page", ["index.html", "01_homicide_decline.html"])
def test_page_renders_with_all_images_and_a_clean_console(browser, served_report, page):
    browser.get_log("browser")  # drop anything logged before this page
    browser.get(f"{served_report}/{page}")
    browser.execute_script("return document.readyState")  # get() waits for the load event
    count = browser.execute_script("return document.images.length")
    assert count > 0, "the page shows no chart"
    assert browser.execute_script(BROKEN_IMAGES_JS) == []
    alts = browser.execute_script("return Array.from(document.images).map(img => img.alt)")
    assert all(alt and "No description" not in alt for alt in alts), alts
    shot = _screenshot(browser, f"fixture_{page.removesuffix('.html')}")
    assert shot.stat().st_size > 0
    severe = [entry for entry in browser.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == [], severe


@contextlib.contextmanager
def phone_screen(driver):
    """Emulate a phone's screen for the pages loaded inside the block (the window keeps its size)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


OVERFLOW_JS = """
const root = document.documentElement;
const wide = Array.from(document.body.querySelectorAll('*'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''));
return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, wide: wide,
        fontSize: parseFloat(getComputedStyle(document.body).fontSize)};
"""


def test_index_fits_a_phone_screen_without_sideways_scrolling(browser, served_report):
    with phone_screen(browser):
        browser.get(f"{served_report}/index.html")
        seen = browser.execute_script(OVERFLOW_JS)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**PHONE, "deviceScaleFactor": 1,
                                                                       "height": max(812, min(int(height), 8000))})
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "index_phone.png"))
        print(f"screenshot: {ARTIFACTS / 'index_phone.png'}")
    assert seen["innerWidth"] == PHONE["width"], seen  # the emulation took effect and the viewport meta is there
    assert seen["scrollWidth"] <= seen["innerWidth"] + 1, seen
    assert seen["fontSize"] >= 15, seen  # readable without zooming


LONG_PRE_JS = """
return Array.from(document.querySelectorAll('pre'))
  .filter(pre => !pre.closest('.jp-InputArea, .jp-MarkdownCell'))
  .map(pre => pre.innerText.replace(/\\s+$/, ''))
  .filter(text => text.split('\\n').length > 3)
  .map(text => text.split('\\n').slice(0, 4).join(' | ').slice(0, 160));
"""


@pytest.mark.parametrize("stem", NOTEBOOK_STEMS)
def test_narrative_page_shows_no_table_as_preformatted_text(browser, served_report, stem):
    """Outputs are prose, HTML tables and charts; a <pre> of more than three lines outside the
    code is a table (or a dump) printed as text, unreadable on a phone."""
    browser.get(f"{served_report}/{stem}.html")
    assert browser.execute_script(LONG_PRE_JS) == []
