// Small progressive touches; the dashboard works without JavaScript.
(function () {
  "use strict";
  // Show absolute times in the viewer's own clock on hover.
  document.querySelectorAll("[data-ts]").forEach(function (el) {
    var when = new Date(el.getAttribute("data-ts"));
    if (!isNaN(when)) { el.title = when.toLocaleString(); }
  });
  // Copy buttons (the Mermaid source on /diagram).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; });
      }
    });
  });
  // Replay asks once before sending dead letters back (the form works without this too).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
