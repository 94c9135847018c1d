// Renders the server-built plotly figures of a report page (plotly.js from static/).
(function () {
  "use strict";
  var data = document.getElementById("report-figures");
  if (!data || typeof Plotly === "undefined") { return; }
  var figures = JSON.parse(data.textContent);
  document.querySelectorAll("[data-figure]").forEach(function (target) {
    var fig = figures[target.dataset.figure];
    if (!fig) { return; }
    Plotly.newPlot(target, fig.data, fig.layout, { responsive: true, displaylogo: false })
      .then(function () { target.dataset.rendered = "true"; });
  });
})();
