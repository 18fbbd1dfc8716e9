"""`k2d3 report`: one self-contained HTML file whose figures draw in headless chromium with
every network request refused."""
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_report_draws_offline(browser, page_errors, tmp_path):
    out = tmp_path / "report.html"
    p = subprocess.run([sys.executable, "-m", "k2d3.cli", "report", str(EXAMPLES / "d3_k2_factorial.yaml"),
                        "--days", "180", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    context = browser.new_context(offline=True)
    asked = []

    def refuse(route):
        if route.request.url.startswith("file://"):
            return route.continue_()
        asked.append(route.request.url)
        return route.abort()

    context.route("**/*", refuse)
    page = page_errors.watch(context.new_page())
    page.goto(out.as_uri())
    page.wait_for_selector("#comparison figure.chart .main-svg")
    assert asked == [] and page_errors == []

    figures = page.locator("figure.chart")
    # 7 time courses (no anticoagulant: no INR) and the same 7 with the four arms
    assert figures.count() == 14
    for i in range(figures.count()):
        assert figures.nth(i).locator(".scatterlayer .trace").count() >= 1
        assert figures.nth(i).locator("figcaption").inner_text().strip()
        assert figures.nth(i).locator(".evidence").count() == 1
    assert page.locator("#comparison .scatterlayer .trace").count() >= 4 * 7
    head = page.locator("table.two-by-two thead th").all_inner_texts()
    assert head[1:5] == ["placebo", "D3 alone", "MK-7 alone", "D3 + MK-7"]
    assert "not medical advice" in page.inner_text(".not-advice")
    assert page.locator("#intake table").count() == 2
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_an_uncertainty_band_is_drawn_where_the_run_has_one(browser, page_errors, tmp_path):
    """The band of ``simulate(uncertainty=True)`` (5th/95th percentiles) reaches the charts:
    here a run given a band of its own values x0.9 and x1.1."""
    import k2d3
    from k2d3.report import html, payload

    result = k2d3.simulate(None, None, days=20)
    result.band = {"p5": result.timecourse * 0.9, "p95": result.timecourse * 1.1}
    sim = payload.simulation(result, [])
    assert sim["charts"][0]["band"]["upper"][-1] == 1.1 * result.timecourse["ohd25_nmol_l"].iloc[-1]
    assert sim["band_note"] == payload.BAND_LABEL
    out = tmp_path / "band.html"
    out.write_text(html.render({"simulation": sim, "intake": payload.run_intake(k2d3.Regimen(), 20.0),
                                "regimen": {}, "days": 20.0}))
    page = page_errors.watch(browser.new_page())
    page.goto(out.as_uri())
    page.wait_for_selector("figure.chart .main-svg")
    assert page_errors == []
    figures = page.locator("figure.chart")
    for i in range(figures.count()):
        assert figures.nth(i).locator(".scatterlayer .trace").count() == 3      # lower, upper (filled), line
        assert figures.nth(i).locator(".scatterlayer path.js-fill").count() >= 1
