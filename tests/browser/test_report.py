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
