"""What a person takes and how much sun they get, read from YAML or a dict.

Doses keep their text ("2000 IU") in the schema and are converted to nmol by the
engine's dosing step through ``units``; validation here already parses them, so a bad
unit fails when the regimen is read, with the field named.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, field_validator, model_validator

from k2d3.errors import InputError
from k2d3.inputs import compounds, foods, units
from k2d3.inputs._schema import Strict, build
from k2d3.inputs.subject import Subject


class Schedule(Strict):
    """When something is taken: ``every`` (from ``start_day`` to ``stop_day``) or on the
    listed ``on_days``. Shared by supplements and foods."""

    every: str | float | None = None
    on_days: list[float] | None = None
    start_day: float = Field(0, ge=0)
    stop_day: float | None = Field(None, ge=0)
    with_meal_fat_g: float | None = Field(None, ge=0, le=200,
                                          description="fat in the meal the dose is taken with")

    @model_validator(mode="after")
    def _schedule(self):
        if self.every is None and self.on_days is None:
            raise InputError("every", "give 'every' (e.g. '1 day') or 'on_days' (e.g. [0])")
        if self.every is not None and self.on_days is not None:
            raise InputError("on_days", "give either 'every' or 'on_days', not both")
        if self.every is not None:
            units.duration_hours(self.every, "every")
        if self.on_days is not None and any(d < 0 for d in self.on_days):
            raise InputError("on_days", "days must not be negative")
        if self.stop_day is not None and self.stop_day < self.start_day:
            raise InputError("stop_day", f"{self.stop_day} is before start_day {self.start_day}")
        return self

    @property
    def every_hours(self) -> float | None:
        return None if self.every is None else units.duration_hours(self.every, "every")


class _Dosed(Schedule):
    """A scheduled dose of one compound; subclasses say which field names it."""

    dose: str | float

    @property
    def substance(self) -> str:
        raise NotImplementedError

    @model_validator(mode="after")
    def _parse_dose(self):
        self.dose_nmol  # parses the dose, or fails naming the field
        return self

    @property
    def dose_nmol(self) -> float:
        c = compounds.compounds()[self.substance]
        return units.amount_nmol(self.dose, "dose", c.molar_mass_g_mol, c.iu_per_ug, c.name)


class Supplement(_Dosed):
    """A dose of one compound on a schedule."""

    compound: str
    form: Literal["carbonate", "citrate"] | None = Field(
        None, description="calcium salt (calcium only; default carbonate)")

    @property
    def substance(self) -> str:
        return self.compound

    @field_validator("compound")
    @classmethod
    def _known(cls, v: str) -> str:
        return compounds.find(v, "compound").name

    @model_validator(mode="after")
    def _form(self):
        if self.form is not None and self.compound != "calcium":
            raise InputError("form", f"a salt form applies to calcium only, not {self.compound}")
        return self


class Medication(_Dosed):
    """A drug on a schedule: a fixed dose, ``{drug: warfarin, dose: 5 mg, every: 1 day}``,
    or a target, ``{drug: warfarin, target_inr: 2.5}``, for which the engine titrates the
    daily dose during a run-in (weekly adjustments) and then holds it."""

    drug: str
    dose: str | float | None = None
    every: str | float | None = "1 day"
    target_inr: float | None = Field(None, ge=1.5, le=4.5)

    @property
    def substance(self) -> str:
        return self.drug

    @model_validator(mode="before")
    @classmethod
    def _dose_or_target(cls, data):
        if isinstance(data, dict):
            if data.get("target_inr") is not None and data.get("dose") is not None:
                raise InputError("target_inr", "give either a fixed 'dose' or a 'target_inr', not both")
            if data.get("target_inr") is None and data.get("dose") is None:
                raise InputError("dose", "give a 'dose' (e.g. '5 mg') or a 'target_inr' (e.g. 2.5)")
        return data

    @property
    def dose_nmol(self) -> float:
        return 0.0 if self.dose is None else super().dose_nmol

    @field_validator("drug")
    @classmethod
    def _known(cls, v: str) -> str:
        return compounds.find(v, "drug", medication=True).name


class DietItem(Schedule):
    """A food from the food table on a schedule, by ``grams`` or ``portion`` ('2 slices',
    '1 egg', '1 cup', '1 tbsp': the food's portion weights from the same table); its own
    fat counts as meal fat. Given both, they must agree."""

    food: str
    grams: float = Field(gt=0, le=5000)
    portion: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _portion_to_grams(cls, data):
        if isinstance(data, dict) and data.get("portion") is not None:
            food = foods.find(data.get("food"), "food")
            grams = foods.portion_grams(food, data["portion"], "portion")
            given = data.get("grams")
            if given is not None and not (isinstance(given, (int, float)) and abs(given - grams) <= 1e-6 * grams):
                raise InputError("grams", f"{given!r} does not match portion {data['portion']!r} "
                                          f"({grams:g} g); give one of them")
            data = {**data, "grams": grams}
        elif isinstance(data, dict) and "grams" not in data:
            raise InputError("grams", "give 'grams' (e.g. 30) or 'portion' (e.g. '2 slices', '1 cup')")
        return data

    @field_validator("food")
    @classmethod
    def _known(cls, v: str) -> str:
        return foods.find(v, "food").name


class Sun(Strict):
    """Daily sun exposure around solar noon. Give the UV index, or the latitude (and the
    month at day 0: the season then advances with simulated time)."""

    minutes_per_day: float = Field(ge=0, le=720)
    skin_fraction: float = Field(0.25, ge=0, le=1, description="fraction of skin exposed")
    uv_index: float | None = Field(None, ge=0, le=25)
    latitude: float | None = Field(None, ge=-90, le=90)
    month: int = Field(6, ge=1, le=12, description="calendar month at day 0")
    days_per_week: float = Field(7, gt=0, le=7)

    @model_validator(mode="after")
    def _where(self):
        if self.uv_index is None and self.latitude is None:
            raise InputError("latitude", "give 'latitude' (with 'month') or 'uv_index'")
        return self


class Regimen(Strict):
    """Supplements, foods and sun, plus optional subject and days."""

    supplements: list[Supplement] = Field(default_factory=list)
    diet: list[DietItem] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    sun: Sun | None = None
    subject: Subject | None = None
    days: float | None = Field(None, gt=0, le=365 * 100)

    @classmethod
    def from_dict(cls, data: object) -> "Regimen":
        if data is None:
            data = {}
        return build(cls, data, "")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Regimen":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise InputError("file", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "malformed"
            raise InputError("file", f"{path.name} is not valid YAML{where}: {problem}") from None
        return cls.from_dict(data)
