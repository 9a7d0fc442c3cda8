// Leanstock's own script: the item chart (uPlot), drawn from /items/<sku>/chart.json, Today's
// KPI chart and the KPIs page's monthly charts.
// No inline scripts anywhere (the pages' CSP allows scripts from this site only).
(function () {
  "use strict";

  function drawChart(el) {
    if (!window.uPlot || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { el.textContent = "The chart could not be loaded."; return; }
        var days = [], shipped = [], fc = [], q80 = [], q95 = [];
        data.history.forEach(function (h) {
          days.push(Date.parse(h.week) / 1000); shipped.push(h.shipped);
          fc.push(null); q80.push(null); q95.push(null);
        });
        data.forecast.forEach(function (f) {
          days.push(Date.parse(f.ds) / 1000); shipped.push(null);
          fc.push(f.forecast); q80.push(f.q80); q95.push(f.q95);
        });
        var width = Math.max(280, el.clientWidth || 600);
        var opts = {
          width: width, height: 260,
          scales: { x: { time: true } },
          series: [
            {},
            { label: "Shipped", stroke: "#1f5f8b", fill: "rgba(31,95,139,0.25)",
              paths: uPlot.paths.bars({ size: [0.7, 40] }) },
            { label: "Forecast", stroke: "#b4530a", width: 2 },
            { label: "80%", stroke: "#b4530a", dash: [6, 4] },
            { label: "95%", stroke: "#7a3a08", dash: [2, 4] }
          ],
          axes: [{}, { label: "quantity" }]
        };
        var plot = new uPlot(opts, [days, shipped, fc, q80, q95], el);
        window.addEventListener("resize", function () {
          plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 });
        });
        el.dataset.ready = "1";
      });
  }

  // Today's KPI chart: money tied up (bars) and fill rate (line, right axis) per month,
  // from the data-series attribute the server rendered.
  function drawKpis(el) {
    if (!window.uPlot || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    var data = JSON.parse(el.dataset.series);
    var months = data.months.map(function (m) { return Date.parse(m + "-01") / 1000; });
    var fill = data.fill_rate.map(function (f) { return f === null ? null : f * 100; });
    var width = Math.max(280, el.clientWidth || 600);
    var opts = {
      width: width, height: 220,
      scales: { x: { time: true }, pct: { range: [0, 100] } },
      series: [
        {},
        { label: "Money tied up", stroke: "#1f5f8b", fill: "rgba(31,95,139,0.25)",
          paths: uPlot.paths.bars({ size: [0.6, 60] }) },
        { label: "Fill rate %", stroke: "#b4530a", width: 2, scale: "pct" }
      ],
      axes: [{}, { label: "money" }, { scale: "pct", side: 1, label: "fill %", grid: { show: false } }]
    };
    var plot = new uPlot(opts, [months, data.tied_up, fill], el);
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    });
    el.dataset.ready = "1";
  }

  // The KPIs page's monthly charts, from the data-kpi-series attribute the server rendered:
  // "money" (money tied up as bars; stock value, carrying and scrap cost as lines) or
  // "service" (fill rate, lines in full and forecast error, in %).
  function drawMonths(el) {
    if (!window.uPlot || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    var data = JSON.parse(el.dataset.kpiSeries);
    var months = data.months.map(function (m) { return Date.parse(m + "-01") / 1000; });
    var pct = function (xs) { return xs.map(function (v) { return v === null ? null : v * 100; }); };
    var money = el.dataset.kind === "money";
    var series = money ? [
      {},
      { label: "Money tied up", stroke: "#1f5f8b", fill: "rgba(31,95,139,0.25)",
        paths: uPlot.paths.bars({ size: [0.6, 60] }) },
      { label: "Stock value", stroke: "#14532d", width: 2 },
      { label: "Carrying cost", stroke: "#b4530a", width: 2 },
      { label: "Scrap", stroke: "#7a1f1f", width: 2, dash: [6, 4] }
    ] : [
      {},
      { label: "Fill rate %", stroke: "#1f5f8b", width: 2 },
      { label: "Lines in full %", stroke: "#14532d", width: 2, dash: [6, 4] },
      { label: "Forecast error %", stroke: "#b4530a", width: 2 }
    ];
    var values = money
      ? [months, data.tied_up, data.stock_value, data.carrying_cost, data.scrap_cost]
      : [months, pct(data.fill_rate), pct(data.cycle_service), pct(data.wape)];
    var width = Math.max(280, el.clientWidth || 600);
    var opts = {
      width: width, height: 240,
      scales: { x: { time: true } },
      series: series,
      axes: [{}, { label: money ? "money" : "%" }]
    };
    var plot = new uPlot(opts, values, el);
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
    });
    el.dataset.ready = "1";
  }

  function init(root) {
    var scope = root.querySelectorAll ? root : document;
    scope.querySelectorAll("#chart[data-src]").forEach(drawChart);
    scope.querySelectorAll("#kpi-chart[data-series]").forEach(drawKpis);
    scope.querySelectorAll(".kpi-months[data-kpi-series]").forEach(drawMonths);
  }

  // A form marked data-once posts once: a second click while the page is on its way is
  // ignored (the API-token form, whose answer holds a secret no idempotency key may keep).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-once]")) return;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target); });
})();
