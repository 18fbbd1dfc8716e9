"""The estimated parameters and their priors (``data/estimated.yaml``)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.model.build import parameters

#: SD of log(value) by where the value comes from (data/estimated.yaml explains the rule).
SD_BY_EVIDENCE = {"clinical": 0.3, "observational": 0.5, "preclinical": 0.7, "assumed": 1.0}
SD_FITTED = 1.0
BOUND_SDS = 4.0


@dataclass(frozen=True)
class Prior:
    name: str
    group: str
    median: float          # the parameters.yaml value
    sd_log: float
    lower: float
    upper: float
    reason: str

    def penalty(self, value: float) -> float:
        """The prior's residual: (log value - log median) / sd_log."""
        return (math.log(value) - math.log(self.median)) / self.sd_log


def _sd(p) -> tuple[float, str]:
    source = (p.prior_source or p.source).strip().lower()
    if source.startswith(("calibrated", "derived")):
        return SD_FITTED, "an earlier fit set it: wide prior"
    if p.evidence == "assumed" or source.startswith("assumed"):
        return SD_BY_EVIDENCE["assumed"], "assumed value: wide prior"
    return SD_BY_EVIDENCE[p.evidence], f"{p.evidence} source"


@functools.cache
def priors() -> tuple[Prior, ...]:
    raw = yaml.safe_load(resources.files("k2d3.calibration").joinpath("data/estimated.yaml").read_text())
    table = parameters()
    out = []
    for group, entries in raw.items():
        for name, opts in entries.items():
            if name not in table:
                raise ValueError(f"estimated.yaml: {name} is not in parameters.yaml")
            p, opts = table[name], opts or {}
            median = p.prior if p.prior is not None else p.value  # parameters.yaml's value, not an estimate
            sd, reason = (float(opts["sd_log"]), opts["reason"]) if "sd_log" in opts else _sd(p)
            lower = median * math.exp(-BOUND_SDS * sd)
            upper = median * math.exp(BOUND_SDS * sd)
            if "upper" in opts:
                upper = min(upper, float(opts["upper"]))
            out.append(Prior(name, group, median, sd, lower, upper, reason))
    return tuple(out)


def names() -> list[str]:
    return [p.name for p in priors()]
