"""The pages in a real browser: Debian's Chromium, headless, driven by Selenium,
against the app served by uvicorn on a free port with the bundled sample company
(both databases). Skipped when Chromium is absent, except under CI (CI=... set),
where a missing browser fails.

Screenshots of `/` and the billing page at 1280 and 390 px go to
$LP_SCREENSHOT_DIR when set, else to a folder under pytest's tmp dir; the test
prints the paths.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy.engine import Engine

from app.main import create_app
from tests.app.helpers import served
from tests.web.conftest import synced, wipe
from tests.web.helpers import figures, page_figures, shown, stage_figures

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SAMPLE_LATEST = "2026-10-31"  # the sample company's newest day

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    message = (
        "browser tests need Debian's Chromium: apt-get install -y chromium chromium-driver "
        f"({CHROMIUM} and {CHROMEDRIVER})"
    )
    if os.environ.get("CI"):
        raise RuntimeError(f"CI is set and Chromium is missing: {message}")
    pytest.skip(message, allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only once Chromium is known to be there)
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def base_url(backend_engine: Engine) -> Iterator[str]:
    """The sample company served by uvicorn in a thread."""
    wipe(backend_engine)
    runtime = synced(backend_engine, None)
    with served(create_app(runtime=runtime, start_scheduler=False)) as base:
        yield base
    wipe(backend_engine)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options
    )
    yield driver
    driver.quit()


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    """The browser, checked after the test for console errors."""
    browser.set_window_size(1280, 900)
    browser.get_log("browser")  # drop what earlier tests left
    yield browser
    problems = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == [], problems


def _follow(driver: WebDriver, element: WebElement, keys: str | None = None) -> None:
    """Click `element` (or type `keys` into it) and wait for the page it leads to."""
    before = driver.current_url
    if keys is None:
        element.click()
    else:
        element.send_keys(keys)
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.current_url != before and d.execute_script("return document.readyState") == "complete"
        )
    )


def _query(driver: WebDriver) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(driver.current_url).query, keep_blank_values=True)


def _api(base_url: str, path: str, params: list[tuple[str, str]]) -> dict:
    response = httpx.get(base_url + path, params=[(k, v) for k, v in params if v != ""])
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def _assert_journey_equals_api(driver: WebDriver, base_url: str) -> dict:
    params = _query(driver)
    closed = dict(params).get("from") and dict(params).get("to")
    story = _api(
        base_url, "/api/v1/story", [*params, *([("compare", "previous")] if closed else [])]
    )
    want = stage_figures(story)
    assert shown(figures(driver.page_source), want) == want
    return story


def test_journey_renders_and_equals_the_api(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/")
    assert _query(page) == [("from", "2026-10-02"), ("to", SAMPLE_LATEST)]
    assert page.find_element(By.CSS_SELECTOR, "h1").text.startswith("The journey story")
    strip = page.find_elements(By.CSS_SELECTOR, "ol.strip > li.stage")
    assert [li.get_attribute("data-stage") for li in strip] == [
        "discover", "purchase", "onboard", "use", "support", "billing", "renew", "advocate",
    ]  # fmt: skip
    story = _assert_journey_equals_api(page, base_url)
    assert story["voices"] > 100
    shown = page.find_elements(By.CSS_SELECTOR, ".alerts li.alert")
    open_alerts = httpx.get(f"{base_url}/api/v1/alerts", params={"status": "open"}).json()
    acknowledged = httpx.get(f"{base_url}/api/v1/alerts", params={"status": "acknowledged"}).json()
    assert len(shown) == len(open_alerts) + len(acknowledged)
    if not shown:
        assert "No open alerts." in page.find_element(By.CSS_SELECTOR, ".alerts").text
    assert len(page.find_elements(By.CSS_SELECTOR, "svg.spark")) == 8


def test_period_controls(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/")
    _follow(page, page.find_element(By.CSS_SELECTOR, 'a[data-period="7d"]'))
    assert _query(page) == [("from", "2026-10-25"), ("to", SAMPLE_LATEST)]
    active = page.find_element(By.CSS_SELECTOR, ".periods a[aria-current]")
    assert active.get_attribute("data-period") == "7d"
    _assert_journey_equals_api(page, base_url)
    _follow(page, page.find_element(By.CSS_SELECTOR, 'a[data-period="quarter"]'))
    assert _query(page) == [("from", "2026-10-01"), ("to", SAMPLE_LATEST)]
    _assert_journey_equals_api(page, base_url)
    _follow(page, page.find_element(By.CSS_SELECTOR, 'a[data-period="all"]'))
    assert _query(page) == [("from", ""), ("to", "")]
    assert page.find_element(By.CSS_SELECTOR, '[data-k="period"]').text == "all time"
    _assert_journey_equals_api(page, base_url)
    # A custom period typed into the date fields.
    for field, value in (("f-from", "2026-09-01"), ("f-to", "2026-09-30")):
        page.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", field, value
        )
    _follow(page, page.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    assert _query(page) == [("from", "2026-09-01"), ("to", "2026-09-30")]
    assert "compared with 1 Aug 2026 – 31 Aug 2026" in page.find_element(By.TAG_NAME, "h1").text
    _assert_journey_equals_api(page, base_url)


def test_filter_controls(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/?from=2026-08-01&to=2026-10-31")
    Select(page.find_element(By.ID, "f-source")).select_by_value("touchpoint-nps")
    page.find_element(By.ID, "f-attr").send_keys("Touchpoint=First bill")
    _follow(page, page.find_element(By.ID, "f-attr"), Keys.ENTER)
    assert _query(page) == [
        ("from", "2026-08-01"),
        ("to", SAMPLE_LATEST),
        ("source", "touchpoint-nps"),
        ("attr.Touchpoint", "First bill"),
    ]
    story = _assert_journey_equals_api(page, base_url)
    assert 0 < story["voices"] < 100
    chip = page.find_element(By.CSS_SELECTOR, ".chips li")
    assert "Touchpoint = First bill" in chip.text
    Select(page.find_element(By.ID, "f-channel")).select_by_value("survey")
    _follow(page, page.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    assert ("channel", "survey") in _query(page)
    assert ("attr.Touchpoint", "First bill") in _query(page)  # kept by the form
    _assert_journey_equals_api(page, base_url)
    _follow(page, page.find_element(By.CSS_SELECTOR, ".chips li a"))
    assert all(not k.startswith("attr.") for k, _ in _query(page))
    _assert_journey_equals_api(page, base_url)


def test_stage_page_and_links(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/?from=2026-09-01&to=2026-09-30&channel=survey")
    _follow(page, page.find_element(By.CSS_SELECTOR, 'li[data-stage="billing"] h2 a'))
    assert urlsplit(page.current_url).path == "/stages/billing"
    params = _query(page)
    assert params == [("from", "2026-09-01"), ("to", "2026-09-30"), ("channel", "survey")]
    stage = _api(base_url, "/api/v1/stages/billing", [*params, ("compare", "previous")])
    found = figures(page.page_source)
    want = page_figures(stage)
    assert shown(found, want) == want
    assert page.find_element(By.CSS_SELECTOR, ".summary").text == stage["summary"]
    assert page.find_elements(By.CSS_SELECTOR, "svg.daily")
    # Another stage from the stage menu, then back to the journey with the same view.
    _follow(page, page.find_element(By.LINK_TEXT, "Support"))
    assert urlsplit(page.current_url).path == "/stages/support"
    assert _query(page) == params
    _follow(page, page.find_element(By.PARTIAL_LINK_TEXT, "The whole journey"))
    assert urlsplit(page.current_url).path == "/"
    assert _query(page) == params
    # A quote links to its item in the API.
    page.get(base_url + "/stages/billing?from=2026-09-01&to=2026-09-30")
    link = page.find_element(By.CSS_SELECTOR, ".quotes a[data-item]")
    item_id = int(link.get_attribute("data-item") or 0)
    quote = page.find_element(By.CSS_SELECTOR, ".quotes blockquote").text
    _follow(page, link)
    assert urlsplit(page.current_url).path == f"/api/v1/items/{item_id}"
    assert f'"id":{item_id}' in page.find_element(By.TAG_NAME, "body").text.replace(" ", "")
    assert quote.split()[0] in page.find_element(By.TAG_NAME, "body").text
    # The API's JSON has no <link rel=icon>: the browser asks for /favicon.ico there.
    left = [e for e in page.get_log("browser") if "favicon.ico" not in e["message"]]
    assert left == [], left


def test_bad_parameters_and_unknown_stage_are_4xx_pages(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/stages/nope?from=2026-09-01&to=2026-09-30")
    assert "no stage 'nope'" in page.find_element(By.CSS_SELECTOR, ".msg").text
    page.get_log("browser")  # the 404 itself is logged by the browser as a failed load
    page.get(base_url + "/?from=2026-09-30&to=2026-09-01")
    assert "must be before" in page.find_element(By.CSS_SELECTOR, ".msg").text
    page.get_log("browser")
    assert httpx.get(base_url + "/?from=x&to=").status_code == 400


def test_keyboard_focus_reaches_the_controls(page: WebDriver, base_url: str) -> None:
    page.get(base_url + "/?from=2026-10-02&to=2026-10-31")
    reached: list[str] = []
    outlines: dict[str, str] = {}
    keys = ActionChains(page)
    for _ in range(40):
        keys.send_keys(Keys.TAB).perform()
        focused = page.switch_to.active_element
        name = focused.get_attribute("id") or focused.get_attribute("data-period") or focused.text
        reached.append(name or focused.tag_name)
        # Each stop's focus ring; a date field takes several stops (day, month, year,
        # the picker button, whose ring Chromium draws itself): any of them counts.
        outlines[reached[-1]] = outlines.get(reached[-1], "none") + page.execute_script(
            "const s = getComputedStyle(arguments[0]); return s.outlineStyle + ' ' + s.boxShadow",
            focused,
        )
    assert reached[0] == "Skip to content"
    for control in (
        "7d",
        "30d",
        "quarter",
        "f-from",
        "f-to",
        "f-source",
        "f-channel",
        "f-attr",
        "Apply",
    ):
        assert control in reached, reached
        assert "solid" in outlines[control], (control, outlines[control])
    assert "Discover" in reached  # and on into the stage strip's links


def test_stage_page_prints_on_one_a4_page(page: WebDriver, base_url: str) -> None:
    for path in ("/stages/billing?from=2026-09-01&to=2026-09-30", "/stages/use?from=&to="):
        page.get(base_url + path)
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        options.background = True
        pdf = base64.b64decode(page.print_page(options))
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pages == 1, (path, pages)


def test_screenshots_at_desktop_and_phone_widths(
    page: WebDriver,
    base_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    backend_engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(os.environ.get("LP_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder = folder / backend_engine.dialect.name
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path in (
        ("journey", "/?from=2026-10-02&to=2026-10-31"),
        ("stage-billing", "/stages/billing?from=2026-09-01&to=2026-09-30"),
    ):
        for width in (1280, 390):
            page.set_window_size(width, 900)
            page.get(base_url + path)
            wide, room = page.execute_script(
                "const e = document.documentElement; return [e.scrollWidth, e.clientWidth]"
            )
            assert wide <= room, f"{path} is {wide}px wide in {room}px: it scrolls sideways"
            tables = page.execute_script(
                "return [...document.querySelectorAll('div.scroll')]"
                ".map(e => e.scrollWidth - e.clientWidth)"
            )
            assert all(extra <= 0 for extra in tables), (path, width, tables)  # tables fit
            height = page.execute_script("return document.documentElement.scrollHeight")
            page.set_window_size(width, height + 140)  # the window's frame takes some
            target = folder / f"{name}-{width}.png"
            assert page.save_screenshot(str(target))
            written.append(target)
    with capsys.disabled():  # shown in every run, not only with -s
        print("\nscreenshots:", *written, sep="\n  ")  # noqa: T201  (the brief: print the paths)
    assert all(p.stat().st_size > 10_000 for p in written)
