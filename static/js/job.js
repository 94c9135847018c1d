// Polls a job's status endpoint about once a second and updates the page:
// status, progress, the latest epoch where the page shows one (gesture
// adaptation), any error; opens the result when the job has succeeded.
// Used by the analysis job page and the gesture session page. A failed job
// swaps its progress bar for the next steps the page holds ready (hidden).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  var labels = { QUEUED: "Queued", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed" };
  function showEpoch(history) {
    var epoch = document.getElementById("job-epoch");
    var last = history && history.length ? history[history.length - 1] : null;
    if (!epoch || !last) { return; }
    var text = "Epoch " + last.epoch;
    if (last.phase === "refit") { text += " of " + last.epochs + " · retraining on the whole trials"; }
    if (typeof last.val_acc === "number") {
      text += " · validation accuracy " + last.val_acc.toFixed(3);
    }
    epoch.textContent = text;
    epoch.hidden = false;
  }
  function showTiming(t) {
    if (!t) { return; }
    var elapsed = document.getElementById("job-elapsed");
    var box = document.getElementById("job-remaining-box");
    if (elapsed) { elapsed.textContent = t.elapsed; }
    if (box) {
      document.getElementById("job-remaining").textContent = t.remaining;
      box.hidden = !t.remaining;
    }
    var basis = document.getElementById("job-estimate-basis");
    if (basis && !t.remaining) { basis.hidden = true; }
  }
  function showFailed() {
    var running = document.getElementById("job-running");
    var next = document.getElementById("job-failed");
    if (running) { running.hidden = true; }
    if (next) { next.hidden = false; }
  }
  function show(s) {
    document.getElementById("job-status").textContent = labels[s.status] || s.status;
    showTiming(s.timing);
    if (s.status === "FAILED") { showFailed(); }
    var bar = document.getElementById("job-progress");
    bar.value = s.progress;
    bar.textContent = s.progress + "%";
    document.getElementById("job-progress-text").textContent = s.progress + "%";
    showEpoch(s.history);
    var err = document.getElementById("job-error");
    if (s.error) { err.textContent = s.error; err.hidden = false; }
    if (s.result_url) {
      document.getElementById("job-result").hidden = false;
      window.location.assign(s.result_url);
    }
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) { show(s); if (!s.finished) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
