// The retraining progress bar on the admin's Intent models page: polls the page's progress.json
// (its address in data-url) while a job runs and fills in the bar, stage, epoch and message. The
// words come from the server (translated there); when the job ends the page reloads once to list
// the new version. No inline script or style: the CSP forbids them.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid='retrain-progress']");
  if (!box) return;
  var bar = box.querySelector("progress");
  var percent = box.querySelector("[data-testid='retrain-percent']");
  var stage = box.querySelector("[data-testid='retrain-stage']");
  var message = box.querySelector("[data-testid='retrain-message']");
  var wasRunning = box.dataset.running === "1";
  var POLL_MS = 1000;

  function show(data) {
    if (!data || data.job === null) return;
    bar.value = data.percent;
    percent.textContent = Math.round(data.percent) + "%";
    stage.textContent = data.stage_label + (data.epochs ? " · " + data.epoch_label : "");
    message.textContent = data.status_label + ": " + data.message;
    box.dataset.status = data.status;
    box.dataset.stage = data.stage;
    box.dataset.running = data.running ? "1" : "0";
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        show(data);
        if (data && data.running) {
          wasRunning = true;
          window.setTimeout(poll, POLL_MS);
        } else if (wasRunning) {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 5); });
  }

  if (wasRunning) poll();
})();
