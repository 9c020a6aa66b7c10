/* Trends charts (Chart.js, vendored). The numbers come from the page's
   <script type="application/json" id="risk-chart-data">, the same as its tables;
   a hidden number is a gap (null), never drawn as a value. */
(function () {
  "use strict";
  var source = document.getElementById("risk-chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var palette = ["#0062ba", "#b44e00", "#1a7f37", "#8a3ffc", "#c9184a", "#005f73",
                 "#6b4f00", "#3d348b", "#9d0208", "#2b9348", "#5a189a", "#495057"];
  Chart.defaults.animation = reduced ? false : Chart.defaults.animation;
  Chart.defaults.maintainAspectRatio = false;

  var line = document.getElementById("risk-line");
  if (line) {
    new Chart(line, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.line.names[0], data: data.line.total, borderColor: palette[0],
            backgroundColor: palette[0], spanGaps: false, tension: 0 },
          { label: data.line.names[1], data: data.line.average, borderColor: palette[1],
            backgroundColor: palette[1], borderDash: [6, 4], pointRadius: 0, spanGaps: false },
          { label: data.line.names[2], data: data.line.last_year, borderColor: "#6c757d",
            backgroundColor: "#6c757d", borderDash: [2, 3], spanGaps: false }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  var bars = document.getElementById("risk-bars");
  if (bars && data.bars) {
    new Chart(bars, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.bars.series.map(function (s, i) {
          return { label: s.name, data: s.values, backgroundColor: palette[i % palette.length] };
        })
      },
      options: {
        scales: { x: { stacked: false }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
}());
