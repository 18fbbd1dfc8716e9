"""Request bodies of the JSON API. The regimen and subject are the input schema's own models
(``inputs.regimen.Regimen``), so the API accepts exactly what a regimen file holds."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from k2d3.analyses.plan import DEFAULT_FORMS, settings
from k2d3.inputs.regimen import Regimen
from k2d3.model import observables

#: Longest horizon the web runs (`k2d3 simulate` has no such limit).
MAX_DAYS = 3650
#: Largest virtual population of a web comparison.
MAX_POPULATION = 200
MAX_TARGETS = 4

PlannedForm = Literal[tuple(settings()["search_max_ug_day"])]  # type: ignore[valid-type]
ObservableName = Literal[tuple(observables.names())]  # type: ignore[valid-type]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunRequest(_Request):
    """A regimen (with its subject) and how many days to simulate."""

    regimen: Regimen = Field(default_factory=Regimen, description="as in a regimen file: subject, supplements, "
                                                                  "diet, medications, sun, days")
    days: int | None = Field(None, ge=1, le=MAX_DAYS,
                             description=f"simulated days (default: the regimen's, else 365; at most {MAX_DAYS})")


class SimulateRequest(RunRequest):
    observables: list[ObservableName] | None = Field(
        None, description="time-course columns to return (default: all; the charted ones always come)")
    uncertainty: bool = Field(True, description="each chart's uncertainty band, where the model has one "
                                                "(a calibrated parameter ensemble); runs every draw")


class PopulationSpec(_Request):
    n: int = Field(ge=2, le=MAX_POPULATION, description="virtual subjects")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class CompareRequest(RunRequest):
    population: PopulationSpec | None = Field(None, description="a virtual population (95% CI of the interaction)")


class TargetSpec(_Request):
    observable: ObservableName
    op: Literal["=", ">=", "<="] = "="
    value: float = Field(allow_inf_nan=False)

    def __str__(self) -> str:
        return f"{self.observable}{self.op}{self.value!r}"


class PlanOptions(_Request):
    targets: list[TargetSpec] = Field(min_length=1, max_length=MAX_TARGETS)
    forms: list[PlannedForm] = Field(list(DEFAULT_FORMS), min_length=1, max_length=3)
    horizon_days: int | None = Field(None, ge=1, le=MAX_DAYS,
                                     description="reach the targets by this day (default: at steady state)")


class PlanRequest(PlanOptions):
    regimen: Regimen = Field(default_factory=Regimen,
                             description="the subject, diet, sun and supplements already taken; the plan adds to it")


class ReportRequest(RunRequest):
    plan: PlanOptions | None = Field(None, description="include the dose finder's answer for these targets")
