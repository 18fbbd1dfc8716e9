/* k2d3: drawing the results (charts, tables, warnings). Shared by the web page and the
   self-contained HTML report, so both show the same figures and tables. Data come from the
   JSON API (report/payload.py); nothing here fetches anything. */
"use strict";
window.K2D3 = (function () {
  const EVIDENCE = {
    clinical: "from human intervention or pharmacokinetic studies",
    observational: "from observational human studies (association, not proof of cause)",
    preclinical: "from laboratory or animal studies",
    assumed: "an assumption of the model where no data were found",
  };
  const ARM_COLORS = { placebo: "#7f7f7f", D: "#e67e22", K: "#2e8b57", DK: "#7b3fa0" };
  const ARM_DASH = { placebo: "dot", D: "dash", K: "solid", DK: "dashdot" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    if (Math.abs(v) < 1e-9) return "0";
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
    return Number(v.toPrecision(3)).toString();
  }

  /* A plain phrase with its technical name on hover. */
  function term(plain, technical) {
    return el("abbr", { title: technical, tabindex: "0" }, plain);
  }

  function evidenceBadge(level) {
    return el("span", { class: `evidence ev-${level}`, title: `evidence: ${level} — ${EVIDENCE[level] || ""}` },
      `evidence: ${level}`);
  }

  function section(id, title, ...children) {
    return el("section", { id, class: "card-section" }, el("h2", {}, title), ...children);
  }

  function table(head, rows, opts) {
    const t = el("table", { class: (opts && opts.class) || "" },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) =>
        i === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c))))));
    return el("div", { class: "table-wrap" }, t);
  }

  const PLOT_CONFIG = { displaylogo: false, responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"] };

  function layout(chart, yTitle, shapes, legend) {
    return {
      height: legend ? 310 : 260, margin: { l: 56, r: 12, t: 8, b: legend ? 90 : 40 }, hovermode: "x unified",
      xaxis: { title: { text: "day", standoff: 4 }, zeroline: false },
      yaxis: { title: { text: yTitle }, zeroline: false, automargin: true },
      showlegend: !!legend, legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top", font: { size: 11 } },
      shapes, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", font: { size: 12 },
    };
  }

  function rangeShapes(chart) {
    const shapes = [];
    if (chart.reference_range) {
      shapes.push({ type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0: chart.reference_range[0],
        y1: chart.reference_range[1], fillcolor: "rgba(46,139,87,0.13)", line: { width: 0 }, layer: "below" });
    }
    if (chart.target) {
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: chart.target.value,
        y1: chart.target.value, line: { color: "#b03a2e", width: 1.5, dash: "dash" } });
    }
    return shapes;
  }

  /* The band, when there is one: {lower, upper, label}, aligned with days. */
  function bandTraces(days, band, color, name) {
    if (!band) return [];
    return [
      { x: days, y: band.lower, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false,
        name: `${name} lower` },
      { x: days, y: band.upper, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: color,
        hoverinfo: "skip", name: band.label, showlegend: false },
    ];
  }

  function chartCard(chart, days, traces, extra) {
    const plot = el("div", { class: "plot", role: "img", "aria-label": `${chart.title} over time` });
    const title = el("h3", {}, term(chart.title, `${chart.technical} (${chart.name}): ${chart.description}`),
      " ", evidenceBadge(chart.evidence));
    const fig = el("figure", { class: "chart", "data-observable": chart.name }, title, plot,
      el("figcaption", {}, chart.caption, extra ? " " + extra : ""));
    return { node: fig, draw: () => Plotly.newPlot(plot, traces, layout(chart, chart.unit, rangeShapes(chart),
      traces.filter((t) => t.showlegend !== false).length > 1), PLOT_CONFIG) };
  }

  function drawAll(container, cards) {
    for (const c of cards) container.append(c.node);
    for (const c of cards) c.draw();
  }

  function renderSimulation(sim) {
    const tc = sim.timecourse;
    const grid = el("div", { class: "charts" });
    const cards = sim.charts.map((ch) => {
      const s = sim.summary.observables[ch.name];
      const traces = [
        ...bandTraces(tc.day, ch.band, "rgba(31,119,180,0.18)", ch.title),
        { x: tc.day, y: tc[ch.name], mode: "lines", name: ch.title, line: { color: "#1f77b4", width: 2 },
          hovertemplate: `%{y:.3g} ${ch.unit}<extra>${ch.name}</extra>` },
      ];
      let extra = `Day 0: ${fmt(s.baseline)}, day ${fmt(sim.days)}: ${fmt(s.end)} ${ch.unit}`;
      if (s.time_in_range !== null && s.time_in_range !== undefined)
        extra += `; in the reference range ${Math.round(100 * s.time_in_range)}% of the time`;
      return chartCard(ch, tc.day, traces, extra + ".");
    });
    const titrated = Object.entries(sim.summary.titrated_dose_mg_day || {}).map(([drug, mg]) =>
      el("p", {}, `The model set your ${drug} dose to ${fmt(mg)} mg a day during an 8-week run-in, then held it.`));
    const out = section("projection", "What the model projects", titrated,
      el("p", { class: "muted" }, sim.charts.some((c) => c.band) ? "" : sim.band_note + "."), grid);
    return { node: out, draw: () => drawAll(grid, cards) };
  }

  function renderWarnings(warnings) {
    const items = warnings.map((w) => el("li", { class: `warning sev-${w.severity}`, "data-code": w.code },
      el("strong", {}, w.severity.toUpperCase() + ": "), w.message,
      el("div", { class: "source" }, el("span", {}, "Source: "), w.source)));
    return section("warnings", "Safety warnings",
      warnings.length ? el("ul", { class: "warnings" }, items)
        : el("p", {}, "No safety rule fired for this regimen."));
  }

  function renderComparison(cmp) {
    const arms = ["placebo", "D", "K", "DK"];
    const rows = cmp.charts.map((ch) => {
      const r = cmp.observables[ch.name];
      return [term(ch.title, `${ch.technical} (${ch.name}), ${r.unit}`), ...arms.map((a) => fmt(r[`end_${a}`])),
        Math.abs(r.interaction) < r.floor ? term("about 0", `${r.interaction} (below 0.1% of the scale)`)
          : fmt(r.interaction), el("span", { class: `class-${r.class}` }, r.class)];
    });
    const who = cmp.n_subjects > 1 ? `, mean of ${cmp.n_subjects} virtual people` : "";
    const head = ["", ...arms.map((a) => term(cmp.arms[a], `arm ${a}`)),
      term("interaction", cmp.interaction), term("together", cmp.classification)];
    const grid = el("div", { class: "charts" });
    const cards = cmp.charts.map((ch) => {
      const traces = [];
      for (const a of arms) {
        const tc = cmp.timecourses[a];
        const band = cmp.bands && cmp.bands[a];
        if (band) traces.push(...bandTraces(tc.day, { lower: band.lower[ch.name], upper: band.upper[ch.name],
          label: band.label }, ARM_COLORS[a] + "22", cmp.arms[a]));
        traces.push({ x: tc.day, y: tc[ch.name], mode: "lines", name: cmp.arms[a],
          line: { color: ARM_COLORS[a], dash: ARM_DASH[a], width: a === "placebo" ? 2.6 : 1.8 },
          hovertemplate: `%{y:.3g} ${ch.unit}<extra>${cmp.arms[a]}</extra>` });
      }
      const chart = { ...ch, caption: cmp.sentences[ch.name] };
      return chartCard(chart, null, traces, "");
    });
    const details = el("details", { class: "arms-over-time" }, el("summary", {}, "The four arms over time"), grid);
    let drawn = false;
    const draw = () => { if (!drawn) { drawn = true; drawAll(grid, cards); } };
    details.addEventListener("toggle", () => { if (details.open) draw(); });
    const node = section("comparison", "Vitamin D and K, alone and together (2x2)",
      el("p", {}, `End values after ${fmt(cmp.days)} days in four versions of your regimen${who}: without the ` +
        `vitamin D and K supplements (placebo), with each alone, and with both. Everything else stays the same.`),
      table(head, rows, { class: "two-by-two" }),
      el("ul", { class: "sentences" }, cmp.charts.map((ch) => el("li", {}, cmp.sentences[ch.name]))),
      details);
    return { node, draw: () => { if (details.open) draw(); }, open: () => { details.open = true; draw(); } };
  }

  function renderIntake(intake) {
    const sources = ["usual_diet", "foods", "supplements", "sun"];
    const forms = table(["form", "usual diet", "foods", "supplements", "sun", "total"],
      intake.forms.map((r) => [`${r.form} (${r.unit})`, ...sources.map((s) => fmt(r[s])), fmt(r.total)]));
    const limitRows = [];
    for (const g of intake.totals) {
      for (const lim of g.limits) {
        limitRows.push([g.group + (lim.only ? ` (${lim.only} only)` : ""), `${fmt(lim.intake)} ${g.unit}`, term(`${lim.body} ${lim.kind}`, lim.source),
          lim.value === null ? "-" : fmt(lim.value), el("span", { class: `status-${lim.status.replace(/ /g, "-")}` },
            lim.status)]);
      }
    }
    return section("intake", "What you take in each day, against recommended amounts",
      el("ul", { class: "sentences" }, intake.sentences.map((s) => el("li", {}, s))),
      el("p", { class: "muted" }, `Mean per day over ${fmt(intake.days)} days, as eaten or taken (before ` +
        `absorption); vitamins in µg, calcium in mg. Sun: the oral D3 your skin's production equals, shown but ` +
        `not counted against the upper level. RDA/AI/PRI: recommended intakes; UL: tolerable upper level ` +
        `(hover for the source).`),
      forms, table(["group", "intake", "reference", "value", "status"], limitRows, { class: "limits" }));
  }

  function renderPlan(plan) {
    const rows = plan.targets.map((t) => [t, fmt(plan.start[t]), plan.assigned[t],
      plan.assigned[t] in plan.doses_ug_day ? fmt(plan.doses_ug_day[plan.assigned[t]]) + " µg/day" : "-",
      fmt(plan.reached[t])]);
    const thumbs = plan.rules_of_thumb.map((r) =>
      el("li", {}, `Rule of thumb, ${r.rule}: ${r.dose_text} — ${r.why} (source: ${r.source})`));
    const flags = [...plan.blocking, ...plan.advice].map((f) =>
      el("li", { class: `warning sev-${f.severity}` }, `${f.severity.toUpperCase()}: ${f.message}`,
        el("div", { class: "source" }, `Source: ${f.source}`)));
    return section("plan", "Dose finder",
      el("p", { class: plan.safe ? "answer" : "answer unsafe" }, plan.answer),
      table(["target", "without added doses", "form", "dose", "reached"], rows),
      plan.notes.length ? el("ul", {}, plan.notes.map((n) => el("li", {}, n))) : null,
      thumbs.length ? el("ul", { class: "thumbs" }, thumbs) : null,
      flags.length ? el("ul", { class: "warnings" }, flags) : null,
      el("p", { class: "muted" }, `${plan.simulations} simulations.`));
  }

  function notMedicalAdvice(text) {
    return el("p", { class: "not-advice", role: "note" }, text);
  }

  function evidenceLegend() {
    return el("p", { class: "muted legend" }, "Evidence levels: ",
      Object.entries(EVIDENCE).map(([k, v], i) => [i ? "; " : "", el("strong", {}, k), ` — ${v}`]), ".");
  }

  /* The whole report (report/html.py): every section of payload.collect. */
  function renderReport(data, root) {
    root.append(notMedicalAdvice(data.simulation.not_medical_advice), evidenceLegend());
    const sim = renderSimulation(data.simulation);
    root.append(renderWarnings(data.simulation.warnings), sim.node);
    sim.draw();
    if (data.comparison) {
      const cmp = renderComparison(data.comparison);
      root.append(cmp.node);
      cmp.open();
    } else if (data.comparison_note) {
      root.append(section("comparison", "Vitamin D and K, alone and together (2x2)", el("p", {}, data.comparison_note)));
    }
    root.append(renderIntake(data.intake));
    if (data.plan) root.append(renderPlan(data.plan));
    root.append(section("inputs", "The regimen simulated",
      el("pre", { class: "regimen" }, JSON.stringify(data.regimen, null, 2)),
      el("p", {}, `Simulated days: ${fmt(data.days)}.`)));
  }

  return { el, fmt, term, section, renderSimulation, renderWarnings, renderComparison, renderIntake, renderPlan,
    renderReport, notMedicalAdvice, evidenceLegend };
})();
