// Renders the server-built plotly figure (plotly.js is served from static/).
(function () {
  "use strict";
  var data = document.getElementById("figure-data");
  var target = document.getElementById("figure");
  if (!data || !target || typeof Plotly === "undefined") { return; }
  var fig = JSON.parse(data.textContent);
  Plotly.newPlot(target, fig.data, fig.layout, { responsive: true, displaylogo: false })
    .then(function () { target.dataset.rendered = "true"; });
})();
