/* The model page's charts (Chart.js, served locally). Data comes from #chart-data. */
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var data;
  try { data = JSON.parse(holder.textContent || "{}"); } catch (e) { return; }
  var accent = "#4f46e5", accentSoft = "rgba(79, 70, 229, 0.55)", grid = "rgba(15, 23, 42, 0.08)";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#475569";
  Chart.defaults.maintainAspectRatio = false;
  // numbers on axes and in tooltips rounded for reading (3 significant digits)
  var round = function (value) {
    if (typeof value !== "number" || !isFinite(value) || value === 0) { return value; }
    return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString("en") : String(Number(value.toPrecision(3)));
  };
  var scales = function (x, y) {
    return { x: { title: { display: !!x, text: x }, grid: { color: grid }, ticks: { callback: tick } },
             y: { title: { display: !!y, text: y }, grid: { color: grid }, ticks: { callback: tick } } };
  };
  function tick(value, index, ticks) {
    // category axes pass an index: show their label
    return this.type === "category" ? this.getLabelForValue(value) : round(value);
  }
  Chart.defaults.plugins.tooltip.callbacks.label = function (ctx) {
    var v = ctx.parsed, text;
    if (v && typeof v.x === "number" && typeof v.y === "number" && ctx.chart.config.type === "scatter") {
      text = "(" + round(v.x) + ", " + round(v.y) + ")";
    } else {
      text = round(ctx.chart.options.indexAxis === "y" ? v.x : v.y);
    }
    return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + text;
  };

  var history = data.history || {};
  // a score whose best is 1 (r2, f1, silhouette) is drawn on an axis that ends at 1
  function historyScales() {
    var out = scales("version", history.metric);
    if (typeof history.max === "number") { out.y.max = history.max; }
    if (typeof history.min === "number") { out.y.min = history.min; }
    return out;
  }
  var el = document.getElementById("chart-history");
  if (el && history.scores) {
    new Chart(el, {
      type: "line",
      data: { labels: history.labels, datasets: [{ label: history.metric, data: history.scores, borderColor: accent,
        backgroundColor: accentSoft, pointRadius: 4, tension: 0.2, spanGaps: true }] },
      options: { plugins: { legend: { display: false } }, scales: historyScales() }
    });
  }

  var evaluation = data.evaluation || {};
  el = document.getElementById("chart-scatter");
  if (el && evaluation.scatter) {
    var actual = evaluation.scatter.actual, predicted = evaluation.scatter.predicted;
    var points = actual.map(function (a, i) { return { x: a, y: predicted[i] }; })
      .filter(function (p) { return typeof p.x === "number" && typeof p.y === "number"; });
    var values = points.map(function (p) { return p.x; }).concat(points.map(function (p) { return p.y; }));
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    new Chart(el, {
      type: "scatter",
      data: { datasets: [
        { label: "holdout rows", data: points, backgroundColor: accentSoft, pointRadius: 3.5 },
        { label: "perfect prediction", type: "line", data: [{ x: lo, y: lo }, { x: hi, y: hi }],
          borderColor: "#94a3b8", borderDash: [6, 4], pointRadius: 0, fill: false }
      ] },
      options: { plugins: { legend: { position: "bottom" } }, scales: scales("actual", "predicted") }
    });
  }

  el = document.getElementById("chart-importance");
  if (el && evaluation.importance) {
    var imp = evaluation.importance;
    el.parentElement.style.height = Math.max(160, 28 * imp.features.length + 60) + "px";
    new Chart(el, {
      type: "bar",
      data: { labels: imp.features, datasets: [{ label: "importance", data: imp.values, backgroundColor: accentSoft,
        borderColor: accent, borderWidth: 1, maxBarThickness: 26 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false },
        tooltip: { callbacks: { afterLabel: function (ctx) {
          var s = imp.std[ctx.dataIndex]; return typeof s === "number" ? "± " + s.toFixed(3) : ""; } } } },
        scales: scales("drop in score when the column is shuffled", "") }
    });
  }
})();
