"""Published human data vs the model: one case per row of calibration.csv.

``k2d3 validate`` prints, for every case, the row id, the published value, the simulated
value and whether it falls in the row's acceptance band. The bands are the table's own;
``role`` says how the row relates to the parameters:

- ``calibration``: parameters were fitted to it (scripts/calibrate_vitamin_d.py);
- ``source``: a parameter was taken from this very study, so agreement checks the
  model's structure and units rather than its predictions;
- ``validation``: no parameter was set from it: an independent check;
- ``constant``: a published limit the safety rules use.

``EXTRA`` holds independent published results that are not rows of calibration.csv; their
bands are set from each paper's own spread, stated beside them.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from k2d3.analyses import bone_cases as bone
from k2d3.analyses import coagulation_cases as coag
from k2d3.analyses import metabolic_cases as met
from k2d3.analyses import vascular_cases as vasc
from k2d3.analyses import vitamin_d_cases as vd
from k2d3.analyses import vitamin_k_cases as vk
from k2d3.errors import InputError
from k2d3.inputs.limits import table as intake_limits


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[dict | None], object]
    accept: Callable[[object], bool]
    show: Callable[[object], str]
    role: str  # "calibration" | "source" | "validation" | "constant"
    band: tuple[float, float] | None = None  # the accept range, where the table gives one


def _band(lo: float, hi: float) -> Callable[[object], bool]:
    """Inside [lo, hi]; for a tuple of values (one per form), every one of them."""
    return lambda v: all(lo <= x <= hi for x in v) if isinstance(v, tuple) else lo <= v <= hi


def banded(id: str, run, lo: float, hi: float, show, role: str) -> Case:
    return Case(id, run, _band(lo, hi), show, role, band=(lo, hi))


def _fmt(unit: str, digits: int = 2) -> Callable[[object], str]:
    return lambda v: f"{v:.{digits}f} {unit}"


def _limit(group: str, key: str) -> Callable[[dict | None], float]:
    return lambda _p=None: intake_limits()[group][key]


CASES: list[Case] = [
    banded("vd_slope_heaney2003", vd.heaney_slope, 0.5, 0.9, _fmt("nmol/L per ug/day"), "calibration"),
    banded("vd_halflife_jones2014", vd.jones_half_life_days, 10, 20, _fmt("days", 1), "source"),
    Case("vd_nonlinear_ekwaru2014", vd.ekwaru_increments, lambda v: v[1] < v[0] / 4,
         lambda v: f"{v[0]:.1f} vs {v[1]:.1f} nmol/L per 1000 IU/day", "calibration"),
    Case("vd_bmi_ekwaru2014", vd.ekwaru_bmi_differences,
         lambda v: -12.0 <= v[0] <= -4.0 and -29.7 <= v[1] <= -9.9,
         lambda v: f"{v[0]:.1f} (overweight) and {v[1]:.1f} (obese) nmol/L", "calibration"),
    banded("vd_obese_drincic2013", vd.drincic_iu_per_kg, 1.5, 4.0, _fmt("IU/kg per ng/mL"), "calibration"),
    banded("vd_d2d_2019", vd.d2d_level_ng_ml, 46, 62, _fmt("ng/mL", 1), "calibration"),
    banded("vd_bolus_ilahi2008", vd.ilahi_peak_ng_ml, 36, 48, _fmt("ng/mL", 1), "calibration"),
    banded("vd_bolus_tmax_armas2004", vd.armas_tmax_days, 7, 21, _fmt("days", 1), "calibration"),
    banded("vd_fat_dawsonhughes2015", vd.fat_meal_ratio_pct, 15, 50, _fmt("%", 0), "source"),
    banded("vd_crohn_farraye2011", vd.crohn_absorption_pct, -45, -15, _fmt("%", 0), "source"),
    Case("vd_ul", lambda p=None: _limit("vitamin_d", "ul_ug_day")() * 40, lambda v: v == 4000,
         _fmt("IU/day", 0), "constant"),
    Case("vd_rda", lambda p=None: _limit("vitamin_d", "rda_ug_day")() * 40, lambda v: v == 600,
         _fmt("IU/day", 0), "constant"),
    banded("vk_tmax_schurgers2007", vk.schurgers_tmax_hours, 2, 8,
           lambda v: f"K1 {v[0]:.1f} h, MK-7 {v[1]:.1f} h", "source"),
    banded("vk_mk7_accumulation_schurgers2007", vk.schurgers_accumulation_fold, 5, 11, _fmt("fold", 1),
         "validation"),
    banded("vk_mk7_halflife", vk.mk7_half_life_hours, 48, 96, _fmt("hours", 0), "source"),
    Case("vk_mk4_sato2012", vk.sato_mk4_peak_nmol_l, lambda v: v < 1.0, _fmt("nmol/L peak"), "calibration"),
    Case("vk_mk7_sato2012", vk.sato_mk7_profile, lambda v: 2 <= v[0] <= 8 and v[1] > 0.25,
         lambda v: f"Tmax {v[0]:.1f} h, {100 * v[1]:.0f}% of peak at 48 h", "validation"),
    banded("vk_k1_halflife_novotny2010", vk.novotny_k1_half_life_hours, 2, 12, _fmt("hours", 1),
         "source"),
    # calcium and bone
    banded("ca_abs_vs_25ohd_heaney2003", bone.ca_absorption_vs_25ohd_pct, 5, 65, _fmt("%", 1), "validation"),
    Case("ca_abs_vs_intake_heaney1989", bone.ca_absorption_vs_intake,
         lambda v: v[0] > v[1] and -0.6 <= v[2] <= -0.4,
         lambda v: f"{v[0]:.2f} vs {v[1]:.2f}, log-log slope {v[2]:.2f}", "calibration"),
    banded("pth_plateau_saliba2011", bone.pth_plateau_nmol_l, 45, 90, _fmt("nmol/L", 0), "validation"),
    Case("range_calcium", lambda p=None: bone.baseline_levels(p)["calcium_mmol_l"], lambda v: 2.2 <= v <= 2.6,
         _fmt("mmol/L"), "validation"),
    Case("range_pth", lambda p=None: bone.baseline_levels(p)["pth_pmol_l"], lambda v: 1.6 <= v <= 6.9,
         _fmt("pmol/L"), "validation"),
    Case("range_calcitriol", lambda p=None: bone.baseline_levels(p)["calcitriol_pmol_l"], lambda v: 43 <= v <= 144,
         _fmt("pmol/L", 0), "validation"),
    Case("range_phosphate", lambda p=None: bone.baseline_levels(p)["phosphate_mmol_l"], lambda v: 0.84 <= v <= 1.45,
         _fmt("mmol/L"), "validation"),
    Case("ucoc_knapen2013", bone.knapen_ucoc_pct, lambda v: -65 <= v[0] <= -35 and -10 <= v[1] <= 10,
         lambda v: f"MK-7 {v[0]:.0f}%, placebo {v[1]:+.0f}%", "calibration"),
    Case("bmd_knapen2013", bone.knapen_bmd_pct,
         lambda v: all(v[site][0] > v[site][1] for site in ("lumbar_spine", "femoral_neck")),
         lambda v: "; ".join(f"{k.replace('_', ' ')} MK-7 {a:+.2f}% vs placebo {b:+.2f}%" for k, (a, b) in v.items()),
         "validation"),
    Case("ucoc_jiang2014", bone.jiang_mk4, lambda v: -95 <= v[0] <= -65 and -1 <= v[2] <= 3,
         lambda v: f"ucOC {v[0]:.1f}%, total OC {v[1]:.1f}%, lumbar spine BMD {v[2]:+.2f}%", "calibration"),
    # coagulation
    Case("inr_theuwissen2013", coag.theuwissen_dose_response,
         lambda v: v[0] > v[1] > v[2] and -55 <= v[2] <= -25,
         lambda v: f"INR change {v[0]:.0f}%, {v[1]:.0f}%, {v[2]:.0f}% at MK-7 10, 20, 45 ug/day (acenocoumarol)",
         "validation"),
    Case("hamberg2010_warfarin", coag.hamberg_values, coag.hamberg_matches,
         lambda v: (f"V {v['v_warfarin']} L; ke {v['ke_warfarin']} /h; EC50 G/G {v['ec50_gg']:.1f} mg/L (ratios only); "
                    f"gamma {v['gamma_warfarin']}; INRmax {v['inr_max']:g}; CL *2/*2 x{v['*2/*2']:.3f}, *3/*3 "
                    f"x{v['*3/*3']:.3f}, EC50 AA x{v['AA']:.3f} (the row's numbers are 1 - factor)"), "source"),
    Case("wajima2009_vk_cycle", coag.wajima_values,
         lambda v: (v["k_vk_reduction"], v["k_vk_carboxylation"], v["k_vko_reduction"]) == (0.0228, 0.228, 0.228),
         lambda v: (f"VK->VKH2 {v['k_vk_reduction']} /h, VKH2->VKO {v['k_vk_carboxylation']} /h, VKO->VK "
                    f"{v['k_vko_reduction']} /h, VKOR (both reductions) inhibited; no plasma VK elimination or "
                    "peripheral pool (docs/model.md section 4)"), "source"),
    # glucose, insulin and inflammation (bands are prose in the table, so no `band`)
    Case("glucose_d3_t2d_meta2022", met.d3_t2d_fpg_change, lambda v: -10.0 <= v <= -1.0,
         _fmt("mg/dL fasting glucose vs placebo"), "calibration"),
    Case("glucose_k_meta2018", met.k_fpg_change, lambda v: -5.0 <= v <= 1.0,
         _fmt("mg/dL fasting glucose vs placebo"), "calibration"),
    Case("ucoc_rasekhi2015", met.rasekhi_ucoc_pct, lambda v: v[0] < v[1] / 2,
         lambda v: f"%ucOC K1 {v[0]:.1f} vs placebo {v[1]:.1f}", "calibration"),
    # arteries
    banded("mgp_knapen2015", vasc.knapen_dp_ucmgp_pct, -65, -35, _fmt("% vs placebo", 0), "validation"),
    Case("cac_shea2009", vasc.shea_cac, vasc.shea_accept,
         lambda v: f"{v[0]:.0f} vs {v[1]:.0f} AU progression (K1 vs control), {v[2]:.1f}% less on K1", "calibration"),
    Case("stiffness_braam2004", vasc.braam_stiffness, lambda v: v[0] > 0 and v[1] < 0,
         lambda v: f"distensibility {v[0]:+.1f}%, pulse pressure {v[1]:+.1f}% vs placebo", "validation"),
]


@dataclass(frozen=True)
class Extra:
    """An independent published result outside calibration.csv, with its band's rationale."""

    case: Case
    published: str
    accept: str
    source: str


EXTRA: list[Extra] = [
    Extra(banded("vd_slope_aloia2008", vd.aloia_slope, 0.31, 1.01, _fmt("nmol/L per ug/day"), "validation"),
          "0.66 +/- 0.35 nmol/L per ug/day at 9 weeks (mean dose 86 ug/day)",
          "0.31 to 1.01 (published mean +/- 1 SD)",
          "Aloia JF et al. 2008, Am J Clin Nutr 87:1952"),
    Extra(banded("vd_bolus_roth2012", vd.roth_bolus_rise, 14, 42, _fmt("nmol/L", 1), "validation"),
          "peak rise 28 nmol/L after 70000 IU once (non-pregnant women, Dhaka, baseline 54 nmol/L)",
          "14 to 42 (published rise +/- 50%)",
          "Roth DE et al. 2012, Nutr J 11:114, PMID 23268736"),
    Extra(banded("bone_menopause_spine_greendale2012", lambda p=None: bone.menopause_spine_loss_pct(p)[0],
                 -8.5, -6.5, _fmt("% spine BMD"), "calibration"),
          "lumbar spine BMD -7.38% from 1 year before to 2 years after the final menstrual period (SWAN)",
          "-8.5 to -6.5 (calibration target of est_rankl_gam)",
          "Greendale GA et al. 2012, J Bone Miner Res 27:111, doi:10.1002/jbmr.534"),
    Extra(banded("bone_menopause_neck_greendale2012", lambda p=None: bone.menopause_spine_loss_pct(p)[1],
                 -7.5, -4.0, _fmt("% femoral neck BMD"), "validation"),
          "femoral neck BMD -5.8% over the same transmenopausal years (SWAN)",
          "-7.5 to -4.0 (published value +/- 30%)",
          "Greendale GA et al. 2012, J Bone Miner Res 27:111, doi:10.1002/jbmr.534"),
    Extra(banded("bone_late_postmenopause_sowers2010", bone.late_postmenopause_spine_loss_pct_per_year,
                 -1.5, -0.25, _fmt("%/year spine BMD"), "validation"),
          "spine BMD -1.1%/y from 2 to 7 years after menopause (Michigan cohort); -0.26 to -0.55%/y later (Aloia 2005 placebo)",
          "-1.5 to -0.25 %/year (the span of the two reports)",
          "Sowers MR et al. 2010, J Clin Endocrinol Metab (PMC2869543); Aloia JF et al. 2005, Arch Intern Med 165:1618"),
    Extra(banded("d3_25ohd_bestd2017", lambda p=None: bone.d3_alone_vs_placebo(p)["ohd25_nmol_l"],
                 77, 127, _fmt("nmol/L", 1), "validation"),
          "25(OH)D 102 (SD 25) nmol/L after 1 year of 2000 IU/day from 50 nmol/L, age >= 65",
          "77 to 127 (mean +/- 1 SD; k2d3 reads at 2 years, at steady state)",
          "Hin H et al. 2017 (BEST-D), Osteoporos Int 28:841, doi:10.1007/s00198-016-3833-y"),
    Extra(banded("d3_pth_moslehi2015", lambda p=None: bone.d3_alone_vs_placebo(p)["pth_pct"],
                 -25, -5, _fmt("% PTH vs placebo", 1), "validation"),
          "PTH -8.0 pg/mL for a 25(OH)D rise of 15.5 ng/mL (39 nmol/L), about -15 to -20% of a 40-50 pg/mL baseline",
          "-25 to -5% (the derived percentage, widened for the trials' heterogeneity, I2 97%)",
          "Moslehi N et al. 2015, Br J Nutr, doi:10.1017/S0007114515003189"),
    Extra(banded("d3_ctx_sohouli2023", lambda p=None: bone.d3_alone_vs_placebo(p)["ctx_pct"],
                 -10, 5, _fmt("% CTx vs placebo", 1), "calibration"),
          "no significant effect of vitamin D supplementation on CTX (42 RCTs)",
          "-10 to +5% (calibration target of pth_rankl_gain: -5%)",
          "Sohouli MH et al. 2023, PMID 37314058"),
    Extra(banded("d3_spine_bmd_reid2014", lambda p=None: bone.d3_alone_vs_placebo(p)["ls_pct"],
                 -1.0, 1.0, _fmt("% spine BMD vs placebo"), "validation"),
          "no effect of vitamin D on lumbar spine BMD (23 RCTs, mean 23.5 months); VITAL 2000 IU/day 2 y: +0.16%",
          "-1.0 to +1.0 (no effect, within the precision of a 2-year trial)",
          "Reid IR et al. 2014, Lancet 383:146, doi:10.1016/S0140-6736(13)61647-5; LeBoff MS et al. 2020, J Bone Miner Res 35:883"),
    Extra(banded("d3_neck_bmd_reid2014", lambda p=None: bone.d3_alone_vs_placebo(p)["fn_pct"],
                 0.2, 1.4, _fmt("% femoral neck BMD vs placebo"), "validation"),
          "femoral neck BMD +0.8% with vitamin D (the only site with an effect)",
          "0.2 to 1.4 (the confidence interval as usually quoted; not verified from the paper itself)",
          "Reid IR et al. 2014, Lancet 383:146, doi:10.1016/S0140-6736(13)61647-5"),
    Extra(banded("d3_calcium_billington2020", lambda p=None: bone.d3_alone_vs_placebo(p)["calcium_mmol_l"],
                 -0.05, 0.05, _fmt("mmol/L calcium vs placebo", 3), "validation"),
          "serum calcium did not differ between 400, 4000 and 10000 IU/day over 3 years",
          "-0.05 to +0.05 mmol/L (no difference)",
          "Billington EO, Burt LA, Rose MS et al. 2020, safety analysis of the Calgary Vitamin D Study (journal not verified)"),
    Extra(banded("k1_auc_garber1999", vk.garber_tablet_auc, 17.47, 37.63, _fmt("nmol.h/L", 1), "validation"),
          "9-h AUC of plasma K1 27.55 +/- 10.08 nmol.h/L (n = 8) after a 500 ug tablet with a 402 kcal meal "
          "(27% fat energy), ages 22-30; 4.79 +/- 1.11 after 495 ug as 150 g spinach",
          "17.47 to 37.63 (published mean +/- 1 SD, the spread of the 8 subjects)",
          "Garber AK et al. 1999, J Nutr 129:1201"),
    Extra(Case("inr_schurgers2004_k1_100", lambda p=None: coag.schurgers_k1(p)[0], lambda v: v > -10,
               _fmt("% INR change", 0), "validation"),
          "no significant INR change with K1 100 ug/day on acenocoumarol (row inr_schurgers2004)",
          "INR falls by less than 10% (k2d3's reading of 'no significant change')",
          "Schurgers LJ et al. 2004, Blood 104:2682 (PMID 15231565)"),
    Extra(Case("mgp_dalmeijer2012", vasc.dalmeijer_dp_ucmgp_pct,
               lambda v: v[1] < v[0] and -46.5 <= v[0] <= -15.5 and -69 <= v[1] <= -23,
               lambda v: f"dp-ucMGP {v[0]:.0f}% (180 ug/day), {v[1]:.0f}% (360 ug/day) at 12 weeks", "validation"),
          "dp-ucMGP -31% (MK-7 180 ug/day) and -46% (360 ug/day) after 12 weeks, placebo unchanged",
          "dose-dependent, each fall within 0.5x to 1.5x of the published one (k2d3's band: trials at the "
          "same dose differ this much, Knapen 2015 -50% vs this -31%)",
          "Dalmeijer GW et al. 2012, Atherosclerosis 225:397 (PMID 23062766)"),
    Extra(banded("dp_ucmgp_vka_delanaye2014", vasc.vka_dp_ucmgp_fold, 2.0, 4.0, _fmt("fold", 2), "calibration"),
          "dp-ucMGP 5604 vs 1939 pmol/L (2.9-fold) in haemodialysis patients on vs off a vitamin K antagonist",
          "2 to 4-fold after 6 months of warfarin at INR 2.5 (k2d3's band around the published 2.9; calibration "
          "target of k_carbox_liver: 2.46, 15% below the model's 2.89 limit under complete blockade)",
          "Delanaye P et al. 2014, BMC Nephrol 15:145 (doi:10.1186/1471-2369-15-145)"),
    Extra(Case("warfarin_genotype_iwpc2009", lambda p=None: coag.genotype_dose_ratio("*3/*3", "AA", p),
               lambda v: 0.5 <= v[0] / v[1] <= 2.0,
               lambda v: f"stable dose *3/*3 A/A vs *1/*1 G/G: {v[0]:.2f} (IWPC algorithm {v[1]:.2f})", "validation"),
          "IWPC pharmacogenetic algorithm: 0.18 of the *1/*1 G/G dose for a *3/*3 A/A man of 45, 75 kg, 178 cm",
          "within a factor of 2 of the algorithm's ratio (k2d3's band; the algorithm itself explains ~47% of dose variance)",
          "International Warfarin Pharmacogenetics Consortium 2009, N Engl J Med 360:753 (PMID 19228618)"),
]


def calibration_table_path() -> Path:
    """calibration.csv: $K2D3_CALIBRATION, else ``shared/data`` beside or above the cwd or the package."""
    env = os.environ.get("K2D3_CALIBRATION")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve()):
        for parent in (base, *base.parents):
            for candidate in (parent / "shared" / "data" / "calibration.csv",
                              parent.parent / "shared" / "data" / "calibration.csv"):
                if candidate.is_file():
                    return candidate
    raise InputError("calibration", "cannot find shared/data/calibration.csv; set K2D3_CALIBRATION")


def calibration_rows() -> dict[str, dict]:
    with open(calibration_table_path(), newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


@dataclass(frozen=True)
class Outcome:
    id: str
    published: str
    accept: str
    simulated: str
    accepted: bool
    role: str
    source: str


def run_case(case: Case, rows: dict[str, dict] | None = None) -> Outcome:
    rows = rows if rows is not None else calibration_rows()
    row = rows[case.id]
    value = case.run(None)
    return Outcome(case.id, f"{row['published']} {row['unit']}".strip(), row["accept"], case.show(value),
                   bool(case.accept(value)), case.role, row["source"])


def run_extra(extra: Extra) -> Outcome:
    value = extra.case.run(None)
    return Outcome(extra.case.id, extra.published, extra.accept, extra.case.show(value),
                   bool(extra.case.accept(value)), extra.case.role, extra.source)


def all_ids() -> list[str]:
    return [c.id for c in CASES] + [e.case.id for e in EXTRA]


def validate(ids: list[str] | None = None) -> list[Outcome]:
    rows = calibration_rows()
    out = [run_case(c, rows) for c in CASES if ids is None or c.id in ids]
    return out + [run_extra(e) for e in EXTRA if ids is None or e.case.id in ids]
