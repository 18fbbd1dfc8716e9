"""The ``k2d3`` command line: simulate a regimen file, validate against published data,
export a run as SBML or a COMBINE archive.

Bad input ends with one line naming the field and the problem, and exit code 2.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from k2d3.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="k2d3: how vitamins D3 and K2 act in the body, from regimen to blood levels.")
_out = Console(width=None if sys.stdout.isatty() else 160)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"k2d3 {version('k2d3')}")
        except PackageNotFoundError:
            print("k2d3 (not installed: no package metadata)")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="print the version and exit"),
) -> None:
    """k2d3: how vitamins D3 and K2 act in the body, from regimen to blood levels."""


def _markdown(header: tuple[str, ...], rows) -> None:
    """A Markdown table on stdout (the tables docs/validation.md and the claims page are made of)."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def _fail(exc: InputError) -> None:
    sys.stderr.write(f"error: {exc}\n")
    raise typer.Exit(2)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if abs(v) < 1e-9:  # integrator round-off around an empty pool
            return "0"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _summary_table(summary: dict) -> Table:
    t = Table(title=f"k2d3 simulation, {summary['days']:g} days")
    band = any("end_interval_90" in s for s in summary["observables"].values())
    cols = ("observable", "unit", "baseline", "end", *(("end, 90% interval",) if band else ()), "min", "max",
            "time in range", "evidence")
    for col in cols:
        t.add_column(col, justify="left" if col in ("observable", "unit", "evidence") else "right")
    for name, s in summary["observables"].items():
        tir = s["time_in_range"]
        interval = (f"{_fmt(s['end_interval_90'][0])}-{_fmt(s['end_interval_90'][1])}",) if band else ()
        t.add_row(name, s["unit"], _fmt(s["baseline"]), _fmt(s["end"]), *interval, _fmt(s["min"]), _fmt(s["max"]),
                  "-" if tir is None else f"{100 * tir:.0f}%", s["evidence"])
    return t


@app.command()
def simulate(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (supplements, sun, subject, days)"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    out: Optional[Path] = typer.Option(None, help="directory for timecourse.csv, summary.json and figures"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
    uncertainty: bool = typer.Option(False, "--uncertainty", help="also run the calibration's parameter ensemble: "
                                     "a 90% band of each observable"),
) -> None:
    """Simulate a regimen: blood levels over time, a summary and figures."""
    import k2d3
    from k2d3.report.figures import save_figures
    from k2d3.report.files import write_atomic

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        result = k2d3.simulate(None, regimen, days=days, uncertainty=uncertainty)
    except InputError as exc:
        _fail(exc)
    from k2d3.analyses.safety import vka_warnings

    summary = result.summary()
    summary["flags"] += vka_warnings(result)
    if out is not None:
        try:
            if out.exists() and not out.is_dir():
                raise InputError("--out", f"{str(out)!r} exists and is not a directory")
        except InputError as exc:
            _fail(exc)
        write_atomic(out / "timecourse.csv", result.timecourse.to_csv())
        write_atomic(out / "summary.json", json.dumps(summary, indent=2))
        figures = save_figures(result, out, write_atomic)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    _out.print(_summary_table(summary))
    for drug, mg in summary["titrated_dose_mg_day"].items():
        print(f"{drug}: titrated to {mg:g} mg/day during the run-in, then held")
    for flag in summary["flags"]:
        print(f"{flag['severity']}: {flag['message']} (source: {flag['source']})")
    if out is not None:
        names = ", ".join(["timecourse.csv", "summary.json", *(p.name for p in figures)])
        print(f"wrote {names} to {out}")


@app.command()
def validate(
    ids: Optional[list[str]] = typer.Argument(None, help="row ids of calibration.csv (default: all)"),
    markdown: bool = typer.Option(False, help="print a Markdown table"),
) -> None:
    """Published human data vs the model: one line per calibration.csv row."""
    from k2d3.analyses.validate import CASES, all_ids, validate as run

    try:
        known = set(all_ids())
        for i in ids or []:
            if i not in known:
                raise InputError("id", f"no validation case {i!r} (known: {', '.join(sorted(known))})")
        outcomes = run(ids or None)
    except InputError as exc:
        _fail(exc)
    if markdown:
        _markdown(("id", "role", "published", "accept", "simulated", "accepted"),
                  ((o.id, o.role, o.published, o.accept, o.simulated, "yes" if o.accepted else "NO") for o in outcomes))
    else:
        t = Table(title="k2d3 validate: published vs simulated")
        for col in ("id", "role", "published", "simulated", "accepted"):
            t.add_column(col)
        for o in outcomes:
            t.add_row(o.id, o.role, o.published, o.simulated, "yes" if o.accepted else "[red]NO[/]")
        _out.print(t)
    n_bad = sum(not o.accepted for o in outcomes)
    print(f"{len(outcomes) - n_bad} accepted, {n_bad} not accepted")
    # the exit code is the contract with calibration.csv; the extra independent checks
    # (rows not in the table) are reported above but do not fail the command
    table_ids = {c.id for c in CASES}
    if any(not o.accepted and o.id in table_ids for o in outcomes):
        raise typer.Exit(1)


def _export_inputs(regimen_file: Optional[Path], out: Path, days: Optional[float], suffix: str):
    """The regimen and days of an export, and a usable --out (one-line errors otherwise)."""
    import k2d3

    if regimen_file is not None and regimen_file.suffix.lower() in (".xml", ".sbml", ".omex"):
        raise InputError("REGIMEN", f"{str(regimen_file)!r} looks like an output file; give a regimen YAML "
                                    f"and the output with --out {regimen_file}")
    if days is not None and (not math.isfinite(days) or days <= 0):
        raise InputError("--days", f"must be a positive number of days, got {days:g}")
    if out.exists() and out.is_dir():
        raise InputError("--out", f"{str(out)!r} is a directory; give a file name such as {suffix}")
    regimen = k2d3.Regimen.from_yaml(regimen_file) if regimen_file is not None else k2d3.Regimen()
    return regimen, days


@app.command("export-sbml")
def export_sbml(
    regimen_file: Optional[Path] = typer.Argument(None, metavar="[REGIMEN]", help="regimen YAML (default: the "
                                                  "default subject, no regimen)"),
    out: Path = typer.Option(Path("model.xml"), "--out", help="output SBML file"),
    days: Optional[float] = typer.Option(None, help="simulated days the doses cover (default: the file's, else 365)"),
) -> None:
    """Write the SBML of a run: the subject's day-0 steady state as initial values and the
    regimen's doses as events (for COPASI, tellurium, libroadrunner)."""
    from k2d3.engine import export_state
    from k2d3.report.files import write_atomic

    try:
        regimen, days = _export_inputs(regimen_file, out, days, "model.xml")
        text = export_state.sbml(None, regimen, days)
    except InputError as exc:
        _fail(exc)
    write_atomic(out, text)
    print(f"wrote {out}")


@app.command("export-omex")
def export_omex(
    regimen_file: Path = typer.Argument(..., metavar="REGIMEN", help="regimen YAML"),
    out: Path = typer.Option(Path("run.omex"), "--out", help="output COMBINE archive"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
) -> None:
    """Write a COMBINE archive of a run: the SBML, a SED-ML simulation with a report and plots
    of the observables, and the manifest (for tellurium or any SED-ML tool)."""
    from k2d3.engine import export_state
    from k2d3.model import omex
    from k2d3.report.files import write_atomic

    try:
        regimen, days = _export_inputs(regimen_file, out, days, "run.omex")
        archive = omex.omex(export_state.state(None, regimen, days))
    except InputError as exc:
        _fail(exc)
    write_atomic(out, archive)
    print(f"wrote {out}")


@app.command("foods")
def list_foods(
    search: Optional[str] = typer.Argument(None, help="a food (shows every value with its source), or part of "
                                           "a name, alias or group"),
    rich_in: Optional[str] = typer.Option(None, "--rich-in", help="rank foods by a nutrient: D, D3, D2, K1, K2, "
                                          "MK-4, MK-7, MK-9, calcium"),
    per: str = typer.Option("100g", "--per", help="with --rich-in: amount per '100g' or per 'portion' (the "
                            "food's first listed portion)"),
    top: int = typer.Option(25, "--top", min=1, help="with --rich-in: how many foods"),
) -> None:
    """The food composition table (per 100 g), one food in full, or foods ranked by a nutrient."""
    from k2d3.inputs import foods

    try:
        if rich_in is not None:
            ranked = foods.rich_in(rich_in, per)
        elif per != "100g":
            raise InputError("--per", "goes with --rich-in")
        exact = None
        if rich_in is None and search:
            try:
                exact = foods.find(search, "food")
            except InputError:
                exact = None
    except InputError as exc:
        _fail(exc)
    if rich_in is not None:
        unit = "mg" if rich_in.strip().lower() == "calcium" else "ug"
        t = Table(title=f"k2d3 foods richest in {rich_in} ({unit} per {'portion' if per == 'portion' else '100 g'})")
        for col in ("food", "group", f"{rich_in} {unit}", "per", "country", "source"):
            t.add_column(col, overflow="fold")
        for food, amount, basis in ranked[:top]:
            keys = sorted({k for _, k, _ in food.sources})
            t.add_row(food.name, food.group, _fmt(amount), basis, food.country or "-", ", ".join(keys))
        _out.print(t)
        return
    if exact is not None:
        _food_detail(exact)
        return
    hits = foods.search(search)
    if search and not hits:
        _fail(InputError("food", f"no food matches {search!r} (k2d3 foods lists them)"))
    t = Table(title=f"k2d3 foods ({len(hits)} of {len(foods.foods())}), per 100 g; '-' = not reported")
    cols = ["D3 ug", "D2 ug", "K1 ug", "MK-4 ug", "MK-7 ug", "MK total ug", "MK range ug", "Ca mg", "fat g"]
    for col in ("food", "group", *cols):
        t.add_column(col, overflow="fold")
    for f in hits:
        vals = [f.per_100g["d3_ug"], f.per_100g["d2_ug"], f.per_100g["k1_ug"], f.per_100g["mk4_ug"],
                f.per_100g["mk7_ug"], f.mk_total_ug,
                "-" if f.mk_range_ug is None else f"{f.mk_range_ug[0]:g}-{f.mk_range_ug[1]:g}", f.calcium_mg, f.fat_g]
        t.add_row(f.name, f.group, *(_fmt(v) for v in vals))
    _out.print(t)
    print("k2d3 foods NAME shows one food with the source of every value")


def _food_detail(food) -> None:
    """Every value of one food with its source; empty cells as 'not reported'."""
    from k2d3.inputs import foods

    head = f"{food.name} ({food.group}" + (f", {food.country}" if food.country else "") + ")"
    t = Table(title=f"k2d3 foods: {head}, per 100 g")
    for col in ("value", "amount", "source"):
        t.add_column(col, overflow="fold")
    labels = {"d3_ug": "vitamin D3 ug", "d2_ug": "vitamin D2 ug", "ohd25_ug": "25(OH)D3 ug", "k1_ug": "K1 ug",
              **{c: f"MK-{c[2:-3]} ug" for c in foods.MK_COLUMNS}, "mk_total_ug": "menaquinones, total (central) ug",
              "mk_low_ug": "menaquinones, lowest analysis ug", "mk_high_ug": "menaquinones, highest analysis ug",
              "calcium_mg": "calcium mg", "fat_g": "fat g"}
    for col, label in labels.items():
        v = food.value(col) if col not in ("mk_low_ug", "mk_high_ug") else (
            None if food.mk_range_ug is None else food.mk_range_ug[col == "mk_high_ug"])
        refs = "; ".join(f"{k}: {d}" for k, d in food.source_of(col))
        t.add_row(label, "not reported" if v is None else _fmt(v), refs or "-")
    for label, grams in food.portions.items():
        t.add_row(f"portion: {label}", f"{grams:g} g", "; ".join(f"{k}: {d}" for k, d in food.source_of("portions")))
    if food.fortification:
        t.add_row("fortification", food.fortification,
                  "; ".join(f"{k}: {d}" for k, d in food.source_of("fortification")))
    _out.print(t)
    print("references:")
    for key in dict.fromkeys(k for _, k, _ in food.sources):
        print(f"  {key}: {foods.citation(key)}")
    dosed = foods.dosed_per_100g(food)
    if foods.UNSPECIFIED_MK in dosed:
        print(f"menaquinones of unreported form ({_fmt(dosed[foods.UNSPECIFIED_MK])} ug/100 g) are dosed into the "
              "long-chain MK-8/MK-9 pool")
    for note in food.notes:
        print(f"note: {note}")
    if food.aliases:
        print("also called: " + ", ".join(food.aliases))


@app.command("intake")
def intake_report(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (diet, supplements, sun, subject)"),
    days: Optional[float] = typer.Option(None, help="days to average over (default: the file's, else 365)"),
    out: Optional[Path] = typer.Option(None, help="directory for intake.json and the bar chart intake.png"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON on stdout"),
) -> None:
    """Daily intake of each vitamin D and K form and of calcium, from the usual diet, foods,
    supplements and sun, against the IOM and EFSA reference intakes and upper levels."""
    import k2d3
    from k2d3.engine import intake
    from k2d3.report.figures import save_intake_figure
    from k2d3.report.files import write_atomic

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        if out is not None and out.exists() and not out.is_dir():
            raise InputError("--out", f"{str(out)!r} exists and is not a directory")
    except InputError as exc:
        _fail(exc)
    subject = regimen.subject or k2d3.Subject()
    span = float(days or regimen.days or 365.0)
    rep = intake.report(subject, regimen, span)
    if out is not None:
        write_atomic(out / "intake.json", json.dumps(rep, indent=2))
        save_intake_figure(rep, out, write_atomic)
    if as_json:
        sys.stdout.write(json.dumps(rep, indent=2) + "\n")
        return
    t = Table(title=f"k2d3 intake: mean per day over {span:g} days")
    for col in ("form", "unit", "usual diet", "foods", "supplements", "sun", "total"):
        t.add_column(col, justify="left" if col in ("form", "unit") else "right")
    for r in rep["forms"]:
        if r["total"] == 0 and r["form"] not in ("D3", "K1", "MK-7", "calcium"):
            continue  # a form nothing supplies
        t.add_row(r["form"], r["unit"], *(_fmt(float(r[k])) for k in ("usual_diet", "foods", "supplements", "sun",
                                                                        "total")))
    _out.print(t)
    _print_food_contributions(rep)
    t = Table(title="against reference intakes (sun not counted as intake)")
    for col in ("group", "intake", "body", "kind", "value", "status", "source"):
        t.add_column(col, overflow="fold")
    for g in rep["totals"]:
        for lim in g["limits"]:
            status = f"[red]{lim['status']}[/]" if lim["status"] == "ABOVE" else lim["status"]
            scope = "" if lim["applies_to"] == limits_of(g) else ": " + ", ".join(lim["applies_to"]) + " only"
            t.add_row(g["group"] + scope, f"{_fmt(lim['intake'])} {g['unit']}", lim["body"], lim["kind"],
                      _fmt(lim["value"]), status, lim["source"])
    _out.print(t)
    sun = rep["totals"][0].get("sun_d3_equivalent", 0.0)
    if sun:
        print(f"sun: about {sun:.3g} ug/day of D3 made in skin (as oral D3), on top of the intake")
    if out is not None:
        print(f"wrote intake.json, intake.png to {out}")


def _print_food_contributions(rep: dict) -> None:
    """Per form, the foods that contributed (with sources); per nutrient, the eaten foods not counted."""
    if not any(r["food_contributions"] for r in rep["forms"]) and not any(rep["not_reported"].values()):
        return
    print("foods per form (amount per day; source):")
    cited: dict[str, str] = {}
    for r in rep["forms"]:
        for c in r["food_contributions"]:
            refs = "; ".join(f"{s['key']}: {s['detail']}" for s in c["sources"])
            cited.update({s["key"]: s["citation"] for s in c["sources"]})
            print(f"  {r['form']}: {c['food']} {_fmt(c['amount'])} {r['unit']} ({refs})")
    for group, names in rep["not_reported"].items():
        if names:
            print(f"  {group}: not reported for {', '.join(names)} (not counted)")
    if cited:
        print("references:")
        for key, text in cited.items():
            print(f"  {key}: {text}")


def limits_of(group_row: dict) -> list[str]:
    """The compounds a group total sums (the widest applies_to among its limits)."""
    return max((lim["applies_to"] for lim in group_row["limits"]), key=len, default=[])


@app.command("plan")
def plan_doses(
    subject_file: Optional[Path] = typer.Option(None, "--subject", help="subject YAML (or a regimen file with "
                                                "subject, diet, sun); default: the default subject"),
    target: list[str] = typer.Option(..., "--target", help="OBSERVABLE=VALUE, >=VALUE or <=VALUE; repeatable"),
    horizon_days: Optional[float] = typer.Option(None, "--horizon-days", help="reach the targets by this day "
                                                 "(default: at steady state)"),
    forms: str = typer.Option(",".join(("D3", "MK-7")), "--forms", help="forms allowed, comma-separated"),
    fit_file: Optional[Path] = typer.Option(None, "--fit", help="a person's own parameters from k2d3 fit "
                                            "(their subject and regimen are used too)"),
    as_json: bool = typer.Option(False, "--json", help="print the plan as JSON on stdout"),
) -> None:
    """The smallest daily doses of the allowed forms that reach every target without firing a
    safety rule, beside two rules of thumb. Exit 1 when no safe regimen reaches the targets."""
    import k2d3
    from k2d3.analyses import plan as planner

    try:
        targets = [planner.parse_target(t) for t in target]
        allowed = planner.parse_forms(forms)
        if horizon_days is not None and (not math.isfinite(horizon_days) or horizon_days <= 0):
            raise InputError("--horizon-days", f"must be a positive number of days, got {horizon_days:g}")
        own = None
        if fit_file is not None:
            if subject_file is not None:
                raise InputError("--fit", "give --fit or --subject, not both (the fit holds its subject)")
            from k2d3.calibration.individual import IndividualFit

            person = IndividualFit.from_dict(_read_json(fit_file, "--fit"))
            subject, base, own = person.subject, person.regimen, person.parameters
        else:
            subject, base = planner.load_subject_file(subject_file) if subject_file else (k2d3.Subject(), None)
        p = planner.plan(subject, targets, allowed, horizon_days, base, own)
    except InputError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(p.as_dict(), indent=2) + "\n")
    else:
        when = "at steady state" if p.steady_state else f"by day {p.days:g}"
        t = Table(title=f"k2d3 plan: smallest daily doses reaching the targets {when}")
        for col in ("target", "without added doses", "form", "dose", "reached"):
            t.add_column(col)
        for tg in p.targets:
            form = p.assigned[str(tg)]
            dose = p.doses_ug_day.get(form)
            t.add_row(str(tg), _fmt(p.start[str(tg)]), form, "-" if dose is None else _dose_text(form, dose),
                      _fmt(p.reached[str(tg)]))
        _out.print(t)
        print("plan: " + (", ".join(f"{f} {_dose_text(f, ug)}" for f, ug in p.doses_ug_day.items() if ug > 0)
                          or "no added doses needed") + f" every day ({p.runs} simulations)")
        for note in p.notes:
            print(f"note: {note}")
        for r in p.rules_of_thumb:
            print(f"rule of thumb, {r['rule']}: {_dose_text('D3', r['dose_ug_day'])} "
                  f"({r['why']}; source: {r['source']})")
        if p.rules_of_thumb:
            print("the model's dose differs from these because it follows the subject's body size, "
                  "baseline, diet and sun, and the flattening of the 25(OH)D response at higher doses")
        for flag in p.advice:
            print(f"{flag['severity']}: {flag['message']} (source: {flag['source']})")
        if not p.safe:
            print(f"no safe regimen of {', '.join(p.forms)} reaches the targets: the smallest doses that do "
                  "fire these safety rules:")
            for flag in p.blocking:
                print(f"  {flag['severity']}: {flag['message']} (source: {flag['source']})")
    if not (p.safe and p.met):
        raise typer.Exit(1)


def _dose_text(form: str, ug: float) -> str:
    from k2d3.report.payload import dose_text

    return dose_text(form, ug)


def _range(text: Optional[str], field: str) -> Optional[tuple[float, float]]:
    """'50-70' -> (50.0, 70.0); a malformed range is a one-line error."""
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split("-", 1))
    except ValueError:
        raise InputError(field, f"must be a range like 50-70, got {text!r}") from None
    return lo, hi


def _observable_list(text: Optional[str], default: tuple[str, ...]) -> list[str]:
    from k2d3.model.observables import names

    chosen = [n.strip() for n in text.split(",") if n.strip()] if text else list(default)
    for n in chosen:
        if n not in names():
            raise InputError("--outputs", f"unknown observable {n!r} (see k2d3 observables)")
    return chosen


POPULATION_OUTPUTS = ("ohd25_nmol_l", "pth_pmol_l", "ucoc_fraction", "dp_ucmgp_pmol_l",
                      "bmd_lumbar_spine_pct_change", "inr")


@app.command("population")
def population_cmd(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (its subject is the base of the population)"),
    n: int = typer.Option(..., "--n", help="virtual subjects"),
    seed: int = typer.Option(0, help="seed: the same seed draws the same subjects"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    age: Optional[str] = typer.Option(None, help="age range to draw from, e.g. 50-70 (default: the subject's age)"),
    female_fraction: Optional[float] = typer.Option(None, help="share of women to draw (default: the subject's sex)"),
    ancestry: str = typer.Option("european", help="genotype frequencies: european, east_asian or african"),
    outputs: Optional[str] = typer.Option(None, help="observables to summarise and draw, comma-separated"),
    out: Optional[Path] = typer.Option(None, help="directory for summary files, population.png and the Parquet values"),
    resume: bool = typer.Option(False, help="keep the finished chunks of a killed run in --out and compute the rest"),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address, tcp://host:port (default: this machine)"),
    chunk_size: Optional[int] = typer.Option(None, help="subjects per chunk (default: sized to the output)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
) -> None:
    """Any regimen over a virtual population: spread of every observable, subject-level Parquet."""
    import k2d3
    from k2d3.analyses import chunks
    from k2d3.analyses.population_run import simulate_population
    from k2d3.files import write_atomic
    from k2d3.report import population as figure

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        if resume and out is None:
            raise InputError("--resume", "needs --out (the directory of the run to resume)")
        if chunk_size is not None and chunk_size < 1:
            raise InputError("--chunk-size", f"must be at least 1, got {chunk_size}")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        default = POPULATION_OUTPUTS if regimen.medications else POPULATION_OUTPUTS[:-1]  # INR on an antagonist
        names = _observable_list(outputs, default)
        pop = k2d3.Population(n=n, seed=seed, age=_range(age, "--age"), female_fraction=female_fraction,
                              ancestry=ancestry)
        client = chunks.connect(scheduler)
        result = simulate_population(pop, regimen.subject, regimen, days or regimen.days or 365.0, out_dir=out,
                                     resume=resume, client=client, chunk_size=chunk_size,
                                     provenance={"version": k2d3.__version__, "seed": seed})
        summary = result.summary(names)
    except InputError as exc:
        _fail(exc)
    record = {"subjects": n, "seed": seed, "days": float(result.days[-1]), "drawn": result.drawn,
              "provenance": result.provenance, "summary": summary.to_dict(orient="records")}
    if out is not None:
        write_atomic(out / "summary.json", json.dumps(record, indent=2, default=str))
        write_atomic(out / "summary.csv", summary.to_csv(index=False))
        write_atomic(out / "population.png", figure.png(result, names))
    if as_json:
        sys.stdout.write(json.dumps(record, indent=2, default=str) + "\n")
        return
    t = Table(title=f"k2d3 population: {n} virtual subjects (seed {seed}), day {result.days[-1]:g}")
    for col in ("observable", "unit", "mean", "SD", "2.5%", "median", "97.5%"):
        t.add_column(col, justify="left" if col in ("observable", "unit") else "right", no_wrap=True)
    from k2d3.model.observables import observables

    for row in summary.itertuples():
        t.add_row(row.observable, observables()[row.observable].unit, _fmt(row.mean), _fmt(row.sd),
                  _fmt(row.p2_5), _fmt(row.p50), _fmt(row.p97_5))
    _out.print(t)
    print(f"drawn for each subject: {', '.join(result.drawn) or 'nothing'}; the rest is the file's subject")
    if out is not None:
        print(f"wrote summary.json, summary.csv, population.png, subjects.parquet and values/ to {out}")


def _read_json(path: Path, field: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(field, f"cannot read {path} as JSON: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict):
        raise InputError(field, f"{path} is not a k2d3 JSON object")
    return data


@app.command("fit")
def fit_cmd(
    subject_file: Path = typer.Option(..., "--subject", help="subject YAML, or a regimen file (subject and what they take)"),
    measurements: Path = typer.Option(..., "--measurements", help="CSV with columns day, observable, value"),
    out: Optional[Path] = typer.Option(None, help="write the fit as JSON (for k2d3 plan --fit)"),
    as_json: bool = typer.Option(False, "--json", help="print the fit as JSON on stdout"),
) -> None:
    """A person's own parameters from their lab results (population prior, MAP), and their
    predicted values beside the measured ones."""
    from k2d3.analyses import plan as planner
    from k2d3.calibration import individual
    from k2d3.files import write_atomic

    try:
        labs = individual.read_labs_file(measurements)
        subject, regimen = planner.load_subject_file(subject_file)
        result = individual.fit(subject, regimen, labs)
        if out is not None and out.exists() and out.is_dir():
            raise InputError("--out", f"{out} is a directory; give a file name")
    except InputError as exc:
        _fail(exc)
    record = result.as_dict()
    if out is not None:
        write_atomic(out, json.dumps(record, indent=2))
    if as_json:
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
        return
    t = Table(title="k2d3 fit: the person's own parameters (population value -> theirs)")
    for col in ("parameter", "population", "this person"):
        t.add_column(col)
    for name in result.fitted:
        t.add_row(name, _fmt(result.population[name]), _fmt(result.parameters[name]))
    _out.print(t)
    t = Table(title="measured and predicted")
    for col in ("day", "observable", "measured", "predicted"):
        t.add_column(col)
    for lab, pred in zip(result.labs, result.predicted):
        t.add_row(f"{lab.day:g}", lab.observable, _fmt(lab.value), _fmt(pred))
    _out.print(t)
    if not result.fitted:
        print("nothing to fit: these measurements inform none of the parameters that vary between people")
    if out is not None:
        print(f"wrote {out} (use: k2d3 plan --fit {out} --target ...)")


@app.command("trial")
def trial_cmd(
    trial_file: Path = typer.Argument(..., help="trial YAML (arms, population, inclusion, visits, endpoints)"),
    out: Optional[Path] = typer.Option(None, help="directory for trial.json, endpoints.csv, differences.csv, "
                                                  "trial.png, subjects.parquet and each arm's time courses"),
    resume: bool = typer.Option(False, help="keep the finished chunks of a killed run in --out and compute the rest"),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address, tcp://host:port (default: this machine)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
) -> None:
    """A virtual parallel-group trial: endpoints per arm and visit, differences between arms, a VPC figure."""
    from k2d3.analyses import chunks
    from k2d3.analyses.trials import Trial, _json_default
    from k2d3.files import write_atomic
    from k2d3.report import trial as figure

    try:
        if resume and out is None:
            raise InputError("--resume", "needs --out (the directory of the run to resume)")
        trial = Trial.from_yaml(trial_file)
        client = chunks.connect(scheduler)
        result = trial.run(out, resume=resume, client=client)
    except InputError as exc:
        _fail(exc)
    if out is not None:
        write_atomic(out / "trial.png", figure.png(result))
    record = result.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(record, indent=2, default=_json_default) + "\n")
        return
    s = result.screening
    published = {(p.arm, p.endpoint, p.day): p for p in trial.published}
    t = Table(title=f"k2d3 trial: {trial.name} ({trial.subjects_per_arm} per arm, seed {trial.seed})")
    for col in ("endpoint", "arm", "day", "n", "mean or rate", "SD", "95% CI", "2.5-97.5%", "published"):
        t.add_column(col, justify="left" if col in ("endpoint", "arm") else "right")
    for r in result.endpoints.itertuples():
        p = published.get((r.arm, r.endpoint, r.day))
        pub = "-" if p is None else _fmt(p.value) + ("" if p.low is None else f" ({_fmt(p.low)} to {_fmt(p.high)})")
        if r.kind == "rate":
            t.add_row(r.endpoint, r.arm, f"{r.day:g}", str(r.n), f"{100 * r.rate:.0f}%", "-",
                      f"{100 * r.ci_low:.0f}-{100 * r.ci_high:.0f}%", "-", pub)
        else:
            t.add_row(r.endpoint, r.arm, f"{r.day:g}", str(r.n), _fmt(r.mean), _fmt(r.sd),
                      f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}", f"{_fmt(r.p2_5)} to {_fmt(r.p97_5)}", pub)
    _out.print(t)
    if len(trial.arms) > 1:
        d = Table(title=f"difference from {trial.arms[0].name} (95% interval)")
        for col in ("endpoint", "arm", "day", "difference", "95% interval", "relative"):
            d.add_column(col, justify="left" if col in ("endpoint", "arm") else "right")
        for r in result.differences.itertuples():
            rel = "-" if not math.isfinite(r.relative_pct) else \
                f"{r.relative_pct:+.1f}% ({r.relative_ci_low:+.1f} to {r.relative_ci_high:+.1f})"
            if r.method.startswith("Newcombe"):  # rates: percentage points
                diff, ci = f"{100 * r.difference:+.0f} pp", f"{100 * r.ci_low:+.0f} to {100 * r.ci_high:+.0f} pp"
            else:
                diff, ci = _fmt(r.difference), f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}"
            d.add_row(r.endpoint, r.arm, f"{r.day:g}", diff, ci, rel)
        _out.print(d)
    print(f"screened {s['screened']} candidates, {s['eligible']} eligible, {s['included']} enrolled"
          + (f" ({'; '.join(s['criteria'])})" if s["criteria"] else "") + "; "
          + f"drawn for each subject: {', '.join(result.drawn) or 'nothing'}")
    print("intervals: between-subject variability and n only (no parameter uncertainty yet)")
    if out is not None:
        print(f"wrote trial.json, endpoints.csv, differences.csv, trial.png, subjects.parquet and arms/ to {out}")


@app.command("observables")
def list_observables() -> None:
    """The observables: name (with unit), description, reference range, evidence level."""
    from k2d3.model.observables import observables

    t = Table(title="k2d3 observables")
    for col in ("name", "unit", "description", "range", "evidence"):
        t.add_column(col)
    for o in observables().values():
        t.add_row(o.name, o.unit, o.description, "-" if not o.range else f"{o.range[0]:g}-{o.range[1]:g}", o.evidence)
    _out.print(t)


@app.command("compare")
def compare_cmd(
    regimen_file: Path = typer.Argument(..., help="regimen YAML with vitamin D and vitamin K supplements"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    out: Optional[Path] = typer.Option(None, help="directory for comparison.json, comparison.csv and compare.png"),
    as_json: bool = typer.Option(False, "--json", help="print the comparison as JSON on stdout"),
    population: Optional[int] = typer.Option(None, help="virtual subjects (interaction with a 95% CI)"),
    seed: int = typer.Option(0, help="seed of the virtual population"),
    workers: Optional[int] = typer.Option(None, help="processes for a population (default: all cores; 1 = serial)"),
) -> None:
    """2x2 factorial of the regimen's D and K supplements: placebo, D alone, K alone, both."""
    import k2d3
    from k2d3.analyses.compare import compare
    from k2d3.report import compare as figure
    from k2d3.report.files import write_atomic

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        if out is not None and out.exists() and not out.is_dir():
            raise InputError("--out", f"{str(out)!r} exists and is not a directory")
        if workers is not None and workers < 1:
            raise InputError("--workers", f"must be at least 1, got {workers}")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        pop = None if population is None else k2d3.Population(n=population, seed=seed)
        result = compare(None, regimen, days=days, population=pop, workers=workers)
    except InputError as exc:
        _fail(exc)
    if out is not None:
        write_atomic(out / "comparison.json", result.to_json())
        write_atomic(out / "comparison.csv", result.table.to_csv(index_label="observable"))
        write_atomic(out / "compare.png", figure.png(result))
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
        return
    _out.print(_compare_table(result))
    print("end values per arm; Δ = change from day 0; interaction = (D+K) - D - K + placebo; additive if "
          "within max(5% of the larger single effect, 0.1% of the observable's scale); synergy = the combination "
          "goes beyond the two effects added, in their direction; antagonism = it falls short of them")
    if out is not None:
        print(f"wrote comparison.json, comparison.csv, compare.png to {out}")


def _compare_table(result) -> Table:
    pop = result.n_subjects > 1
    who = f", mean of {result.n_subjects} virtual subjects (seed {result.seed})" if pop else ""
    t = Table(title=f"k2d3 compare: 2x2 factorial, {result.days:g} days{who}")
    labels = result.labels
    cols = ["observable", "unit", *(labels[a] for a in ("placebo", "D", "K", "DK")),
            "Δ placebo", "Δ D", "Δ K", "Δ D+K", "interaction",
            *(["95% CI"] if pop else []), "class"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("observable", "unit", "class") else "right",
                     no_wrap=col in ("observable", "class"), overflow="fold")
    for name, r in result.table.iterrows():
        ci = [f"{_fmt(r['interaction_ci_low'])}..{_fmt(r['interaction_ci_high'])}"] if pop else []
        t.add_row(name, r["unit"], *(_fmt(r[f"end_{a}"]) for a in ("placebo", "D", "K", "DK")),
                  *(_fmt(r[f"change_{a}"]) for a in ("placebo", "D", "K", "DK")),
                  _fmt(r["interaction"]), *ci, r["class"])
    return t


def _check_out_dir(out: Path) -> None:
    """--out must be a directory that exists or can be made, checked before a long run
    (nothing is created until the results are written)."""
    import os

    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{str(out)!r} exists and is not a directory")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError("--out", f"{str(out)!r} cannot be made: {str(parent)!r} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError("--out", f"{str(out)!r} cannot be written: {str(parent)!r} is not writable")


@app.command("sensitivity")
def sensitivity_cmd(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (its subject, or the default subject)"),
    outputs: str = typer.Option("ohd25_nmol_l,dp_ucmgp_pmol_l,bmd_lumbar_spine_pct_change",
                                help="observables whose end values are analysed, comma-separated"),
    method: str = typer.Option("morris", help="morris (screening) or sobol (variance shares)"),
    n: Optional[int] = typer.Option(None, help="Morris: trajectories (default 10, at most 100); Sobol': base "
                                    "samples, a power of two (default 256, at most 4096)"),
    parameters: Optional[str] = typer.Option(None, help="comma-separated parameters to vary (default: every "
                                             "eligible one; Sobol': the top 8 of a Morris screen)"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    out: Optional[Path] = typer.Option(None, help="directory for sensitivity.json, sensitivity.csv and "
                                       "sensitivity.png"),
    seed: int = typer.Option(0, help="seed of the sampling and the bootstrap"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON on stdout"),
) -> None:
    """Which parameters move the outputs: Morris or Sobol' indices over parameters.yaml (SALib)."""
    import k2d3
    from k2d3.analyses import sensitivity as sa
    from k2d3.report import sensitivity as figure
    from k2d3.files import write_atomic

    try:
        try:
            if days is not None and (not math.isfinite(days) or days <= 0):
                raise InputError("days", f"must be a positive number of days, got {days:g}")
            if out is not None:
                _check_out_dir(out)
            sa.check_n(method, n)
            names = sa.check_outputs(outputs.split(","))
            chosen = None if parameters is None else [p.strip() for p in parameters.split(",") if p.strip()]
            regimen = k2d3.Regimen.from_yaml(regimen_file)
            with _progress_bar() as tick:
                result = sa.analyse(regimen, names, method, n, chosen, days, seed, progress=tick)
        except InputError as exc:
            option = exc.field in ("days", "method", "n", "outputs", "parameters")
            raise InputError("--" + exc.field, exc.problem) if option else exc
    except InputError as exc:
        _fail(exc)
    if out is not None:
        write_atomic(out / "sensitivity.json", result.to_json())
        write_atomic(out / "sensitivity.csv", result.to_csv())
        write_atomic(out / "sensitivity.png", figure.png(result))
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
        return
    _print_sensitivity(result)
    if out is not None:
        print(f"wrote sensitivity.json, sensitivity.csv, sensitivity.png to {out}")


class _progress_bar:
    """A rich progress bar on stderr (runs done, time left), started by the first report of
    progress, so that an error before any run prints its one line alone."""

    def __enter__(self):
        self.bar = None

        def tick(done: int, total: int, stage: str) -> None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            if self.bar is None:
                self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("runs"), TimeRemainingColumn(), console=Console(stderr=True),
                                    transient=True)
                self.bar.start()
                self.task = self.bar.add_task(stage, total=total)
            self.bar.update(self.task, completed=done, total=total, description=stage)

        return tick

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_sensitivity(result, top: int = 10) -> None:
    from k2d3.analyses import sensitivity as sa
    from k2d3.model import observables

    obs = observables.observables()
    what = (f"Morris screening, {result.n} trajectories on {sa.MORRIS_LEVELS} levels" if result.method == "morris"
            else f"Sobol' first and total order, N = {result.n}")
    print(f"k2d3 sensitivity: {what}; {len(result.factors)} parameters, {result.runs} runs, seed {result.seed}; "
          f"end values at day {result.days:g}")
    if result.screen:
        s = result.screen
        print(f"{s['why']} (screen: n = {s['n']}, {s['runs']} runs): {', '.join(s['kept'])}")
    f = {x.name: x for x in result.factors}
    for o in result.outputs:
        rows = result.indices[result.indices.output == o].head(top)
        t = Table(title=f"{o} ({obs[o].unit}): top {len(rows)} of {len(result.factors)}")
        cols = ["rank", "parameter", "range", "basis"] + (
            ["mu*", "95% CI", "sigma", "mu*/max"] if result.method == "morris" else ["S1", "95% CI", "ST", "95% CI"])
        for col in cols:
            t.add_column(col, justify="right" if col in ("rank", "mu*", "95% CI", "sigma", "mu*/max", "S1", "ST")
                         else "left", overflow="fold")
        for _, r in rows.iterrows():
            x = f[r.parameter]
            name = r.parameter + ("" if r.reaches else " (does not reach)")
            rng = f"{_fmt(x.low)}-{_fmt(x.high)} {x.unit}"
            basis = x.basis.split(":")[0].split(" ")[0]  # cv, calibration or assumed
            if result.method == "morris":
                vals = [_fmt(r.mu_star), f"±{_fmt(r.mu_star_conf)}", _fmt(r.sigma), f"{r.mu_star_rel:.2f}"]
            else:
                vals = [f"{r.S1:.3f}", f"±{r.S1_conf:.3f}", f"{r.ST:.3f}", f"±{r.ST_conf:.3f}"]
            t.add_row(str(r["rank"]), name, rng, basis, *vals)
        _out.print(t)
    print(f"ranges: a calibrated parameter's 5-95% of the calibration's ensemble; with a cv in parameters.yaml, the "
          f"2.5-97.5% quantiles of its log-normal; otherwise the value /{sa.rules()['default_factor']:g} to "
          f"x{sa.rules()['default_factor']:g} (assumed); sampled {sa.SAMPLING}")
    counts: dict[str, int] = {}
    for reason in result.excluded.values():
        counts[reason] = counts.get(reason, 0) + 1
    print(f"not varied: {len(result.excluded)} of {len(result.excluded) + len(result.factors)} entries of "
          "parameters.yaml (sensitivity.json lists each with its reason):")
    for reason, k in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {k}: {reason}")
    for note in result.notes:
        print(f"note: {note}")


@app.command("claims")
def claims_cmd(
    ids: Optional[list[str]] = typer.Argument(None, help="claim ids (default: all)"),
    markdown: bool = typer.Option(False, help="print a Markdown table"),
) -> None:
    """The article's claims: model prediction, published human data, verdict and why."""
    from rich.markup import escape

    from k2d3.analyses.claims import run

    try:
        outcomes = run(ids or None)
    except InputError as exc:
        _fail(exc)
    if markdown:
        _markdown(("claim", "article", "compared", "model", "human data", "verdict", "why"),
                  ((o.id, " / ".join(o.quote).replace("|", "\\|"),
                    "<br>".join(f"{i + 1}. {p.label}" for i, p in enumerate(o.parts)),
                    _claim_model(o), _claim_data(o), f"**{o.verdict}**", o.reason) for o in outcomes))
    else:
        t = Table(title="k2d3 claims: the article against the model and published human data", show_lines=True)
        for col in ("claim", "model", "human data (calibration.csv)", "verdict", "why"):
            t.add_column(col, overflow="fold")
        for o in outcomes:
            compared = "\n".join(f"{i + 1}. {p.label}" for i, p in enumerate(o.parts))
            t.add_row(f"[bold]{o.id}[/]\n{o.claim}\n[dim]{escape(compared)}[/]", escape(_claim_model(o)),
                      escape(_claim_data(o)), o.verdict, escape(o.reason))
        _out.print(t)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in dict.fromkeys(o.verdict for o in outcomes)}
    print(", ".join(f"{n} {v}" for v, n in counts.items()))


def _claim_model(o) -> str:
    if o.missing:
        return "needs " + ", ".join(o.missing)
    return "; ".join(f"{i + 1}. {_fmt(p.model_value)} ({p.model_grade})" for i, p in enumerate(o.parts))


def _claim_data(o) -> str:
    out = []
    for p in o.parts:
        if not p.published:
            out.append(f"{len(out) + 1}. none")
            continue
        out.append(f"{len(out) + 1}. " + ", ".join(f"{_fmt(x.value)} {'/'.join(x.rows)}" + (f" ({x.because})" if x.because else "")
                             for x in p.published) + f" ({p.data_grade})")
    return "; ".join(out)


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", help="address to listen on (default: this computer only)"),
    port: int = typer.Option(8000, help="port"),
    workers: Optional[int] = typer.Option(None, help="simulation processes (default: up to 2)"),
    sync_budget: float = typer.Option(30.0, "--sync-budget", help="longest estimated run (s) answered "
                                      "directly; longer ones run as background jobs"),
    job_limit: float = typer.Option(900.0, "--job-limit", help="longest estimated run (s) accepted at all"),
) -> None:
    """The web page and its JSON API (OpenAPI schema at /openapi.json)."""
    from k2d3.web.app import serve

    try:
        if not 0 < port < 65536:
            raise InputError("--port", f"must be 1-65535, got {port}")
        if workers is not None and workers < 1:
            raise InputError("--workers", f"must be at least 1, got {workers}")
        for name, value in (("--sync-budget", sync_budget), ("--job-limit", job_limit)):
            if not math.isfinite(value) or value < 0:
                raise InputError(name, f"must be a non-negative number of seconds, got {value:g}")
    except InputError as exc:
        _fail(exc)
    print(f"k2d3: open http://{host}:{port}/ (Ctrl+C stops)", flush=True)
    serve(host, port, workers, sync_budget, job_limit)


@app.command("report")
def report_cmd(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (subject, supplements, diet, medications, sun)"),
    out: Path = typer.Option(..., "--out", help="the HTML file to write"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    target: Optional[list[str]] = typer.Option(None, "--target", help="add the dose finder's answer: "
                                               "OBSERVABLE=VALUE, >=VALUE or <=VALUE; repeatable"),
    forms: str = typer.Option("D3,MK-7", "--forms", help="forms the dose finder may use"),
) -> None:
    """One self-contained HTML report (figures, 2x2 comparison, intake, warnings; works offline)."""
    import k2d3
    from k2d3.analyses import plan as planner
    from k2d3.report import html, payload
    from k2d3.report.files import write_atomic

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        if out.exists() and out.is_dir():
            raise InputError("--out", f"{str(out)!r} is a directory; give a file name such as report.html")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        plan_request = None
        if target:
            plan_request = {"targets": [planner.parse_target(t) for t in target],
                            "forms": planner.parse_forms(forms), "horizon_days": None}
        span = float(days or regimen.days or 365.0)
        sections = payload.collect(regimen, span, plan_request)
    except InputError as exc:
        _fail(exc)
    write_atomic(out, html.render(sections))
    print(f"wrote {out}")


def main() -> None:
    try:
        app()
    except InputError as exc:  # a last guard: input errors never surface as tracebacks
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
