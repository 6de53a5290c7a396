// Sends the chosen file as the request body (no multipart), with a progress bar, then opens the
// import's page, where the hub shows how far it read and then every problem by row and column.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.location.addEventListener("change", function () {
    var chosen = form.location.options[form.location.selectedIndex];
    if (chosen && chosen.dataset.today) { form.date.value = chosen.dataset.today; }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = form.file.files[0];
    if (!file) { return; }
    if (file.size > Number(form.dataset.maxBytes)) { status.textContent = "The file is too large for the page."; return; }
    var query = new URLSearchParams({ flow: form.flow.value, location: form.location.value, date: form.date.value, name: file.name });
    var request = new XMLHttpRequest();
    request.open("PUT", "/imports/upload?" + query.toString());
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    bar.hidden = false;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      status.textContent = "Uploading " + Math.round(e.loaded / 1024) + " KB";
    });
    request.addEventListener("load", function () {
      var answer = {};
      try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = { error: request.responseText }; }
      if (request.status === 202 && answer.url) { window.location.assign(answer.url); return; }
      status.textContent = "Not uploaded: " + (answer.error || request.status) + (answer.fix ? " — " + answer.fix : "");
    });
    request.addEventListener("error", function () { status.textContent = "The upload failed; try again."; });
    request.send(file);
  });
})();
