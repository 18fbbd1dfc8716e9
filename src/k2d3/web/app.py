"""The FastAPI app: one page (``static/``) and a JSON API for simulate, compare, intake, plan,
foods and observables, described by its OpenAPI schema at ``/openapi.json``.

Every 4xx answer is ``{"error": "field: problem", "field": ..., "problem": ...}``: it names
what was wrong. Simulations run in worker processes (``jobs``); a request too long to wait
for becomes a background job (202, polled at ``/api/jobs/{id}``); one beyond the job limit
is refused with 422 naming the input that makes it long.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from importlib import resources
from pathlib import Path

import pydantic
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from k2d3.errors import InputError
from k2d3.inputs._schema import error_of
from k2d3.report.html import plotly_js
from k2d3.web import cost, schemas
from k2d3.web.jobs import Busy, Runner, TaskFailed, WorkerLost

log = logging.getLogger("k2d3.web")
STATIC = Path(str(resources.files("k2d3.web").joinpath("static")))
#: Largest request body accepted (bytes): a regimen is a few kB.
MAX_BODY_BYTES = 256 * 1024
#: Longest request carried in a download link's query (characters): the HTTP server reads
#: at most 16 kB of request line and headers.
MAX_QUERY_CHARS = 8000


class Problem(pydantic.BaseModel):
    error: str
    field: str
    problem: str
    problems: list[str] | None = None


class JobStatus(pydantic.BaseModel):
    id: str
    kind: str
    state: str
    progress: float
    progress_is: str
    elapsed_s: float
    expected_s: float
    status_url: str
    result_url: str | None = None
    error: dict | None = None


_ERRORS = {422: {"model": Problem, "description": "bad input: the field and the problem"},
           429: {"model": Problem, "description": "too many requests waiting; try again"}}
_JOB = {202: {"model": JobStatus, "description": "long: runs as a background job; poll status_url"}}


def _problem(status: int, field: str, problem: str, problems: list[str] | None = None,
             headers: dict | None = None) -> JSONResponse:
    body = {"error": f"{field}: {problem}", "field": field, "problem": problem}
    if problems and len(problems) > 1:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_lines(errors, prefix: str = "") -> list[InputError]:
    out = []
    for err in errors:
        err = dict(err)
        loc = list(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            out.append(InputError(prefix or "body", f"not valid JSON ({(err.get('ctx') or {}).get('error', 'malformed')})"))
            continue
        if loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:] or loc[:1]
        err["loc"] = tuple(loc)
        out.append(error_of(err, prefix))
    return out


def _rename(exc: InputError, names: dict[str, str]) -> InputError:
    """An analysis' field name (CLI-style, e.g. ``--target``, or a bare subject field the
    engine checks, e.g. ``baseline_25ohd_nmol_l``) as the API's field."""
    from k2d3.inputs.subject import Subject

    if exc.field in names:
        return InputError(names[exc.field], exc.problem)
    if exc.field in Subject.model_fields:
        return InputError(f"regimen.subject.{exc.field}", exc.problem)
    return exc


def _days(req: schemas.RunRequest) -> tuple[float, str]:
    """The simulated days and the field they come from."""
    if req.days is not None:
        return float(req.days), "days"
    if req.regimen.days is not None:
        if not 1 <= req.regimen.days <= schemas.MAX_DAYS:
            raise InputError("regimen.days", f"the web simulates 1 to {schemas.MAX_DAYS} days, got "
                                             f"{req.regimen.days:g}")
        return float(req.regimen.days), "regimen.days"
    return 365.0, "days"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _key(*parts) -> str:
    return json.dumps([p.model_dump(mode="json") if isinstance(p, pydantic.BaseModel) else p for p in parts],
                      sort_keys=True, default=str)


def create_app(workers: int | None = None, sync_budget_s: float = 30.0, job_limit_s: float = 900.0,
               max_waiting: int = 8) -> FastAPI:
    """The app. ``workers``: simulation processes (default: up to 2, one per core);
    ``sync_budget_s``: longest estimated run answered directly; ``job_limit_s``: longest run
    accepted as a background job."""
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    runner = Runner(workers, sync_budget_s, job_limit_s, max_waiting)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        runner.start()
        try:
            yield
        finally:
            runner.stop()

    app = FastAPI(title="k2d3", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="k2d3: vitamins D3 and K2 in the human body, from regimen to blood levels. "
                              "Not medical advice. Every 4xx answer names the field and the problem.")
    app.state.runner = runner

    # -- errors: one shape for every 4xx
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        lines = _validation_lines(exc.errors())
        first = lines[0] if lines else InputError("body", "invalid request")
        return _problem(422, first.field, first.problem, [str(e) for e in lines])

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return _problem(422, exc.field, exc.problem)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return _problem(429, "server", str(exc), headers={"Retry-After": "10"})

    @app.exception_handler(WorkerLost)
    async def _lost(request: Request, exc: WorkerLost):
        return _problem(503, "server", str(exc))

    @app.exception_handler(TaskFailed)
    async def _failed(request: Request, exc: TaskFailed):
        return _problem(500, "server", f"the model failed on this input ({exc}); please report it")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return _problem(500, "server", f"unexpected error ({type(exc).__name__}); please report it")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        field = {404: "path", 405: "method", 413: "body"}.get(exc.status_code, "request")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such page or endpoint: {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return _problem(exc.status_code, field, detail)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _problem(413, "body", f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return await call_next(request)

    # -- running: directly, as a job, or refused
    async def answer(kind: str, estimate: cost.Estimate, pieces: list[tuple[str, str]], work,
                     names: dict[str, str] | None = None):
        names = names or {}
        seconds = 0.0 if all(runner.cached(*p) for p in pieces) else estimate.seconds
        if seconds > runner.job_limit_s:
            raise InputError(estimate.field, f"this request would run for about {_duration(seconds)}, more "
                                             f"than the {_duration(runner.job_limit_s)} the server allows; "
                                             "shorten it, or run it with the k2d3 command line")

        async def guarded():
            try:
                return await work()
            except InputError as exc:
                raise _rename(exc, names) from None

        if seconds <= runner.sync_budget_s:
            return await guarded()

        def on_error(exc: BaseException) -> tuple[int, str, str]:
            if isinstance(exc, InputError):
                return (422, exc.field, exc.problem)
            if isinstance(exc, Busy):
                return (429, "server", str(exc))
            log.exception("job %s failed", kind, exc_info=exc)
            return (500, "server", f"the model failed on this input ({exc}); please report it")

        job = runner.submit(kind, seconds, guarded, on_error)
        return JSONResponse(job.status(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})

    def sim_args(regimen, days, uncertainty: bool = True):
        band = uncertainty and draws() > 0
        return "simulate", _key(regimen, days, band), {"regimen": regimen, "days": days, "uncertainty": band}

    def sim_estimate(regimen, days, days_field, uncertainty: bool = True) -> cost.Estimate:
        return cost.simulate(regimen, days, days_field, draws() if uncertainty else 0)

    def compare_args(regimen, days, population):
        from k2d3.analyses.population import Population

        pop = None if population is None else Population(n=population.n, seed=population.seed)
        return "compare", _key(regimen, days, population), {"regimen": regimen, "days": days, "population": pop}

    def plan_args(regimen, options: schemas.PlanOptions, prefix: str):
        from k2d3.analyses import plan as planner

        try:
            targets = [planner.parse_target(str(t)) for t in options.targets]
        except InputError as exc:
            raise InputError(f"{prefix}targets", exc.problem) from None
        horizon = None if options.horizon_days is None else float(options.horizon_days)
        args = {"regimen": regimen, "targets": targets, "forms": tuple(options.forms), "horizon_days": horizon}
        return "plan", _key(regimen, options), args

    def plan_estimate(regimen, options: schemas.PlanOptions, prefix: str) -> cost.Estimate:
        from k2d3.analyses.plan import settings

        days = float(options.horizon_days or settings()["steady_state_days"])
        cost.check_doses(regimen, days)
        return cost.plan(regimen, days, len(options.targets), len(options.forms), f"{prefix}horizon_days")

    plan_names = {"--target": "targets", "--horizon-days": "horizon_days", "--forms": "forms"}
    compare_names = {"supplements": "regimen.supplements", "population": "population.n", "seed": "population.seed"}

    # -- the page
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly():
        return FileResponse(plotly_js(), media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- the API
    @app.get("/api/observables", summary="the observables: name (with unit), label, range, evidence")
    async def observables_list():
        from k2d3.model import observables
        from k2d3.report.payload import CHARTS

        charts = {c.name: c for c in CHARTS}
        return [{"name": o.name, "unit": o.unit, "label": o.label, "description": o.description,
                 "evidence": o.evidence, "reference_range": list(o.range) if o.range else None,
                 "range_source": o.range_source,
                 "plain": charts[o.name].title if o.name in charts else None}
                for o in observables.observables().values()]

    @app.get("/api/foods", summary="the food composition table (per 100 g), or the foods matching search")
    async def foods_list(search: str | None = Query(None, max_length=100, description="part of a name, alias or group")):
        from k2d3.inputs import foods

        return [{"name": f.name, "aliases": list(f.aliases), "group": f.group, "per_100g_ug": f.per_100g,
                 "mk_total_ug": f.mk_total_ug, "mk_range_ug": list(f.mk_range_ug) if f.mk_range_ug else None,
                 "calcium_mg": f.calcium_mg, "fat_g": f.fat_g, "portions_g": f.portions, "source": f.source}
                for f in foods.search(search)]

    @app.post("/api/simulate", responses={**_JOB, **_ERRORS},
              summary="simulate a regimen: time courses, summary, every safety warning")
    async def simulate(req: schemas.SimulateRequest):
        days, days_field = _days(req)
        cost.check_doses(req.regimen, days)
        kind, key, args = sim_args(req.regimen, days, req.uncertainty)

        async def work():
            return _columns(await runner.compute(kind, key, args), req.observables)

        estimate = sim_estimate(req.regimen, days, days_field, req.uncertainty)
        return await answer("simulate", estimate, [(kind, key)], work)

    @app.post("/api/compare", responses={**_JOB, **_ERRORS},
              summary="2x2 factorial of the regimen's vitamin D and K supplements: placebo, D, K, D+K")
    async def compare(req: schemas.CompareRequest):
        days, days_field = _days(req)
        cost.check_doses(req.regimen, days)
        kind, key, args = compare_args(req.regimen, days, req.population)

        async def work():
            return await runner.compute(kind, key, args)

        n = req.population.n if req.population else None
        return await answer("compare", cost.compare(req.regimen, days, days_field, n), [(kind, key)], work,
                            compare_names)

    @app.post("/api/intake", responses=_ERRORS,
              summary="daily intake by form and source against IOM/EFSA reference intakes and upper levels")
    async def intake(req: schemas.RunRequest):
        from k2d3.report.payload import run_intake

        days, _ = _days(req)
        cost.check_doses(req.regimen, days)
        return await run_in_threadpool(run_intake, req.regimen, days)

    @app.post("/api/plan", responses={**_JOB, **_ERRORS},
              summary="the dose finder: smallest safe daily doses reaching the targets")
    async def plan(req: schemas.PlanRequest):
        estimate = plan_estimate(req.regimen, req, "")
        kind, key, args = plan_args(req.regimen, req, "")

        async def work():
            return await runner.compute(kind, key, args)

        return await answer("plan", estimate, [(kind, key)], work, plan_names)

    async def report_html(req: schemas.ReportRequest) -> str:
        from k2d3.report import html, payload

        days, _ = _days(req)
        sections = {"regimen": req.regimen.model_dump(mode="json", exclude_none=True), "days": days,
                    "simulation": await runner.compute(*sim_args(req.regimen, days)),
                    "intake": await run_in_threadpool(payload.run_intake, req.regimen, days)}
        if payload.has_two_by_two(req.regimen):
            sections["comparison"] = await runner.compute(*compare_args(req.regimen, days, None))
        if req.plan is not None:
            try:
                sections["plan"] = await runner.compute(*plan_args(req.regimen, req.plan, "plan."))
            except InputError as exc:
                raise InputError(f"plan.{plan_names.get(exc.field, exc.field)}", exc.problem) from None
        return await run_in_threadpool(html.render, sections)

    def report_plan(req: schemas.ReportRequest):
        days, days_field = _days(req)
        cost.check_doses(req.regimen, days)
        from k2d3.report.payload import has_two_by_two

        sim = sim_estimate(req.regimen, days, days_field)
        pieces = [sim_args(req.regimen, days)[:2]]
        seconds = 0.0 if runner.cached(*pieces[0]) else sim.seconds
        if has_two_by_two(req.regimen):
            pieces.append(compare_args(req.regimen, days, None)[:2])
            if not runner.cached(*pieces[-1]):
                seconds += cost.compare(req.regimen, days, days_field, None).seconds
        if req.plan is not None:
            pieces.append(plan_args(req.regimen, req.plan, "plan.")[:2])
            if not runner.cached(*pieces[-1]):
                seconds += plan_estimate(req.regimen, req.plan, "plan.").seconds
        return cost.Estimate(seconds, sim.field), pieces

    @app.post("/api/report", responses={200: {"content": {"text/html": {}}}, **_JOB, **_ERRORS},
              summary="the self-contained HTML report (figures, tables, warnings; works offline)")
    async def report(req: schemas.ReportRequest):
        estimate, pieces = report_plan(req)

        async def work():
            return await report_html(req)

        out = await answer("report", estimate, pieces, work)
        return _report_response(out) if isinstance(out, str) else out

    @app.get("/api/jobs/{job_id}", response_model=JobStatus, responses={404: {"model": Problem}},
             summary="a background job: state and progress")
    async def job_status(job_id: str):
        return _job(runner, job_id).status()

    @app.get("/api/jobs/{job_id}/result", responses={404: {"model": Problem}, 409: {"model": Problem},
                                                     422: {"model": Problem}},
             summary="a finished job's result (as its endpoint would have answered)")
    async def job_result(job_id: str):
        job = _job(runner, job_id)
        if job.state in ("queued", "running"):
            return _problem(409, "job_id", f"job {job_id} is {job.state} ({100 * job.status()['progress']:.0f}%)")
        if job.error:
            return _problem(*job.error)
        return _report_response(job.result) if job.kind == "report" else job.result

    # -- downloads: plain links carrying the request, answered from the cache when the page ran it
    @app.get("/download/timecourse.csv", responses={200: {"content": {"text/csv": {}}}, **_ERRORS},
             summary="the time course of every observable as CSV (request: a SimulateRequest as JSON)")
    async def download_csv(request: str = Query(..., max_length=MAX_QUERY_CHARS)):
        req = _query_model(schemas.RunRequest, request)
        days, days_field = _days(req)
        cost.check_doses(req.regimen, days)
        kind, key, args = sim_args(req.regimen, days)
        estimate = sim_estimate(req.regimen, days, f"request.{days_field}")
        if not runner.cached(kind, key) and estimate.seconds > runner.sync_budget_s:
            raise InputError(estimate.field, f"not yet simulated and about {estimate.seconds:.0f} s to run: "
                                             "run it on the page (or POST /api/simulate) first")
        data = await runner.compute(kind, key, args)
        return Response(_csv(data), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="k2d3-timecourse.csv"'})

    @app.get("/download/report.html", responses={200: {"content": {"text/html": {}}}, **_ERRORS},
             summary="the HTML report (request: a ReportRequest as JSON)")
    async def download_report(request: str = Query(..., max_length=MAX_QUERY_CHARS)):
        req = _query_model(schemas.ReportRequest, request)
        estimate, _ = report_plan(req)
        if estimate.seconds > runner.sync_budget_s:
            raise InputError(f"request.{estimate.field}", f"about {estimate.seconds:.0f} s to compute: use the "
                                                          "page's report button (it runs in the background) or "
                                                          "POST /api/report")
        return _report_response(await report_html(req))

    return app


def draws() -> int:
    """Runs of the parameter ensemble an uncertainty band takes (0: the model has none)."""
    from k2d3.model.build import ensemble

    e = ensemble()
    return 0 if e is None else len(e)


def _job(runner: Runner, job_id: str):
    job = runner.jobs.get(job_id)
    if job is None:
        raise StarletteHTTPException(404, f"no job {job_id!r} (finished jobs are kept for a while, then dropped)")
    return job


def _query_model(model, text: str):
    try:
        return model.model_validate_json(text)
    except pydantic.ValidationError as exc:
        lines = _validation_lines(exc.errors(), "request")
        raise lines[0] from None


def _columns(data: dict, names: list[str] | None) -> dict:
    """The payload with only the asked-for time-course columns (and the charted ones)."""
    if names is None:
        return data
    keep = {"day", *names, *(c["name"] for c in data["charts"])}
    return {**data, "timecourse": {k: v for k, v in data["timecourse"].items() if k in keep}}


def _csv(data: dict) -> str:
    import pandas as pd

    return pd.DataFrame(data["timecourse"]).set_index("day").to_csv()


def _report_response(html_text: str) -> HTMLResponse:
    return HTMLResponse(html_text, headers={"Content-Disposition": 'attachment; filename="k2d3-report.html"'})


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, sync_budget_s: float = 30.0,
          job_limit_s: float = 900.0) -> None:
    import uvicorn

    uvicorn.run(create_app(workers, sync_budget_s, job_limit_s), host=host, port=port, log_level="info")
