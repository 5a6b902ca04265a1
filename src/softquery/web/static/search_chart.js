/* A version's hyperparameter search: its score against trial (Chart.js, served locally). Data from #search-chart-data. */
(function () {
  "use strict";
  var holder = document.getElementById("search-chart-data");
  var el = document.getElementById("chart-search");
  if (!holder || !el || typeof Chart === "undefined") { return; }
  var data;
  try { data = JSON.parse(holder.textContent || "{}"); } catch (e) { return; }
  var accent = "#4f46e5", chosen = "#16a34a", grid = "rgba(15, 23, 42, 0.08)";
  var colors = data.labels.map(function (n) { return n === data.chosen ? chosen : accent; });
  var radius = data.labels.map(function (n) { return n === data.chosen ? 7 : 4; });
  var chart = new Chart(el, {
    type: "line",
    data: { labels: data.labels, datasets: [{ label: data.metric, data: data.scores, borderColor: accent,
      pointBackgroundColor: colors, pointBorderColor: colors, pointRadius: radius, showLine: false, spanGaps: false }] },
    options: { maintainAspectRatio: false, plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: "trial" }, grid: { color: grid } },
                y: { title: { display: true, text: data.metric }, grid: { color: grid } } } }
  });
  el.dataset.points = String(data.scores.filter(function (s) { return typeof s === "number"; }).length);
  el.chart = chart;
}());
