"""Real-browser smoke test: Playwright drives Debian's headless Chromium against `streamlit run app.py`.

Visits every page through the navigation, uploads a French `;`/decimal-comma CSV on the Data page,
checks the uploaded dataset stays the one shown across pages, changes a simulator input and sees the
comparison change, and asserts no page shows an exception. Full-page screenshots of every page are
saved to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("LOYALTY_CI"):
        raise RuntimeError(f"{CHROMIUM} is required in CI (LOYALTY_CI is set) but missing")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")

FRENCH_CSV = (
    "N° ticket;N° client;Date d'achat;Montant TTC (€);Magasin\r\n"
    "F-1;C001;02/01/2025 10:15;1 234,50;Lyon\r\n"
    "F-2;C002;15/01/2025 11:00;45,90;Paris\r\n"
    "F-3;;20/01/2025 12:30;12,00;Paris\r\n"
    "F-4;C001;31/01/2025 18:05;-45,90;Lyon\r\n"
    "F-5;C003;pas une date;10,00;Lyon\r\n"
    "F-6;C002;03/02/2025 09:00;99,99;Nice\r\n"
).encode("cp1252")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server():
    port = _free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-3000:])
    return proc, url


def _stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server():
    proc, url = _start_server()
    yield url
    _stop_server(proc)


@pytest.fixture()
def fresh_server():
    """A server that has served nothing yet: its first request is the deep link under test."""
    proc, url = _start_server()
    yield url
    _stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(120_000)
        yield pg
        browser.close()


def wait_idle(pg) -> None:
    """Wait until Streamlit has finished running the script."""
    pg.wait_for_timeout(800)
    pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    pg.wait_for_timeout(500)


def assert_no_exception(pg, name: str) -> None:
    exc = pg.locator('[data-testid="stException"]')
    assert exc.count() == 0, f"{name}: {exc.first.inner_text()[:2000]}"
    assert "Traceback" not in pg.locator('[data-testid="stMain"]').inner_text()


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def goto(pg, label: str) -> None:
    pg.locator('[data-testid="stSidebarNav"] a', has_text=label).first.click()
    wait_idle(pg)


NAV = ["Overview", "Data", "KPI dashboard", "Points & liability", "Segments", "Customer value", "Experiments",
       "What-if simulator", "Report"]


def test_deep_link_as_first_request_goes_through_the_router(server, page):
    """A shared link opened on a fresh server shows the page with the app's sidebar and its view state."""
    page.goto(server + "/kpis?kpi_from=2026-01-01&kpi_to=2026-06-30")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Program inputs" in sidebar and "KPI dashboard" in sidebar
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "KPI dashboard" in main
    assert "181 days" in main  # the previous period of 2026-01-01..2026-06-30 comes from the link
    assert_no_exception(page, "deep link")
    shot(page, "deep-link-kpis")


def test_deep_link_to_customer_value_on_a_fresh_server_keeps_its_view_state(fresh_server, page):
    """Another page, another fresh server: the link's horizon reaches the page, inside the router."""
    page.goto(fresh_server + "/clv?clv_h=24&clv_d=5")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Program inputs" in sidebar and "What-if simulator" in sidebar
    main = page.locator('[data-testid="stMain"]')
    assert "Customer value" in main.inner_text()
    assert main.locator("[data-testid='stSliderThumbValue']").first.inner_text().strip() == "24"
    assert "clv_h=24" in page.url
    assert_no_exception(page, "deep link clv")
    shot(page, "deep-link-clv")


def test_every_page_upload_and_simulator(server, page):
    page.goto(server)
    wait_idle(page)
    for label in NAV:
        goto(page, label)
        assert_no_exception(page, label)
        assert "Sample program" in page.locator('[data-testid="stMain"]').inner_text()
        shot(page, "sample-" + label.lower().replace(" ", "-"))

    # Upload a French export on the Data page.
    goto(page, "Data")
    upload = ARTIFACTS / "ventes_fr.csv"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(FRENCH_CSV)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(upload))
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert "rejected" in main.inner_text().lower()
    # 1 row in 6 rejected: the import is flagged and "Use this data" waits for a confirmation.
    assert "Check this import before using it" in main.inner_text()
    page.get_by_text("I have checked the rejected rows and totals").click()
    wait_idle(page)
    page.get_by_role("button", name="Use this data").click()
    wait_idle(page)
    assert_no_exception(page, "Data after upload")
    shot(page, "uploaded-data")

    for label in NAV:
        goto(page, label)
        assert_no_exception(page, f"{label} (uploaded)")
        assert "ventes_fr.csv" in page.locator('[data-testid="stMain"]').inner_text(), label
        shot(page, "uploaded-" + label.lower().replace(" ", "-"))


def test_simulator_input_changes_the_comparison(server, page):
    page.goto(server + "/simulator")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    grid = main.locator('[data-testid="stDataFrame"]').first
    before_pixels, before_url = grid.screenshot(), page.url
    # The second scenario's point value (the first column is the baseline).
    field = main.get_by_role("spinbutton", name="Point value (currency per point)").nth(1)
    field.fill("0.0200")
    field.press("Enter")
    wait_idle(page)
    assert_no_exception(page, "simulator after edit")
    grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    assert grid.screenshot() != before_pixels  # the comparison table shows other figures
    assert page.url != before_url  # and the link now carries the edited scenario
    shot(page, "simulator-edited")


# --- links, comparisons and the report (issues 1, 6, 8) ----------------------------------------------
def tile(pg, label: str) -> str:
    """The value and change shown on the KPI tile ``label``."""
    label_el = pg.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    return pg.locator('[data-testid="stMetric"]').filter(has=label_el).first.inner_text()


def test_a_link_with_program_inputs_shows_their_figures_and_copy_link_reproduces_them(server, page):
    from loyalty import load_sample
    from loyalty.kpis import compute_kpis, default_period

    sample = load_sample()
    k = compute_kpis(sample, *default_period(sample), 0.008, 0.45, monthly_platform_cost=500.0)
    expected = f"{k['program_roi']:.1%}"
    assert expected != "34.4%"  # the defaults' figure, what the recipient saw before
    page.goto(server + "/kpis?pv=0.008&gm=45&pc=500&cur=%24")
    wait_idle(page)
    assert_no_exception(page, "kpis with inputs")
    assert expected in tile(page, "Program ROI") and "$" in tile(page, "Revenue")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Copy link").click()
    wait_idle(page)
    link = sidebar.locator('[data-testid="stCode"]').inner_text().strip()
    assert link.startswith(server + "/kpis?") and "gm=45" in link and "pv=0.008" in link
    assert "gross margin 45%" in sidebar.inner_text()  # it says what the link holds
    shot(page, "copy-link")
    page.goto(link)  # the recipient: a new session from the copied link
    wait_idle(page)
    assert expected in tile(page, "Program ROI")


def test_a_period_starting_at_the_data_start_shows_no_comparison(server, page):
    page.goto(server + "/kpis?kpi_from=2023-11-01&kpi_to=2024-10-31")
    wait_idle(page)
    assert_no_exception(page, "kpis at the data start")
    assert "no comparison (data starts 01 Nov 2023)" in tile(page, "Revenue")
    assert "No comparison" in page.locator('[data-testid="stMain"]').inner_text()
    shot(page, "kpis-no-comparison")


def test_the_report_states_the_period_just_chosen_on_the_kpi_page(server, page):
    page.goto(server + "/kpis")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    for side, digits in (("start", "20260101"), ("end", "20260131")):
        main.get_by_role("spinbutton", name=f"year, Period (both days included) {side} date").click()
        page.keyboard.type(digits, delay=50)
    main.locator("h1").first.click()  # the date input sends its value when it loses focus
    wait_idle(page)
    assert "01 Dec 2025 – 31 Dec 2025" in main.inner_text()  # the KPI page took the period
    goto(page, "Report")  # the navigation drops the query string: the session keeps the period
    assert_no_exception(page, "report")
    text = " ".join(page.locator('[data-testid="stMain"]').inner_text().split())
    assert "KPI summary for 01 Jan 2026 – 31 Jan 2026" in text
    shot(page, "report-period-from-kpis")
