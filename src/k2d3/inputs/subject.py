"""Who is simulated: demographics, body size, gut condition, usual diet, a measured baseline."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from k2d3.inputs._schema import Strict, build

Malabsorption = Literal["none", "crohn", "coeliac", "bariatric"]


class Subject(Strict):
    """One person. Every field is optional; the defaults describe a healthy adult woman.

    A measured ``baseline_25ohd_nmol_l`` makes day 0 a steady state at that value (the
    unexplained input from diet and sun is inferred); without it the subject starts at
    the steady state of the default background input.
    """

    age: float = Field(50, ge=18, le=110, description="age in years at day 0")
    sex: Literal["female", "male"] = "female"
    weight_kg: float = Field(70, ge=30, le=300)
    height_cm: float = Field(170, ge=120, le=230)
    body_fat_pct: float | None = Field(None, gt=3, lt=75,
                                       description="measured body fat; else the Deurenberg equation")
    baseline_25ohd_nmol_l: float | None = Field(None, gt=0, le=1000,
                                                description="a measured serum 25(OH)D at day 0")
    malabsorption: Malabsorption = "none"
    skin_type: int = Field(2, ge=1, le=6, description="Fitzpatrick skin type I-VI")
    dietary_k1_ug_day: float = Field(100, ge=0, le=20000,
                                     description="usual phylloquinone intake from food")
    dietary_menaquinones_ug_day: float = Field(30, ge=0, le=20000,
                                               description="usual long-chain menaquinone intake (cheese, meat)")
    dietary_calcium_mg_day: float = Field(964.08, ge=0, le=10000,
                                          description="usual calcium intake from food (default: the 24.055 "
                                                      "mmol/day of Peterson & Riggs 2010)")
    menopause_age: float | None = Field(None, ge=30, le=65,
                                        description="age at menopause (women; default 51)")

    @model_validator(mode="before")
    @classmethod
    def _sex_lower(cls, data):
        if isinstance(data, dict) and isinstance(data.get("sex"), str):
            data = {**data, "sex": data["sex"].strip().lower()}
        return data

    @classmethod
    def from_dict(cls, data: dict, prefix: str = "subject") -> "Subject":
        return build(cls, data, prefix)

    @property
    def bmi(self) -> float:
        return self.weight_kg / (self.height_cm / 100) ** 2
