/* k2d3 web page: the form, its state in the address (shareable), calls to the JSON API,
   background-job progress, and errors shown with the field they name. Drawing is render.js. */
"use strict";
(function () {
  const { el, fmt } = window.K2D3;
  const form = document.getElementById("form");
  const NG_ML_IN_NMOL_L = 2.496;
  const EVERY = [["1 day", "every day"], ["12 h", "twice a day"], ["2 days", "every other day"],
    ["3.5 days", "twice a week"], ["7 days", "once a week"], ["30 days", "once a month"]];
  const COMPOUNDS = [["D3", "vitamin D3"], ["D2", "vitamin D2"], ["calcifediol", "calcifediol (25(OH)D3)"],
    ["MK-7", "vitamin K2, MK-7"], ["MK-4", "vitamin K2, MK-4"], ["MK-9", "vitamin K2, MK-9"],
    ["K1", "vitamin K1"], ["calcium", "calcium"]];
  const D_FORMS = ["D3", "D2", "calcifediol"];
  const K_FORMS = ["K1", "MK-4", "MK-7", "MK-8", "MK-9"];
  const CHECKS = ["pregnant", "breastfeeding", "type2_diabetes", "prediabetes", "sarcoidosis",
    "primary_hyperparathyroidism"];
  const DEFAULT_SUPPLEMENTS = [{ compound: "D3", dose: "2000", unit: "IU", every: "1 day", meal: true },
    { compound: "MK-7", dose: "180", unit: "ug", every: "1 day", meal: true }];
  let foods = [];

  function options(select, pairs, value) {
    select.replaceChildren(...pairs.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
  }

  /* ---- repeated rows: supplements and foods */
  function supplementRow(s) {
    const i = document.querySelectorAll("#supplements .item").length;
    const compound = el("select", { name: "s_compound", "aria-label": "supplement" });
    options(compound, COMPOUNDS, s.compound);
    const dose = el("input", { type: "number", name: "s_dose", min: "0", step: "any", value: s.dose,
      "aria-label": "dose" });
    const unit = el("select", { name: "s_unit", "aria-label": "unit" });
    options(unit, [["IU", "IU"], ["ug", "µg"], ["mg", "mg"]], s.unit);
    const every = el("select", { name: "s_every", "aria-label": "how often" });
    options(every, EVERY, s.every);
    const meal = el("input", { type: "checkbox", name: "s_meal", checked: s.meal !== false });
    const row = el("div", { class: "item row" },
      el("label", {}, "Supplement ", compound), el("label", {}, "Dose ", el("span", { class: "inline" }, dose, unit)),
      el("label", {}, "How often ", every),
      el("label", { title: "with_meal_fat_g: a usual meal (about 15 g fat), or none" }, meal, " with a meal"),
      el("button", { type: "button", class: "remove", "aria-label": "remove this supplement" }, "×"));
    setFields(row, i, "supplements", { s_compound: "compound", s_dose: "dose", s_unit: "dose", s_every: "every",
      s_meal: "with_meal_fat_g" });
    row.querySelector(".remove").addEventListener("click", () => { row.remove(); renumber(); });
    document.getElementById("supplements").append(row);
  }

  function foodRow(d) {
    const i = document.querySelectorAll("#diet .item").length;
    const food = el("input", { type: "search", name: "f_food", list: "food-list", value: d.food,
      placeholder: "search a food", "aria-label": "food" });
    const grams = el("input", { type: "number", name: "f_grams", min: "1", step: "any", value: d.grams,
      "aria-label": "grams" });
    const every = el("select", { name: "f_every", "aria-label": "how often" });
    options(every, EVERY.filter(([v]) => v !== "12 h"), d.every);
    const info = el("span", { class: "food-info muted" });
    const row = el("div", { class: "item row" }, el("label", {}, "Food ", food), el("label", {}, "Grams ", grams),
      el("label", {}, "How often ", every), info,
      el("button", { type: "button", class: "remove", "aria-label": "remove this food" }, "×"));
    setFields(row, i, "diet", { f_food: "food", f_grams: "grams", f_every: "every" });
    const describe = () => { info.textContent = foodInfo(food.value); };
    food.addEventListener("change", describe);
    describe();
    row.querySelector(".remove").addEventListener("click", () => { row.remove(); renumber(); });
    document.getElementById("diet").append(row);
  }

  function setFields(row, i, list, names) {
    for (const [name, field] of Object.entries(names))
      row.querySelector(`[name=${name}]`).dataset.field = `regimen.${list}.${i}.${field}`;
  }

  function renumber() {
    for (const list of ["supplements", "diet"]) {
      document.querySelectorAll(`#${list} .item`).forEach((row, i) => {
        row.querySelectorAll("[data-field]").forEach((x) => {
          x.dataset.field = x.dataset.field.replace(/^regimen\.(\w+)\.\d+\./, `regimen.$1.${i}.`);
        });
      });
    }
  }

  function foodInfo(name) {
    const key = (name || "").trim().toLowerCase();
    const f = foods.find((x) => x.name.toLowerCase() === key || x.aliases.some((a) => a.toLowerCase() === key));
    if (!f) return "";
    const named = { d3_ug: "D3", d2_ug: "D2", ohd25_ug: "25(OH)D3", k1_ug: "K1" };
    const label = (c) => named[c] || c.replace(/^mk(\d+)_ug$/, "MK-$1");
    const parts = Object.entries(f.per_100g_ug).filter(([, v]) => v).map(([c, v]) => `${label(c)} ${fmt(v)} µg`);
    if (f.calcium_mg) parts.push(`calcium ${fmt(f.calcium_mg)} mg`);
    const portions = Object.entries(f.portions_g || {}).map(([p, g]) => `${p} = ${fmt(g)} g`);
    return (parts.length ? `per 100 g: ${parts.join(", ")}` : "per 100 g: no vitamin D or K reported") +
      (portions.length ? ` (${portions.join(", ")})` : "");
  }

  /* ---- state: the form as a plain object, kept in the address */
  function val(name) { const x = form.elements[name]; return x ? x.value : ""; }

  function readState() {
    const s = {};
    for (const name of ["age", "sex", "weight_kg", "height_cm", "menopause_age", "kidney", "egfr", "malabsorption",
      "skin_type", "ohd", "ohd_unit", "drug", "drug_by", "drug_mg", "inr", "cyp2c9", "vkorc1", "sun_minutes",
      "sun_skin", "sun_latitude", "sun_month", "sun_days", "days", "plan_observable", "plan_value", "plan_forms"])
      s[name] = val(name);
    for (const c of CHECKS) s[c] = form.elements[c].checked;
    s.supplements = [...document.querySelectorAll("#supplements .item")].map((row) => ({
      compound: row.querySelector("[name=s_compound]").value, dose: row.querySelector("[name=s_dose]").value,
      unit: row.querySelector("[name=s_unit]").value, every: row.querySelector("[name=s_every]").value,
      meal: row.querySelector("[name=s_meal]").checked }));
    s.diet = [...document.querySelectorAll("#diet .item")].map((row) => ({
      food: row.querySelector("[name=f_food]").value, grams: row.querySelector("[name=f_grams]").value,
      every: row.querySelector("[name=f_every]").value }));
    s.plan = planWanted;
    return s;
  }

  function writeState(s) {
    for (const [name, v] of Object.entries(s)) {
      const x = form.elements[name];
      if (!x || x instanceof RadioNodeList) continue;
      if (x.type === "checkbox") x.checked = !!v; else if (v !== undefined && v !== null) x.value = v;
    }
    document.getElementById("supplements").replaceChildren();
    document.getElementById("diet").replaceChildren();
    (s.supplements || []).forEach(supplementRow);
    (s.diet || []).forEach(foodRow);
    planWanted = !!s.plan;
    toggles();
  }

  function saveState(s) {
    const url = new URL(window.location.href);
    url.search = new URLSearchParams({ s: JSON.stringify(s) }).toString();
    history.replaceState(null, "", url);
  }

  function loadState() {
    const raw = new URLSearchParams(window.location.search).get("s");
    if (!raw) return null;
    try { return JSON.parse(raw); } catch (e) { return null; }
  }

  /* ---- from state to API requests */
  function num(v) { return v === "" || v === undefined ? null : Number(v); }

  function regimen(s) {
    const female = s.sex === "female";
    const subject = { age: num(s.age), sex: s.sex, weight_kg: num(s.weight_kg), height_cm: num(s.height_cm),
      malabsorption: s.malabsorption, skin_type: num(s.skin_type) };
    if (female && s.menopause_age !== "") subject.menopause_age = num(s.menopause_age);
    if (["3", "4", "5"].includes(s.kidney)) subject.ckd_stage = num(s.kidney);
    if (s.kidney === "egfr") subject.egfr_ml_min = num(s.egfr);
    for (const c of CHECKS) if (s[c] && (female || !["pregnant", "breastfeeding"].includes(c))) subject[c] = true;
    if (s.ohd !== "") subject.baseline_25ohd_nmol_l = num(s.ohd) * (s.ohd_unit === "ng/mL" ? NG_ML_IN_NMOL_L : 1);
    const r = { subject, supplements: [], diet: [], medications: [] };
    if (s.drug) {
      subject.cyp2c9 = s.cyp2c9; subject.vkorc1 = s.vkorc1;
      r.medications.push(s.drug_by === "inr" ? { drug: s.drug, target_inr: num(s.inr) }
        : { drug: s.drug, dose: `${s.drug_mg} mg`, every: "1 day" });
    }
    for (const x of s.supplements) {
      const item = { compound: x.compound, dose: `${x.dose} ${x.unit}`, every: x.every };
      if (!x.meal) item.with_meal_fat_g = 0;
      r.supplements.push(item);
    }
    for (const x of s.diet) r.diet.push({ food: x.food, grams: num(x.grams), every: x.every });
    if (num(s.sun_minutes) > 0)
      r.sun = { minutes_per_day: num(s.sun_minutes), skin_fraction: num(s.sun_skin), latitude: num(s.sun_latitude),
        month: num(s.sun_month), days_per_week: num(s.sun_days) };
    return r;
  }

  function planRequest(s) {
    const [observable, op] = s.plan_observable.split("|");
    const forms = s.plan_forms.split(",");
    const base = regimen(s);
    base.supplements = base.supplements.filter((x) => !forms.includes(x.compound));
    return { regimen: base, targets: [{ observable, op, value: num(s.plan_value) }], forms };
  }

  /* ---- calling the API: direct answers, background jobs, errors */
  class ApiError extends Error {
    constructor(body, status) { super(body.error || `HTTP ${status}`); this.body = body; this.status = status; }
  }

  async function post(url, body, progress, raw) {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    return answer(res, progress, raw);
  }

  async function answer(res, progress, raw) {
    if (res.status === 202) return poll(await res.json(), progress, raw);
    if (!res.ok) {
      let body;
      try { body = await res.json(); } catch (e) { body = { error: `the server answered ${res.status}` }; }
      throw new ApiError(body, res.status);
    }
    return raw ? res.blob() : res.json();
  }

  async function poll(job, progress, raw) {
    for (;;) {
      if (progress) progress(job);
      if (job.state === "done") return answer(await fetch(job.result_url), null, raw);
      if (job.state === "failed") throw new ApiError(job.error, job.error.status);
      await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(job.status_url);
      if (!res.ok) throw new ApiError(await res.json(), res.status);
      job = await res.json();
    }
  }

  function waiting(target, what) {
    const bar = el("progress", { max: "1" });
    const label = el("span", {}, `${what}…`);
    target.replaceChildren(el("p", { class: "waiting" }, label, " ", bar));
    return (job) => {
      bar.value = job.progress;
      label.textContent = `${what}: ${job.state === "queued" ? "waiting for the simulator" : `about ` +
        `${Math.max(0, Math.round(job.expected_s - job.elapsed_s))} s left`}`;
    };
  }

  function showError(err) {
    const box = document.getElementById("error");
    const body = err.body || { error: String(err) };
    const lines = body.problems && body.problems.length ? body.problems : [body.error];
    box.replaceChildren(el("strong", {}, "Please check: "), el("ul", {}, lines.map((l) => el("li", {}, l))));
    box.hidden = false;
    let field = body.field || "";
    let target = null;
    while (field && !(target = form.querySelector(`[data-field="${CSS.escape(field)}"]`)))
      field = field.includes(".") ? field.slice(0, field.lastIndexOf(".")) : "";
    if (target) { target.classList.add("invalid"); target.setAttribute("aria-invalid", "true"); }
  }

  function clearError() {
    const box = document.getElementById("error");
    box.hidden = true; box.replaceChildren();
    form.querySelectorAll(".invalid").forEach((x) => { x.classList.remove("invalid"); x.removeAttribute("aria-invalid"); });
  }

  /* ---- running */
  let planWanted = false;
  let generation = 0;

  async function run() {
    const gen = ++generation;
    clearError();
    const s = readState();
    saveState(s);
    const req = { regimen: regimen(s), days: num(s.days) };
    const status = document.getElementById("status");
    status.textContent = "Working…";
    const out = (id) => document.getElementById(id);
    out("advice-note").replaceChildren(K2D3.notMedicalAdvice("k2d3 is a research model, not medical advice: " +
      "talk to a clinician before you start, stop or change a supplement or a medication."), K2D3.evidenceLegend());
    for (const id of ["warnings-out", "projection-out", "comparison-out", "intake-out", "plan-out"])
      out(id).replaceChildren();
    links(req, s);
    const tasks = [];
    tasks.push(post("/api/simulate", { ...req, observables: [] }, waiting(out("projection-out"), "Simulating"))
      .then((sim) => {
        if (gen !== generation) return;
        out("warnings-out").replaceChildren(K2D3.renderWarnings(sim.warnings));
        const view = K2D3.renderSimulation(sim);
        out("projection-out").replaceChildren(view.node);
        view.draw();
      }));
    tasks.push(post("/api/intake", req).then((intake) => {
      if (gen === generation) out("intake-out").replaceChildren(K2D3.renderIntake(intake));
    }));
    const compounds = req.regimen.supplements.map((x) => x.compound);
    if (compounds.some((c) => D_FORMS.includes(c)) && compounds.some((c) => K_FORMS.includes(c))) {
      tasks.push(post("/api/compare", req, waiting(out("comparison-out"), "Comparing four versions of your regimen"))
        .then((cmp) => {
          if (gen !== generation) return;
          const view = K2D3.renderComparison(cmp);
          out("comparison-out").replaceChildren(view.node);
          view.draw();
        }));
    } else {
      out("comparison-out").replaceChildren(K2D3.section("comparison", "Vitamin D and K, alone and together (2x2)",
        el("p", {}, "Add a vitamin D supplement and a vitamin K supplement to compare them alone and together.")));
    }
    if (planWanted) tasks.push(runPlan(gen));
    out("plan-form").hidden = false;
    const results = await Promise.allSettled(tasks);
    if (gen !== generation) return;
    const failed = results.filter((r) => r.status === "rejected");
    failed.forEach((r) => showError(r.reason));
    if (failed.length) {
      for (const id of ["projection-out", "comparison-out"])
        if (out(id).querySelector(".waiting")) out(id).replaceChildren();
    }
    status.textContent = failed.length ? "Stopped: see the message below the form." : "Done.";
    out("downloads").hidden = !!failed.length;
  }

  async function runPlan(gen) {
    const s = readState();
    const target = document.getElementById("plan-out");
    const p = await post("/api/plan", planRequest(s), waiting(target, "Finding the dose"));
    if (gen === generation) target.replaceChildren(K2D3.renderPlan(p));
  }

  function reportRequest(req, s) {
    const r = { ...req };
    if (planWanted) { const p = planRequest(s); r.plan = { targets: p.targets, forms: p.forms }; }
    return r;
  }

  function links(req, s) {
    const csv = document.getElementById("dl-csv");
    csv.href = "/download/timecourse.csv?" + new URLSearchParams({ request: JSON.stringify(req) });
    const rep = document.getElementById("dl-report");
    rep.href = "/download/report.html?" + new URLSearchParams({ request: JSON.stringify(reportRequest(req, s)) });
  }

  async function downloadReport(ev) {
    ev.preventDefault();
    const s = readState();
    const req = reportRequest({ regimen: regimen(s), days: num(s.days) }, s);
    const status = document.getElementById("dl-status");
    status.textContent = " preparing the report…";
    try {
      const blob = await post("/api/report", req, (job) => {
        status.textContent = ` preparing the report: ${Math.round(100 * job.progress)}%`;
      }, true);
      const a = el("a", { href: URL.createObjectURL(blob), download: "k2d3-report.html" });
      document.body.append(a); a.click(); a.remove();
      status.textContent = "";
    } catch (err) { status.textContent = ""; showError(err); }
  }

  function toggles() {
    const female = val("sex") === "female";
    document.querySelectorAll(".female-only").forEach((x) => { x.hidden = !female; });
    const drug = !!val("drug");
    document.querySelectorAll(".drug-only").forEach((x) => { x.hidden = !drug; });
    const byInr = val("drug_by") === "inr";
    document.querySelectorAll(".by-dose").forEach((x) => { x.hidden = !drug || byInr; });
    document.querySelectorAll(".by-inr").forEach((x) => { x.hidden = !drug || !byInr; });
    document.querySelectorAll(".egfr-only").forEach((x) => { x.hidden = val("kidney") !== "egfr"; });
  }

  async function start() {
    const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
      "November", "December"];
    options(form.elements.sun_month, months.map((m, i) => [String(i + 1), m]), "6");
    form.addEventListener("change", toggles);
    document.getElementById("add-supplement").addEventListener("click",
      () => supplementRow({ compound: "D3", dose: "1000", unit: "IU", every: "1 day", meal: true }));
    document.getElementById("add-food").addEventListener("click", () => foodRow({ food: "", grams: "100", every: "7 days" }));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
    document.getElementById("plan-run").addEventListener("click", async () => {
      planWanted = true;
      clearError();
      saveState(readState());
      try { await runPlan(generation); } catch (err) { document.getElementById("plan-out").replaceChildren(); showError(err); }
    });
    document.getElementById("dl-report").addEventListener("click", downloadReport);
    try {
      foods = await (await fetch("/api/foods")).json();
      document.body.append(el("datalist", { id: "food-list" },
        foods.flatMap((f) => [f.name, ...f.aliases].map((n) => el("option", { value: n }, f.group)))));
    } catch (e) { foods = []; }
    const saved = loadState();
    if (saved) { writeState(saved); run(); } else { DEFAULT_SUPPLEMENTS.forEach(supplementRow); toggles(); }
    document.body.dataset.ready = "true";
  }

  start();
})();
