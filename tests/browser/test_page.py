"""The web page as a person uses it, in headless chromium against `k2d3 serve`: warfarin with
MK-7 and D3, run, then the charts, the 2x2 table, the warfarin warning, the shared address,
a phone-width screen and the downloads."""
import pytest

RUN_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def server(live_server):
    return live_server("--workers", "2")


def run_and_wait(page):
    page.click("#run")
    page.wait_for_function("/^(Done|Stopped)/.test(document.getElementById('status').textContent)",
                           timeout=RUN_TIMEOUT_MS)


def assert_no_error(page, errors):
    assert page.locator("#error").is_hidden(), page.inner_text("#error")
    assert page.inner_text("#status") == "Done."
    assert not errors, errors


def test_warfarin_and_mk7_regimen(server, browser, page_errors, tmp_path):
    page = page_errors.watch(browser.new_page(viewport={"width": 1200, "height": 900}))
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("input[name=age]", "70")
    page.select_option("select[name=sex]", "male")
    page.fill("input[name=weight_kg]", "80")
    page.fill("input[name=height_cm]", "178")
    page.select_option("select[name=drug]", "warfarin")
    page.select_option("select[name=drug_by]", "dose")
    page.fill("input[name=drug_mg]", "5")
    rows = page.locator("#supplements .item")
    assert rows.count() == 2
    rows.nth(0).locator("[name=s_compound]").select_option("D3")
    rows.nth(0).locator("[name=s_dose]").fill("2000")
    rows.nth(0).locator("[name=s_unit]").select_option("IU")
    rows.nth(1).locator("[name=s_compound]").select_option("MK-7")
    rows.nth(1).locator("[name=s_dose]").fill("180")
    rows.nth(1).locator("[name=s_unit]").select_option("ug")
    page.select_option("select[name=days]", "182")
    run_and_wait(page)
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 50_000
    assert_no_error(page, page_errors)

    # every time course is drawn: the Plotly SVG of each chart has a trace, INR included
    charts = page.locator("#projection-out figure.chart")
    names = [charts.nth(i).get_attribute("data-observable") for i in range(charts.count())]
    assert names == ["ohd25_nmol_l", "calcium_mmol_l", "pth_pmol_l", "ucoc_ng_ml", "dp_ucmgp_pmol_l", "inr",
                     "bmd_lumbar_spine_pct_change", "fasting_glucose_mg_dl"]
    for i in range(charts.count()):
        assert charts.nth(i).locator(".main-svg .scatterlayer .trace").count() >= 1, names[i]
        assert charts.nth(i).locator(".evidence").inner_text().startswith("evidence: ")
        assert charts.nth(i).locator("figcaption").inner_text().strip()
    assert page.locator("abbr[title*='ohd25_nmol_l']").count() >= 1      # technical name on hover

    # the 2x2 comparison: four arms as columns, a sentence per row
    head = page.locator("table.two-by-two thead th").all_inner_texts()
    assert head[1:5] == ["placebo", "D3 alone", "MK-7 alone", "D3 + MK-7"]
    assert page.locator("table.two-by-two tbody tr").count() == 8
    assert "MK-7 alone lowers it by" in page.inner_text("#comparison")

    # the warfarin warning, with its source
    warnings = page.locator("li.warning[data-code^='vka_']")
    assert warnings.count() >= 1
    text = warnings.first.inner_text()
    assert "warfarin" in text and "Source:" in text

    # the dose finder (long enough to run as a background job: the page polls its progress)
    page.select_option("select[name=plan_observable]", "ohd25_nmol_l|>=")
    page.fill("input[name=plan_value]", "75")
    page.select_option("select[name=plan_forms]", "D3")
    page.click("#plan-run")
    page.wait_for_selector("#plan-out .answer", timeout=RUN_TIMEOUT_MS)
    assert page.inner_text("#plan-out .answer").startswith("To reach ohd25_nmol_l>=75")
    assert page.locator("#plan-out table tbody tr").count() == 1
    assert page.locator("#error").is_hidden(), page.inner_text("#error")

    # downloads: the CSV link and the report
    csv = page.request.get(page.eval_on_selector("#dl-csv", "a => a.href"))
    assert csv.status == 200 and csv.text().startswith("day,ohd25_nmol_l")
    assert len(csv.text().splitlines()) == 184
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as dl:
        page.click("#dl-report")
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    assert 'id="k2d3-data"' in report.read_text()

    # the address keeps the form: opening it again restores and reruns the same regimen
    shared = page.url
    assert "?s=" in shared
    again = page_errors.watch(browser.new_page(viewport={"width": 390, "height": 844}))
    again.goto(shared)
    again.wait_for_function("/^(Done|Stopped)/.test(document.getElementById('status').textContent)",
                            timeout=RUN_TIMEOUT_MS)
    assert_no_error(again, page_errors)
    assert again.input_value("input[name=age]") == "70" and again.input_value("select[name=drug]") == "warfarin"
    assert again.locator("#supplements .item").count() == 2
    assert again.locator("#projection-out .scatterlayer .trace").count() >= 8
    # phone width: nothing wider than the screen
    assert again.evaluate("document.documentElement.scrollWidth") <= 390
    again.screenshot(path=str(tmp_path / "phone.png"), full_page=True)


def test_bad_input_shows_the_field_instead_of_results(server, browser, page_errors):
    page = page_errors.watch(browser.new_page())
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("input[name=weight_kg]", "500")
    run_and_wait(page)
    assert page.locator("#error").is_visible()
    assert "regimen.subject.weight_kg" in page.inner_text("#error")
    assert page.locator("input[name=weight_kg].invalid").count() == 1
    assert page.locator("#projection-out .chart").count() == 0
