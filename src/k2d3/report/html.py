"""The self-contained HTML report: one file, figures embedded and interactive, no network.

It is the web page's result view, offline: the sections (``payload.collect``) are embedded
as JSON and drawn by the page's own drawing code (``web/static/render.js``) with Plotly.js
from the installed plotly package, all inlined. So the report shows the same figures,
captions, tables, evidence levels and warnings as the page.
"""
from __future__ import annotations

import html
import json
from datetime import date
from importlib import resources
from pathlib import Path

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="k2d3 {version}">
<title>{title}</title>
<style>{css}</style>
</head>
<body class="report">
<header><h1>{title}</h1><p class="sub">k2d3 {version}, {today}. Everything below was computed by the model
for the regimen listed at the end; the figures are interactive (hover for values).</p></header>
<main id="results" aria-live="polite"><p class="muted" id="needs-js">This report draws its figures with
JavaScript; open it in a web browser with JavaScript on.</p></main>
<script>{plotly}</script>
<script>{render}</script>
<script id="k2d3-data" type="application/json">{data}</script>
<script>
document.getElementById("needs-js").remove();
K2D3.renderReport(JSON.parse(document.getElementById("k2d3-data").textContent),
                  document.getElementById("results"));
</script>
</body>
</html>
"""


def plotly_js() -> Path:
    """Plotly.js as shipped inside the installed plotly package (no CDN: works offline)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _static(name: str) -> str:
    return resources.files("k2d3.web").joinpath("static", name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that cannot close the <script> element it sits in."""
    return text.replace("</", "<\\/")


def render(sections: dict, title: str = "k2d3 report: vitamins D3 and K2") -> str:
    """The report HTML for ``sections`` (``report.payload.collect``'s dict)."""
    import k2d3

    data = json.dumps(sections, allow_nan=False, separators=(",", ":"))
    return _TEMPLATE.format(
        version=k2d3.__version__, title=html.escape(title), today=date.today().isoformat(),
        css=_static("style.css"), plotly=Path(plotly_js()).read_text(encoding="utf-8"),
        render=_script_safe(_static("render.js")), data=_script_safe(data))
