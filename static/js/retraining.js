// Polls a retraining run's status about once a second: epoch, loss and
// validation accuracy, elapsed time and the estimate left, and a small plotly
// line of the history so far. A failed run swaps its progress bar for the
// next steps the page holds ready (hidden).
(function () {
  "use strict";
  var box = document.getElementById("run");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  var labels = { QUEUED: "Queued", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", CANCELLED: "Cancelled" };
  var plotted = -1;
  function fmt(x, digits) { return (x === null || x === undefined) ? "–" : Number(x).toFixed(digits); }
  function plot(history) {
    var target = document.getElementById("run-figure");
    if (typeof Plotly === "undefined" || !history.length || history.length === plotted) { return; }
    plotted = history.length;
    var ep = history.map(function (h) { return h.epoch; });
    var data = [
      { x: ep, y: history.map(function (h) { return h.train_loss; }), name: "training loss", mode: "lines+markers" },
      { x: ep, y: history.map(function (h) { return h.val_loss; }), name: "validation loss", mode: "lines+markers" },
      { x: ep, y: history.map(function (h) { return h.val_acc; }), name: "validation accuracy", mode: "lines+markers", yaxis: "y2" }
    ];
    var layout = {
      height: 300, margin: { l: 50, r: 50, t: 20, b: 40 }, template: "plotly_white",
      xaxis: { title: { text: "epoch" }, dtick: 1 },
      yaxis: { title: { text: "loss" } },
      yaxis2: { title: { text: "accuracy" }, overlaying: "y", side: "right", range: [0, 1] },
      legend: { orientation: "h", y: -0.25 }
    };
    Plotly.react(target, data, layout, { responsive: true, displaylogo: false })
      .then(function () { target.dataset.rendered = "true"; });
  }
  function showTiming(t) {
    if (!t) { return; }
    document.getElementById("job-elapsed").textContent = t.elapsed;
    document.getElementById("job-remaining").textContent = t.remaining;
    document.getElementById("job-remaining-box").hidden = !t.remaining;
    var basis = document.getElementById("job-estimate-basis");
    if (basis && !t.remaining) { basis.hidden = true; }
  }
  function show(s) {
    document.getElementById("run-status").textContent = labels[s.status] || s.status;
    showTiming(s.timing);
    // "Cancellation requested" only while the run is still stopping.
    var note = document.getElementById("run-cancel-note");
    if (note) { note.hidden = !(s.cancel_requested && !s.finished); }
    if (s.status === "FAILED") {
      document.getElementById("run-running").hidden = true;
      document.getElementById("run-failed").hidden = false;
    }
    var bar = document.getElementById("run-progress");
    bar.value = s.progress;
    document.getElementById("run-progress-text").textContent = s.progress + "%";
    var last = s.history.length ? s.history[s.history.length - 1] : null;
    document.getElementById("run-epoch").textContent = last ? last.epoch : 0;
    document.getElementById("run-loss").textContent = last ? fmt(last.train_loss, 3) : "–";
    document.getElementById("run-acc").textContent = last ? fmt(last.val_acc, 2) : "–";
    if (s.data && s.data.n_train) {
      document.getElementById("run-data").textContent =
        s.data.n_train + " training and " + s.data.n_val + " validation windows";
    }
    var err = document.getElementById("run-error");
    if (s.error) { err.textContent = s.error; err.hidden = false; }
    if (s.candidate) {
      var link = document.getElementById("run-candidate-link");
      link.textContent = s.candidate.name + " " + s.candidate.version;
      if (s.candidate.report_url) { link.href = s.candidate.report_url; }
      document.getElementById("run-candidate").hidden = false;
    }
    if (s.finished) {
      var cancel = document.getElementById("run-cancel");
      if (cancel) { cancel.hidden = true; }
    }
    plot(s.history);
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) { show(s); if (!s.finished) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  var initial = document.getElementById("run-initial");
  if (initial) { show(JSON.parse(initial.textContent)); }
  poll();
})();
