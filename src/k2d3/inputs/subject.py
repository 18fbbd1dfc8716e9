"""Who is simulated: demographics, body size, gut condition, usual diet, a measured baseline."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from k2d3.errors import InputError
from k2d3.inputs._schema import Strict, build

Malabsorption = Literal["none", "crohn", "coeliac", "bariatric"]
# Warfarin pharmacogenetics as in Hamberg AK et al. 2010, Clin Pharmacol Ther 87:727:
# CYP2C9 star alleles (clearance) and VKORC1 -1639G>A (sensitivity).
Cyp2c9 = Literal["*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3"]
Vkorc1 = Literal["GG", "GA", "AA"]

# KDIGO 2012 eGFR categories (mL/min/1.73 m2): the lower bound of each stage.
_KDIGO_LOWER = {1: 90, 2: 60, 3: 30, 4: 15, 5: 0}
_KDIGO_UPPER = {1: float("inf"), 2: 90, 3: 60, 4: 30, 5: 15}
_KDIGO_TYPICAL = {1: 100, 2: 75, 3: 45, 4: 22, 5: 10}


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
    bmi: float = Field(None, ge=10, le=80, validate_default=False,
                       description="body-mass index; derived from weight and height when not given")
    egfr_ml_min: float = Field(None, ge=3, le=200, validate_default=False,
                               description="estimated GFR, mL/min/1.73 m2 (default 90, or typical of ckd_stage)")
    ckd_stage: int | None = Field(None, ge=1, le=5, description="chronic kidney disease stage (KDIGO G1-G5)")
    pregnant: bool = False
    breastfeeding: bool = False
    sarcoidosis: bool = False
    primary_hyperparathyroidism: bool = False
    type2_diabetes: bool = False
    prediabetes: bool = False
    fasting_glucose_mg_dl: float | None = Field(None, ge=40, le=600)
    hba1c_pct: float | None = Field(None, ge=3, le=20)
    cyp2c9: Cyp2c9 = Field("*1/*1", description="CYP2C9 genotype (warfarin clearance)")
    vkorc1: Vkorc1 = Field("GG", description="VKORC1 -1639G>A genotype (warfarin sensitivity)")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("sex"), str):
            data["sex"] = data["sex"].strip().lower()
        if isinstance(data.get("vkorc1"), str):
            data["vkorc1"] = data["vkorc1"].strip().upper()
        return data

    @model_validator(mode="after")
    def _consistent(self):
        """Fill derived fields (BMI, eGFR) and refuse contradictions instead of picking one."""
        h2 = (self.height_cm / 100) ** 2
        if self.bmi is None:
            object.__setattr__(self, "bmi", self.weight_kg / h2)
        elif "weight_kg" not in self.model_fields_set:
            object.__setattr__(self, "weight_kg", self.bmi * h2)
            if self.weight_kg < 30:
                raise InputError("bmi", f"{self.bmi:g} at {self.height_cm:g} cm means a weight below 30 kg")
        elif abs(self.bmi - self.weight_kg / h2) > 0.02 * self.bmi:
            raise InputError("bmi", f"{self.bmi:g} does not match weight_kg and height_cm "
                                    f"(which give {self.weight_kg / h2:.1f})")
        if self.egfr_ml_min is None:
            object.__setattr__(self, "egfr_ml_min",
                               float(_KDIGO_TYPICAL[self.ckd_stage]) if self.ckd_stage else 90.0)
        elif self.ckd_stage is not None and self.ckd_stage >= 3 and not (
                _KDIGO_LOWER[self.ckd_stage] <= self.egfr_ml_min < _KDIGO_UPPER[self.ckd_stage]):
            raise InputError("ckd_stage", f"stage {self.ckd_stage} means eGFR "
                                          f"{_KDIGO_LOWER[self.ckd_stage]}-{_KDIGO_UPPER[self.ckd_stage]:g}, "
                                          f"but egfr_ml_min is {self.egfr_ml_min:g}")
        if self.sex == "male" and (self.pregnant or self.breastfeeding or self.menopause_age is not None):
            raise InputError("sex", "pregnant, breastfeeding and menopause_age apply to women only")
        if self.type2_diabetes and self.prediabetes:
            raise InputError("prediabetes", "cannot be set together with type2_diabetes")
        return self

    @property
    def kidney_stage(self) -> int:
        """The KDIGO stage given, or the one implied by eGFR (1 = normal filtration)."""
        if self.ckd_stage is not None:
            return self.ckd_stage
        return next(stage for stage in (1, 2, 3, 4, 5) if self.egfr_ml_min >= _KDIGO_LOWER[stage])

    @classmethod
    def from_dict(cls, data: dict, prefix: str = "subject") -> "Subject":
        return build(cls, data, prefix)
