// The ministry dashboard: reads /ministry/<section> with the user's bearer token and draws each
// section's totals, its per-municipality table and a bar chart (inline SVG) of one figure.
// Everything is built with DOM calls and textContent (never innerHTML): the CSP allows no inline code.
"use strict";
(function () {
  const SECTIONS = ["participation", "capacity", "timeliness", "outcomes", "money"];
  const TOKEN_KEY = "famassist.token";  // sessionStorage: gone when the tab is closed
  const LANG_KEY = "famassist.lang";
  const SVG = "http://www.w3.org/2000/svg";
  // The figure each section's chart shows first (any other chartable figure can be chosen).
  const CHART_FIRST = { participation: "assistants", capacity: "utilisation", timeliness: "decisions_within_due_share",
                        outcomes: "cases", money: "amount" };
  const LABELS = window.FAMASSIST_LABELS;
  const state = {
    lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "lv",
    answers: null,        // section → the last answer
    chartFigure: {},      // section → the figure its chart shows
    municipalities: new Set(),
  };
  const $ = (id) => document.getElementById(id);

  function ui(key) {
    return LABELS[state.lang].ui[key] ?? LABELS.lv.ui[key] ?? key;
  }
  function humanize(name) {
    const words = String(name).replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }
  // A figure's (or an object key's) label in the chosen language; the name itself when none is known.
  function label(name) {
    const known = LABELS[state.lang].figures[name];
    return known ?? (state.lang === "en" ? humanize(name) : name);
  }
  function sectionTitle(section) {
    return LABELS[state.lang].sections[section] ?? humanize(section);
  }
  // A value as shown: integers as they are, decimal strings with the language's decimal mark, null as a dash.
  function show(value) {
    if (value === null || value === undefined) return ui("not_defined");
    const text = String(value);
    return state.lang === "lv" ? text.replace(".", ",") : text;
  }
  function isObject(value) {
    return value !== null && typeof value === "object";
  }
  function numeric(value) {
    const number = typeof value === "number" ? value : Number(value);
    return value !== null && value !== "" && Number.isFinite(number) ? number : null;
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }
  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = ui("title");
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = ui(node.dataset.text);
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function showLogin(message) {
    $("main").hidden = true;
    $("login").hidden = false;
    if (message) setStatus(message, true);
    $("login").append($("status"));
  }
  function showMain() {
    $("login").hidden = true;
    $("main").hidden = false;
    $("scope").after($("status"));
  }

  function query() {
    const params = new URLSearchParams();
    for (const name of ["municipality", "from", "to"]) {
      const value = $(name).value;
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  async function fetchSection(section, token, params) {
    const answer = await fetch(`/ministry/${section}${params ? "?" + params : ""}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" }, cache: "no-store",
    });
    const body = await answer.json().catch(() => null);
    if (!answer.ok) {
      const error = new Error((body && body.detail) || answer.statusText);
      error.status = answer.status;
      throw error;
    }
    return body;
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return showLogin();
    showMain();
    setStatus(ui("loading"));
    document.body.dataset.loaded = "false";
    const params = query();
    try {
      const answers = await Promise.all(SECTIONS.map((section) => fetchSection(section, token, params)));
      state.answers = Object.fromEntries(SECTIONS.map((section, i) => [section, answers[i]]));
    } catch (error) {
      if (error.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        return showLogin(ui("error_401"));
      }
      const known = { 403: "error_403", 404: "error_404", 422: "error_422" }[error.status];
      setStatus(`${known ? ui(known) : ui("error")} (${error.status || "?"}: ${error.message})`, true);
      return;
    }
    const scope = state.answers.participation.scope;
    if (!scope.municipality) {
      for (const row of state.answers.participation.municipalities) state.municipalities.add(row.municipality);
    } else {
      state.municipalities.add(scope.municipality);
    }
    $("from").value = scope.from;
    $("to").value = scope.to;
    render();
    setStatus(ui("loaded"));
    document.body.dataset.loaded = "true";
  }

  function fillMunicipalities() {
    const select = $("municipality");
    const chosen = select.value;
    for (const option of [...select.options]) if (option.value) option.remove();
    for (const code of [...state.municipalities].sort()) select.append(el("option", { value: code }, code));
    select.value = chosen;
  }

  function valueCell(tag, value, attributes) {
    const cell = el(tag, attributes);
    if (!isObject(value)) {
      cell.textContent = show(value);
      if (numeric(value) !== null) cell.classList.add("number");
      return cell;
    }
    const entries = Object.entries(value);
    if (!entries.length) {
      cell.textContent = ui("no_rows");
      return cell;
    }
    const table = el("table", { class: "inner" });
    for (const [key, inner] of entries) {
      table.append(el("tr", { "data-key": key }, el("th", { scope: "row", title: key }, label(key)),
                      el("td", { class: "number" }, show(inner))));
    }
    cell.append(table);
    return cell;
  }

  function totalsTable(answer) {
    const table = el("table", { class: "totals" });
    table.append(el("caption", {}, ui("totals")));
    for (const [figure, value] of Object.entries(answer.totals)) {
      table.append(el("tr", {}, el("th", { scope: "row", title: figure }, label(figure)),
                      valueCell("td", value, { "data-total": figure })));
    }
    return table;
  }

  function municipalitiesTable(answer) {
    const figures = Object.keys(answer.totals);
    const table = el("table", { class: "municipalities" });
    table.append(el("caption", {}, ui("by_municipality")));
    const head = el("tr", {}, el("th", { scope: "col" }, ui("municipality")));
    for (const figure of figures) head.append(el("th", { scope: "col", title: figure }, label(figure)));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (const row of answer.municipalities) {
      const line = el("tr", { "data-municipality": row.municipality },
                      el("th", { scope: "row" }, row.municipality));
      for (const figure of figures) line.append(valueCell("td", row[figure], { "data-figure": figure }));
      body.append(line);
    }
    if (!answer.municipalities.length) {
      body.append(el("tr", {}, el("td", { colspan: String(figures.length + 1) }, ui("no_rows"))));
    }
    table.append(body);
    return table;
  }

  // Figures a chart can show per municipality: every value a number (or a decimal string) or null.
  function chartable(answer) {
    return Object.keys(answer.totals).filter((figure) => !isObject(answer.totals[figure]) &&
      answer.municipalities.every((row) => row[figure] === null || numeric(row[figure]) !== null));
  }

  function barChart(section, figure, answer) {
    const rows = answer.municipalities.map((row) => ({ label: row.municipality, value: row[figure] }));
    const width = 640, left = 110, right = 90, bar = 22, gap = 6;
    const height = Math.max(1, rows.length) * (bar + gap) + gap;
    const biggest = Math.max(0, ...rows.map((row) => numeric(row.value) ?? 0));
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                               class: "chart", "data-chart": figure });
    chart.append(svg("title", {}, `${sectionTitle(section)}: ${label(figure)}`));
    rows.forEach((row, i) => {
      const y = gap + i * (bar + gap);
      const length = biggest > 0 ? ((numeric(row.value) ?? 0) / biggest) * (width - left - right) : 0;
      const group = svg("g", { "data-municipality": row.label });
      group.append(svg("text", { x: left - 8, y: y + bar * 0.7, "text-anchor": "end", class: "axis" }, row.label));
      group.append(svg("rect", { x: left, y, width: Math.max(length, 0), height: bar, class: "bar" }));
      group.append(svg("text", { x: left + length + 6, y: y + bar * 0.7, class: "value" }, show(row.value)));
      chart.append(group);
    });
    return chart;
  }

  function chartBlock(section, answer) {
    const figures = chartable(answer);
    if (!figures.length || !answer.municipalities.length) return el("div");
    if (!figures.includes(state.chartFigure[section])) {
      state.chartFigure[section] = figures.includes(CHART_FIRST[section]) ? CHART_FIRST[section] : figures[0];
    }
    const figure = state.chartFigure[section];
    const select = el("select", { id: `chart-${section}`, class: "chart-figure" });
    for (const name of figures) select.append(el("option", { value: name }, label(name)));
    select.value = figure;
    select.addEventListener("change", () => {
      state.chartFigure[section] = select.value;
      render();
    });
    return el("figure", { class: "chart-block" },
              el("figcaption", {}, el("label", { for: select.id }, ui("chart_of") + ": "), select),
              barChart(section, figure, answer));
  }

  function render() {
    fillMunicipalities();
    const answers = state.answers;
    const container = $("sections");
    container.replaceChildren();
    if (!answers) return;
    const scope = answers.participation.scope;
    $("scope").textContent = ui("scope").replace("{municipality}", scope.municipality || ui("all_municipalities"))
      .replace("{from}", scope.from).replace("{to}", scope.to);
    for (const section of SECTIONS) {
      const answer = answers[section];
      container.append(el("section", { class: "figures", id: `section-${section}`, "data-section": section },
                          el("h2", {}, sectionTitle(section)), totalsTable(answer), chartBlock(section, answer),
                          el("div", { class: "scroll" }, municipalitiesTable(answer))));
    }
  }

  function setLanguage(lang) {
    state.lang = lang;
    localStorage.setItem(LANG_KEY, lang);
    translatePage();
    render();
  }

  document.addEventListener("DOMContentLoaded", () => {
    translatePage();
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      setStatus("");
      load();
    });
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("logout").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      state.answers = null;
      render();
      setStatus("");
      showLogin();
    });
    load();
  });
})();
