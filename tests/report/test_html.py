"""The report file and the words the page and the report share."""
import json
import re

from k2d3.report import html, payload


def test_embedded_data_cannot_close_its_script_element():
    sections = {"regimen": {"note": "</script><script>alert(1)</script>"}, "days": 30.0}
    text = html.render(sections)
    assert "</script><script>alert(1)" not in text
    raw = re.search(r'<script id="k2d3-data" type="application/json">(.*?)</script>', text, re.S).group(1)
    assert json.loads(raw) == sections
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)     # nothing fetched: works offline
    assert "Plotly" in text and "K2D3.renderReport" in text


def test_comparison_sentence_in_words_and_numbers():
    row = {"unit": "nmol/L", "floor": 0.075, "end_placebo": 48.0, "end_D": 95.0, "end_K": 48.0, "end_DK": 95.02,
           "effect_D": 47.0, "effect_K": 0.0, "interaction": 0.02, "class": "additive"}
    labels = {"placebo": "placebo", "D": "D3 alone", "K": "MK-7 alone", "DK": "D3 + MK-7"}
    text = payload.comparison_sentence("Vitamin D level", row, labels, 365)
    assert text.startswith("Vitamin D level after 365 days: placebo 48, D3 alone 95, MK-7 alone 48, D3 + MK-7 95 nmol/L.")
    assert "D3 alone raises it by 47 nmol/L, MK-7 alone leaves it about unchanged" in text
    assert "both together raise it by 47 nmol/L" in text and "(additive; interaction about 0 nmol/L)" in text


def test_dose_text_in_ug_iu_and_mg():
    assert payload.dose_text("D3", 47.0) == "47 ug/day (1880 IU)"
    assert payload.dose_text("MK-7", 180.0) == "180 ug/day"
    assert payload.dose_text("calcium", 500_000.0) == "500 mg/day"
