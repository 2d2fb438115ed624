// traindex web: progressive enhancement only. Every search works without this file;
// it adds drag-and-drop of image files, upload progress for a portfolio, and keeps the
// last uploaded files (in this page's memory only) to pre-fill the results page's
// "check the rows of your site" forms, so a creator does not have to pick them again.
(function () {
  "use strict";
  var lastFiles = [];

  function describe(files) {
    if (!files || files.length === 0) return "";
    var bytes = 0;
    for (var i = 0; i < files.length; i++) bytes += files[i].size;
    return files.length + " image(s) selected, " + (bytes / 1e6).toFixed(1) + " MB";
  }

  function enhanceDropzone(form) {
    var zone = form.querySelector("#dropzone");
    var input = form.querySelector("#image");
    var selected = form.querySelector("#selected");
    if (!zone || !input) return;
    input.addEventListener("change", function () { selected.textContent = describe(input.files); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        selected.textContent = describe(input.files);
      }
    });
  }

  function showResponse(xhr) {
    // The answer is a whole page: swap it in, keep the browser's history sane, re-enhance.
    var doc = xhr.response;
    if (!doc || !doc.documentElement) { window.location.reload(); return; }
    document.replaceChild(document.adoptNode(doc.documentElement), document.documentElement);
    window.scrollTo(0, 0);
    var main = document.getElementById("main");
    if (main) main.focus();
    init();
  }

  function prefill(input) {
    if (!lastFiles.length || !window.DataTransfer) return;
    var chosen = new DataTransfer();
    lastFiles.forEach(function (file) { chosen.items.add(file); });
    input.files = chosen.files;
  }

  function enhanceUpload(form) {
    var box = form.querySelector(".progress");
    var bar = form.querySelector("progress");
    var label = form.querySelector(".progress label");
    var waiting = form.classList.contains("verify-form")
      ? "Downloading the rows and comparing them with your images…"
      : "Comparing your images with the datasets…";
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) return;
      event.preventDefault();
      var input = form.querySelector("input[type=file]");
      if (input && input.files) lastFiles = Array.prototype.slice.call(input.files);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      box.hidden = false;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        bar.value = Math.round((100 * e.loaded) / e.total);
        label.textContent = "Uploading… " + bar.value + "%";
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");
        label.textContent = waiting;
      });
      xhr.addEventListener("load", function () { showResponse(xhr); });
      xhr.addEventListener("error", function () {
        label.textContent = "The upload failed (connection lost). Please try again.";
      });
      var data = new FormData(form);
      // the button pressed says which candidates (its name/value is not in FormData(form))
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      xhr.send(data);
    });
  }

  function init() {
    var form = document.getElementById("upload-form");
    if (form && !form.dataset.enhanced) {
      form.dataset.enhanced = "1";
      enhanceDropzone(form);
      enhanceUpload(form);
    }
    document.querySelectorAll("form.verify-form").forEach(function (verify) {
      if (verify.dataset.enhanced) return;
      verify.dataset.enhanced = "1";
      prefill(verify.querySelector("input[type=file]"));
      enhanceUpload(verify);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
