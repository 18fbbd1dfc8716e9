"""One person's own parameters from their lab results (``k2d3 fit``).

The same idea as the joint calibration, for one subject: the parameters that vary between
people (those with a ``cv`` in parameters.yaml) get the population distribution as their
prior, the person's measurements are the data, and the maximum a posteriori estimate is
their individual parameter set. What is fitted follows from what was measured: 25(OH)D
results inform the 25(OH)D clearance and the unexplained background vitamin D input (diet
and sun not described in the regimen; a result at day 0 instead makes day 0 the steady
state at that value, as ``baseline_25ohd_nmol_l`` does); INR results on an antagonist
inform the warfarin clearance. This is what model-informed precision dosing does for
warfarin (Hamberg 2010's Bayesian dose individualisation), applied to every lab the model
has.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables
from k2d3.model.build import parameters

#: Measurement error of one lab result, as the SD of its log (assumed: about 10 %, the
#: order of the between-laboratory CV of 25(OH)D assays and of INR point-of-care meters).
LAB_SD_LOG = 0.10
#: Prior of the background D3 input (diet and sun not in the regimen): lognormal around the
#: table value, SD of log 1.0 (assumed: sun and diet differ many-fold between people).
BACKGROUND_SD_LOG = 1.0
#: Physical limits of the lab values k2d3 accepts (outside: a typing error, not a person).
LIMITS = {"ohd25_nmol_l": (1.0, 2000.0), "inr": (0.5, 20.0), "calcium_mmol_l": (1.0, 5.0),
          "pth_pmol_l": (0.1, 300.0), "phosphate_mmol_l": (0.1, 5.0), "calcitriol_pmol_l": (1.0, 1000.0),
          "ucoc_fraction": (0.0, 1.0), "dp_ucmgp_pmol_l": (10.0, 20000.0), "k1_nmol_l": (0.0, 100.0),
          "mk7_nmol_l": (0.0, 100.0), "fasting_glucose_mg_dl": (20.0, 800.0), "hba1c_pct": (3.0, 20.0)}
#: Which between-subject parameters a measured observable informs.
INFORMED_BY = {"ohd25_nmol_l": ("cl_ohd25_70kg",), "inr": ("ke_warfarin",)}
MAX_LABS = 200


@dataclass(frozen=True)
class Lab:
    day: float
    observable: str
    value: float


def read_labs(text: str, source: str = "measurements") -> list[Lab]:
    """Lab results from CSV text with columns day, observable, value."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise InputError(source, "needs at least one measurement (columns: day, observable, value)")
    missing = {"day", "observable", "value"} - set(rows[0])
    if missing:
        raise InputError(source, f"lacks the column(s) {', '.join(sorted(missing))}")
    if len(rows) > MAX_LABS:
        raise InputError(source, f"holds {len(rows)} measurements; at most {MAX_LABS}")
    out = []
    for i, r in enumerate(rows, start=2):
        where = f"{source} line {i}"
        name = (r["observable"] or "").strip()
        if name not in observables.names():
            raise InputError(where, f"unknown observable {name!r} (see k2d3 observables)")
        try:
            day, value = float(r["day"]), float(r["value"])
        except (TypeError, ValueError):
            raise InputError(where, f"day and value must be numbers, got {r['day']!r} and {r['value']!r}") from None
        if not math.isfinite(day) or day < 0:
            raise InputError(where, f"day must be 0 or later, got {r['day']}")
        lo, hi = LIMITS.get(name, (0.0, math.inf))
        if not math.isfinite(value) or not lo <= value <= hi:
            raise InputError(where, f"{name} = {value:g} is outside its physical range {lo:g}-{hi:g}")
        out.append(Lab(day, name, value))
    return sorted(out, key=lambda lab: lab.day)


def read_labs_file(path: str | Path) -> list[Lab]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("--measurements", f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return read_labs(text, "--measurements")


@dataclass
class IndividualFit:
    subject: Subject
    regimen: Regimen
    labs: list[Lab]
    parameters: dict[str, float]           # the person's own values (overrides)
    population: dict[str, float]           # the table values they replace
    predicted: list[float]                 # the model's value at each lab
    fitted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"subject": self.subject.model_dump(exclude_none=True),
                "regimen": self.regimen.model_dump(exclude_none=True, mode="json"),
                "labs": [{"day": lab.day, "observable": lab.observable, "value": lab.value, "predicted": p}
                         for lab, p in zip(self.labs, self.predicted)],
                "parameters": self.parameters, "population_values": self.population, "fitted": self.fitted,
                "lab_sd_log": LAB_SD_LOG}

    @classmethod
    def from_dict(cls, data: dict) -> "IndividualFit":
        try:
            subject = Subject.from_dict(data["subject"], "fit.subject")
            regimen = Regimen.from_dict(data["regimen"])
            labs = [Lab(float(x["day"]), x["observable"], float(x["value"])) for x in data["labs"]]
            params = {str(k): float(v) for k, v in data["parameters"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("--fit", f"not a k2d3 fit file ({exc})") from None
        unknown = [k for k in params if k not in parameters()]
        if unknown:
            raise InputError("--fit", f"unknown parameter(s) {', '.join(unknown)}")
        return cls(subject, regimen, labs, params, data.get("population_values", {}),
                   [x.get("predicted", math.nan) for x in data["labs"]], data.get("fitted", []))


def fit(subject: Subject, regimen: Regimen, labs: list[Lab]) -> IndividualFit:
    """The maximum a posteriori parameters of one person (module docstring)."""
    from scipy.optimize import least_squares

    if not labs:
        raise InputError("measurements", "needs at least one measurement")
    table = parameters()
    data = subject.model_dump(exclude_none=True)
    baseline = [lab for lab in labs if lab.observable == "ohd25_nmol_l" and lab.day == 0]
    if baseline and "baseline_25ohd_nmol_l" not in subject.model_fields_set:
        data["baseline_25ohd_nmol_l"] = baseline[0].value
    subject = Subject.from_dict(data)
    names = [n for lab in labs for n in INFORMED_BY.get(lab.observable, ())]
    names = list(dict.fromkeys(n for n in names if table[n].cv))
    later_25ohd = [lab for lab in labs if lab.observable == "ohd25_nmol_l" and lab.day > 0]
    fit_background = bool(later_25ohd) and subject.baseline_25ohd_nmol_l is None
    if fit_background:
        names.append("d3_background_input")
    sd = [BACKGROUND_SD_LOG if n == "d3_background_input" else math.sqrt(math.log1p(table[n].cv ** 2))
          for n in names]
    x0 = np.log([table[n].value for n in names])
    days = max(lab.day for lab in labs)
    times = sorted({0.0, *(lab.day for lab in labs)})

    def predict(x) -> np.ndarray:
        from k2d3.engine.simulate import simulate

        params = {n: float(math.exp(v)) for n, v in zip(names, x)}
        tc = simulate(subject, regimen, days=max(days, 1.0), times=times, parameters=params or None).timecourse
        return np.array([float(tc[lab.observable].loc[lab.day]) for lab in labs])

    obs = np.array([lab.value for lab in labs])

    def residuals(x) -> np.ndarray:
        pred = predict(x)
        data_r = (np.log(np.maximum(pred, 1e-9)) - np.log(np.maximum(obs, 1e-9))) / LAB_SD_LOG
        return np.concatenate([data_r, (x - x0) / np.array(sd)])

    if names:
        res = least_squares(residuals, x0, diff_step=1e-3, max_nfev=60)
        x = res.x
    else:
        x = x0
    est = {n: float(math.exp(v)) for n, v in zip(names, x)}
    return IndividualFit(subject, regimen, labs, est, {n: table[n].value for n in names}, predict(x).tolist(),
                         names)
