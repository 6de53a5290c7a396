// Live health: polls /flows/health.json and recolours each flow without reloading the page.
// The pages work without JavaScript (they then refresh themselves every few seconds instead).
(function () {
  "use strict";
  var HEALTHS = ["healthy", "late", "failing", "idle", "never_ran"];
  var every = 2000;
  var body = document.body;
  body.setAttribute("data-live", "on");

  function setHealth(element, health) {
    HEALTHS.forEach(function (h) { element.classList.remove("health-" + h); });
    element.classList.add("health-" + health);
  }

  function apply(state) {
    state.flows.forEach(function (flow) {
      var row = document.getElementById("flow-" + flow.id);
      if (row) {
        setHealth(row, flow.health);
        row.setAttribute("data-health", flow.health);
        var badge = row.querySelector(".badge");
        if (badge) { setHealth(badge, flow.health); badge.textContent = flow.health.replace("_", " "); }
      }
      var head = document.querySelector('[data-flow="' + flow.id + '"] [data-health-badge]');
      if (head) { setHealth(head, flow.health); head.textContent = flow.health.replace("_", " "); }
    });
    Object.keys(state.counts).forEach(function (health) {
      var tile = document.querySelector(".tile.health-" + health + " .count");
      if (tile) { tile.textContent = state.counts[health]; }
    });
    [["open-alerts", state.alerts], ["dead-letters", state.dead_letters]].forEach(function (pair) {
      var tile = document.getElementById(pair[0]);
      if (tile && tile.classList.contains("tile")) {
        tile.querySelector(".count").textContent = pair[1];
        tile.classList.toggle("alerting", pair[1] > 0);
      }
    });
    body.setAttribute("data-live-at", state.at);
  }

  function poll() {
    fetch("/flows/health.json", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) { apply(state); } })
      .catch(function () { body.setAttribute("data-live", "lost"); })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
})();
