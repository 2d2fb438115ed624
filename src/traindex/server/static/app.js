// traindex web: progressive enhancement only. Every search works without this file;
// it adds drag-and-drop of image files and upload progress for a portfolio.
(function () {
  "use strict";

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

  function enhanceUpload(form) {
    var box = form.querySelector("#progress");
    var bar = form.querySelector("#progress-bar");
    var label = form.querySelector("#progress-label");
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) return;
      event.preventDefault();
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
        label.textContent = "Comparing your images with the datasets…";
      });
      xhr.addEventListener("load", function () { showResponse(xhr); });
      xhr.addEventListener("error", function () {
        label.textContent = "The upload failed (connection lost). Please try again.";
      });
      xhr.send(new FormData(form));
    });
  }

  function init() {
    var form = document.getElementById("upload-form");
    if (form && !form.dataset.enhanced) {
      form.dataset.enhanced = "1";
      enhanceDropzone(form);
      enhanceUpload(form);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
