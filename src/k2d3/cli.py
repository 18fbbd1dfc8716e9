"""The ``k2d3`` command line: simulate a regimen file, validate against published data,
export the model as SBML.

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
    for col in ("observable", "unit", "baseline", "end", "min", "max", "time in range", "evidence"):
        t.add_column(col, justify="left" if col in ("observable", "unit", "evidence") else "right")
    for name, s in summary["observables"].items():
        tir = s["time_in_range"]
        t.add_row(name, s["unit"], _fmt(s["baseline"]), _fmt(s["end"]), _fmt(s["min"]), _fmt(s["max"]),
                  "-" if tir is None else f"{100 * tir:.0f}%", s["evidence"])
    return t


@app.command()
def simulate(
    regimen_file: Path = typer.Argument(..., help="regimen YAML (supplements, sun, subject, days)"),
    days: Optional[float] = typer.Option(None, help="simulated days (default: the file's, else 365)"),
    out: Optional[Path] = typer.Option(None, help="directory for timecourse.csv, summary.json and figures"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
) -> None:
    """Simulate a regimen: blood levels over time, a summary and figures."""
    import k2d3
    from k2d3.report.figures import save_figures
    from k2d3.report.files import write_atomic

    try:
        if days is not None and (not math.isfinite(days) or days <= 0):
            raise InputError("--days", f"must be a positive number of days, got {days:g}")
        regimen = k2d3.Regimen.from_yaml(regimen_file)
        result = k2d3.simulate(None, regimen, days=days)
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


@app.command("export-sbml")
def export_sbml(out: Path = typer.Argument(Path("k2d3.xml"), help="output SBML file")) -> None:
    """Write the composed model as SBML (for COPASI, tellurium, libroadrunner)."""
    from k2d3.model.build import sbml
    from k2d3.report.files import write_atomic

    write_atomic(out, sbml())
    _out.print(f"wrote {out}")


@app.command("foods")
def list_foods(search: Optional[str] = typer.Argument(None, help="part of a food name, alias or group")) -> None:
    """The food composition table (per 100 g), or the foods matching SEARCH."""
    from k2d3.inputs import foods

    hits = foods.search(search)
    t = Table(title=f"k2d3 foods ({len(hits)} of {len(foods.foods())}), per 100 g")
    cols = ["D3 ug", "D2 ug", "K1 ug", "MK-4 ug", "MK-7 ug", "MK-8/9 ug", "MK range ug", "Ca mg", "fat g"]
    for col in ("food", "group", *cols, "source"):
        t.add_column(col, overflow="fold")
    for f in hits:
        mk89 = [v for v in (f.per_100g["mk8_ug"], f.per_100g["mk9_ug"]) if v is not None]
        vals = [f.per_100g["d3_ug"], f.per_100g["d2_ug"], f.per_100g["k1_ug"], f.per_100g["mk4_ug"],
                f.per_100g["mk7_ug"], sum(mk89) if mk89 else None,
                "-" if f.mk_range_ug is None else f"{f.mk_range_ug[0]:g}-{f.mk_range_ug[1]:g}", f.calcium_mg, f.fat_g]
        t.add_row(f.name, f.group, *(_fmt(v) for v in vals), f.source[:80])
    _out.print(t)


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
        t.add_row(r["form"], r["unit"], *(_fmt(float(r[k])) for k in ("usual_diet", "foods", "supplements", "sun",
                                                                        "total")))
    _out.print(t)
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
        subject, base = planner.load_subject_file(subject_file) if subject_file else (k2d3.Subject(), None)
        p = planner.plan(subject, targets, allowed, horizon_days, base)
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
