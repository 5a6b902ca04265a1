/* The model editor as a workbench: Ctrl-S / Cmd-S saves, leaving with unsaved changes asks
   first, a save error goes away once its field no longer holds the refused value, and the
   last run's panel (polled by htmx while a run goes) enables Save & Predict once a version
   exists and keeps the stdout/stderr sections open or closed as the user left them. */
(function () {
  "use strict";
  var form = document.getElementById("model-form");
  if (!form) { return; }
  var editors = window.softqueryEditors || {};
  var saveButton = document.querySelector('[data-testid="save-button"]');

  // -- unsaved changes ---------------------------------------------------------------
  function snapshot() {
    var data = new FormData(form);
    data.delete("csrf_token");
    data.delete("then");
    return new URLSearchParams(data).toString();
  }
  var saved = snapshot();
  var unsavedOnLoad = form.getAttribute("data-unsaved") === "1";  // a refused save: nothing of it is stored
  var submitting = false;
  function isDirty() { return unsavedOnLoad || snapshot() !== saved; }

  window.addEventListener("beforeunload", function (event) {
    if (submitting || !isDirty()) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to ask
  });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("pageshow", function () { submitting = false; });

  function save() {
    if (submitting) { return; }
    if (form.requestSubmit) { form.requestSubmit(saveButton || undefined); } else { form.submit(); }
  }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      save();
    }
  });
  Object.keys(editors).forEach(function (id) {
    var cm = editors[id];
    var keys = cm.getOption("extraKeys") || {};
    keys["Ctrl-S"] = save;
    keys["Cmd-S"] = save;
    cm.setOption("extraKeys", keys);
  });

  // -- errors that no longer apply --------------------------------------------------
  var summary = document.querySelector('[data-testid="form-error-summary"]');
  var notice = document.querySelector('[data-testid="saved-notice"]');
  var watched = [];
  form.querySelectorAll(".field-error[id$='-error']").forEach(function (error) {
    var id = error.id.slice(0, -"-error".length);
    var field = document.getElementById(id);
    if (!field) { return; }
    watched.push({ error: error, field: field, cm: editors[id], refused: field.value });
  });
  function stillApplies(w) {
    var value = w.cm ? w.cm.getValue() : w.field.value;
    if (value === w.refused) { return true; }
    return !!(w.field.validity && w.field.validity.patternMismatch);  // e.g. a name still not allowed
  }
  function refresh() {
    var left = 0;
    watched.forEach(function (w) {
      var applies = stillApplies(w);
      w.error.hidden = !applies;
      if (applies) {
        left += 1;
        w.field.setAttribute("aria-invalid", "true");
      } else {
        w.field.removeAttribute("aria-invalid");
      }
      if (w.cm) { w.cm.getWrapperElement().classList.toggle("invalid", applies); }
    });
    if (summary) { summary.hidden = watched.length > 0 && left === 0; }
    if (notice && snapshot() !== saved) { notice.hidden = true; }  // "Saved." is no longer true
  }
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  Object.keys(editors).forEach(function (id) { editors[id].on("change", refresh); });

  // -- the last run ------------------------------------------------------------------
  var predictButton = document.querySelector('[data-testid="save-predict-button"]');
  var chosen = {};  // stream -> open, as the user left it (kept across the panel's refreshes)
  document.addEventListener("click", function (event) {
    var summary = event.target instanceof Element ? event.target.closest("#editor-run details[data-stream] > summary") : null;
    if (summary) { chosen[summary.parentElement.getAttribute("data-stream")] = !summary.parentElement.open; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var panel = document.getElementById("editor-run");
    if (!panel) { return; }
    panel.querySelectorAll("details[data-stream]").forEach(function (d) {
      var kept = chosen[d.getAttribute("data-stream")];
      if (kept !== undefined) { d.open = kept; }
    });
    if (predictButton && panel.getAttribute("data-has-version") === "1") {
      predictButton.disabled = false;
      predictButton.removeAttribute("title");
    }
  });
})();
