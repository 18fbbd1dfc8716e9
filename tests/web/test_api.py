"""The JSON API as a client meets it: the same numbers as the library, 422 naming the field for
bad or too large input, long requests as background jobs with progress, downloads."""
import csv
import io
import json
import re
import time

import pytest
from fastapi.testclient import TestClient

import k2d3
from k2d3.inputs import foods
from k2d3.web.app import MAX_BODY_BYTES, create_app

WARFARIN_MK7 = {"subject": {"age": 70, "sex": "male", "weight_kg": 80, "height_cm": 178},
                "medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}],
                "supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"},
                                {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(workers=1)) as c:
        yield c


def assert_names(r, status: int, field: str) -> dict:
    """The 4xx contract: the status, and a body naming the field and the problem."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["field"] == field, body
    assert body["problem"] and body["error"] == f"{field}: {body['problem']}"
    return body


def test_observables_and_foods(client):
    obs = {o["name"]: o for o in client.get("/api/observables").json()}
    assert obs["ohd25_nmol_l"]["reference_range"] == [50, 125]
    assert obs["ohd25_nmol_l"]["plain"] == "Vitamin D level"
    natto = client.get("/api/foods", params={"search": "natto"}).json()
    assert [f["name"] for f in natto] == ["natto"]
    assert natto[0]["per_100g_ug"]["mk7_ug"] == foods.find("natto").per_100g["mk7_ug"] > 100


def test_simulate_gives_the_library_numbers_and_the_warfarin_warnings(client):
    r = client.post("/api/simulate", json={"regimen": WARFARIN_MK7, "days": 60})
    assert r.status_code == 200, r.text
    data = r.json()
    direct = k2d3.simulate(None, k2d3.Regimen.from_dict(WARFARIN_MK7), days=60).timecourse
    assert data["timecourse"]["day"] == list(range(61))
    for name in ("ohd25_nmol_l", "inr", "dp_ucmgp_pmol_l"):
        assert data["timecourse"][name] == pytest.approx(direct[name].tolist(), rel=1e-9)
    assert [c["name"] for c in data["charts"]] == ["ohd25_nmol_l", "calcium_mmol_l", "pth_pmol_l", "ucoc_ng_ml",
                                                  "dp_ucmgp_pmol_l", "inr", "bmd_lumbar_spine_pct_change",
                                                  "fasting_glucose_mg_dl"]
    assert all(c["band"] is None and c["evidence"] and c["caption"] for c in data["charts"])
    codes = [w["code"] for w in data["warnings"]]
    assert "vka_vitamin_k_change" in codes and "vka_vitamin_k_intake" in codes
    change = next(w for w in data["warnings"] if w["code"] == "vka_vitamin_k_change")
    assert change["change_pct"] < -10 and change["source"]


def test_simulate_returns_only_the_columns_asked_for_and_the_charted_ones(client):
    data = client.post("/api/simulate", json={"regimen": WARFARIN_MK7, "days": 60, "observables": ["mk7_nmol_l"]}).json()
    assert set(data["timecourse"]) == {"day", "mk7_nmol_l", *(c["name"] for c in data["charts"])}


def test_no_inr_chart_without_an_anticoagulant(client):
    data = client.post("/api/simulate", json={"regimen": {}, "days": 10}).json()
    assert "inr" not in [c["name"] for c in data["charts"]] and len(data["charts"]) == 7


def test_compare_has_four_arms_and_sentences(client):
    r = client.post("/api/compare", json={"regimen": WARFARIN_MK7, "days": 60})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["arms"] == {"placebo": "placebo", "D": "D3 alone", "K": "MK-7 alone", "DK": "D3 + MK-7"}
    row = data["observables"]["inr"]
    assert row["end_K"] < row["end_placebo"] - 0.5           # MK-7 180 ug/day pushes warfarin's INR back
    assert "MK-7 alone lowers it by" in data["sentences"]["inr"]
    assert set(data["timecourses"]) == {"placebo", "D", "K", "DK"}


def test_intake_and_plan(client):
    intake = client.post("/api/intake", json={"regimen": WARFARIN_MK7, "days": 60}).json()
    d = next(g for g in intake["totals"] if g["group"] == "vitamin D (D3+D2)")
    assert d["intake"] == pytest.approx(50.0)
    assert intake["sentences"][0].startswith("vitamin D (D3+D2): 50 ug/day")
    r = client.post("/api/plan", json={"regimen": {"subject": {"age": 45}},
                                       "targets": [{"observable": "ohd25_nmol_l", "op": ">=", "value": 75}],
                                       "forms": ["D3"], "horizon_days": 120})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["safe"] and plan["met"] and plan["reached"]["ohd25_nmol_l>=75"] >= 75
    assert plan["answer"].startswith("To reach ohd25_nmol_l>=75") and "D3" in plan["answer"]


@pytest.mark.parametrize("path, body, field", [
    ("/api/simulate", {"days": 5000}, "days"),
    ("/api/simulate", {"regimen": {"days": 10000}}, "regimen.days"),
    ("/api/simulate", {"regimen": {"subject": {"weight_kg": 500}}}, "regimen.subject.weight_kg"),
    ("/api/simulate", {"regimen": {"subject": {"height_cm": 90}}}, "regimen.subject.height_cm"),
    ("/api/simulate", {"regimen": {"supplements": [{"compound": "D3", "dose": "5 parsecs", "every": "1 day"}]}},
     "regimen.supplements.0.dose"),
    ("/api/simulate", {"regimen": {"supplements": [{"compound": "D4", "dose": "5 ug", "every": "1 day"}]}},
     "regimen.supplements.0.compound"),
    ("/api/simulate", {"regimen": {"diet": [{"food": "nato", "grams": 40, "every": "1 day"}]}},
     "regimen.diet.0.food"),
    ("/api/simulate", {"regimen": {"supplements": [{"compound": "D3", "dose": "5 ug", "every": "1 s"}]},
                       "days": 3650}, "regimen.supplements.0.every"),
    ("/api/simulate", {"regimen": {"supplements": [{"compound": "D3", "dose": "5 ug", "every": "1 min"}]},
                       "days": 100}, "regimen.supplements.0.every"),
    ("/api/simulate", {"regimen": {"medications": [{"drug": "warfarin", "target_inr": 9}]}},
     "regimen.medications.0.target_inr"),
    ("/api/simulate", {"regimen": {}, "colour": "blue"}, "colour"),
    ("/api/compare", {"regimen": {"supplements": [{"compound": "D3", "dose": "5 ug", "every": "1 day"}]}},
     "regimen.supplements"),
    ("/api/compare", {"regimen": WARFARIN_MK7, "population": {"n": 5000}}, "population.n"),
    ("/api/compare", {"regimen": WARFARIN_MK7, "population": {"n": 200}, "days": 3650}, "population.n"),
    ("/api/simulate", {"regimen": {"subject": {"fasting_glucose_mg_dl": 40}}, "days": 5},
     "regimen.subject.fasting_glucose_mg_dl"),
    ("/api/plan", {"targets": [{"observable": "ohd25", "value": 75}]}, "targets.0.observable"),
    ("/api/plan", {"targets": []}, "targets"),
    ("/api/plan", {"targets": [{"observable": "ohd25_nmol_l", "value": -3}]}, "targets"),
    ("/api/report", {"regimen": WARFARIN_MK7, "plan": {"targets": [{"observable": "inr", "value": -1}]}},
     "plan.targets"),
    ("/api/report", {"regimen": WARFARIN_MK7, "plan": {"targets": [{"observable": "ohd25_nmol_l", "value": 75}],
                                                       "forms": ["D5"]}}, "plan.forms.0"),
])
def test_bad_or_too_large_input_is_a_422_naming_the_field(client, path, body, field):
    assert_names(client.post(path, json=body), 422, field)


def test_malformed_and_oversized_bodies_and_unknown_paths(client):
    assert_names(client.post("/api/simulate", content=b"{bad", headers={"content-type": "application/json"}),
                 422, "body")
    big = json.dumps({"regimen": {"supplements": [{"compound": "D3", "dose": "1 ug", "on_days": [0] * 200000}]}})
    assert len(big) > MAX_BODY_BYTES
    assert_names(client.post("/api/simulate", content=big, headers={"content-type": "application/json"}), 413, "body")
    assert_names(client.get("/api/nothing"), 404, "path")
    assert_names(client.get("/api/jobs/0123"), 404, "path")
    assert_names(client.get("/download/timecourse.csv", params={"request": "{"}), 422, "request")


def test_csv_download_has_every_observable_daily(client):
    request = {"regimen": WARFARIN_MK7, "days": 60}
    r = client.get("/download/timecourse.csv", params={"request": json.dumps(request)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:2] == ["day", "ohd25_nmol_l"] and len(rows[0]) == 1 + len(k2d3.simulate(None, None, days=1).timecourse.columns)
    assert len(rows) == 62 and float(rows[-1][0]) == 60


def test_report_embeds_every_section(client):
    r = client.post("/api/report", json={"regimen": WARFARIN_MK7, "days": 60})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'filename="k2d3-report.html"' in r.headers["content-disposition"]
    data = json.loads(re.search(r'<script id="k2d3-data" type="application/json">(.*?)</script>', r.text,
                                re.S).group(1))
    assert set(data) >= {"simulation", "comparison", "intake", "regimen", "days"}
    assert list(data["comparison"]["arms"]) == ["placebo", "D", "K", "DK"]
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", r.text)   # nothing to fetch: works offline


def test_long_request_runs_as_a_job_with_progress_and_too_long_is_refused():
    with TestClient(create_app(workers=1, sync_budget_s=0.0, job_limit_s=20.0, max_waiting=1)) as c:
        r = c.post("/api/simulate", json={"regimen": WARFARIN_MK7, "days": 30})
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["state"] in ("queued", "running") and 0 <= job["progress"] < 1
        assert r.headers["location"] == job["status_url"]
        busy = c.post("/api/simulate", json={"regimen": WARFARIN_MK7, "days": 31})
        assert_names(busy, 429, "server")
        early = c.get(job["status_url"] + "/result")
        if c.get(job["status_url"]).json()["state"] != "done":
            assert_names(early, 409, "job_id")
        seen = []
        deadline = time.monotonic() + 120
        while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
            job = c.get(job["status_url"]).json()
            seen.append(job["progress"])
        assert job["state"] == "done" and job["progress"] == 1.0
        assert all(0 <= p <= 1 for p in seen) and seen == sorted(seen)
        result = c.get(job["result_url"]).json()
        assert result["timecourse"]["day"][-1] == 30
        assert_names(c.post("/api/simulate", json={"regimen": WARFARIN_MK7, "days": 3650}), 422, "days")
