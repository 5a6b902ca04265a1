/* The model editor: CodeMirror for Python and SQL, live code checks, templates. */
(function () {
  "use strict";
  if (typeof CodeMirror === "undefined") { return; }

  var CHECK_URL = "/api/v1/code/check";
  var templates = [];
  try { templates = JSON.parse(document.getElementById("templates-data").textContent || "[]"); } catch (e) { templates = []; }
  var byName = {};
  templates.forEach(function (t) { byName[t.name] = t; });

  var editors = {};
  var codeStatus = document.getElementById("code-status");
  var problemList = document.getElementById("code-problems");

  function focusAfter(cm) {
    // Esc leaves the editor: Tab inside it indents, so keyboard users need a way out.
    var wrapper = cm.getWrapperElement();
    var focusables = Array.prototype.slice.call(document.querySelectorAll(
      "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea:not([disabled])"))
      .filter(function (el) { return el.offsetParent !== null && !wrapper.contains(el) && el.tabIndex >= 0; });
    var next = focusables.find(function (el) {
      return wrapper.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    if (next) { next.focus(); }
  }

  function renderProblems(problems, note) {
    if (!problemList || !codeStatus) { return; }
    problemList.innerHTML = "";
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem " + (p.severity || "error");
      li.setAttribute("data-testid", "code-problem");
      li.setAttribute("data-line", p.line || "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link where";
      button.textContent = p.line ? "line " + p.line : "code";
      button.addEventListener("click", function () {
        var cm = editors.code;
        if (cm && p.line) { cm.focus(); cm.setCursor({ line: p.line - 1, ch: Math.max((p.column || 1) - 1, 0) }); }
      });
      li.appendChild(button);
      li.appendChild(document.createTextNode(" " + p.message));
      problemList.appendChild(li);
    });
    var errors = problems.filter(function (p) { return (p.severity || "error") === "error"; }).length;
    var warnings = problems.length - errors;
    codeStatus.className = "code-status " + (errors ? "has-errors" : warnings ? "has-warnings" : "ok");
    codeStatus.textContent = note || (problems.length === 0 ? "No problems found." :
      errors + " error" + (errors === 1 ? "" : "s") + (warnings ? ", " + warnings + " warning" + (warnings === 1 ? "" : "s") : ""));
  }

  function jsonHeaders() {
    // A logged-in browser proves the request comes from softquery's own page (CSRF).
    var meta = document.querySelector('meta[name="csrf-token"]');
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (meta && meta.content) { headers["X-CSRF-Token"] = meta.content; }
    return headers;
  }

  var pending = null;
  function checkCode(text, updateLinting, options, cm) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(CHECK_URL, {
      method: "POST", headers: jsonHeaders(),
      body: JSON.stringify({ code: text }), signal: pending.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      var problems = data.problems || [];
      renderProblems(problems);
      updateLinting(cm, problems.map(function (p) {
        var line = Math.max((p.line || 1) - 1, 0);
        var lineText = cm.getLine(line) || "";
        var ch = p.column ? Math.min(p.column - 1, lineText.length) : 0;
        return {
          from: CodeMirror.Pos(line, p.column ? ch : 0),
          to: CodeMirror.Pos(line, p.column ? Math.min(ch + 1, lineText.length) || lineText.length : lineText.length),
          message: p.message, severity: p.severity === "warning" ? "warning" : "error"
        };
      }));
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      if (codeStatus) { codeStatus.textContent = "The live code check is unavailable; the code is checked when you save."; }
      updateLinting(cm, []);
    });
  }

  document.querySelectorAll("textarea.code").forEach(function (textarea) {
    var python = textarea.getAttribute("data-mode") === "python";
    var cm = CodeMirror.fromTextArea(textarea, {
      mode: python ? "python" : "text/x-sql",
      lineNumbers: true, indentUnit: 4, tabSize: 4, indentWithTabs: false,
      matchBrackets: true, autoCloseBrackets: true, styleActiveLine: true, viewportMargin: Infinity,
      placeholder: textarea.getAttribute("placeholder") || "",
      gutters: python ? ["CodeMirror-lint-markers"] : [],
      lint: python ? { getAnnotations: checkCode, async: true, delay: 400 } : false,
      screenReaderLabel: (document.querySelector('label[for="' + textarea.id + '"]') || {}).textContent || textarea.id,
      extraKeys: {
        Tab: function (c) { c.somethingSelected() ? c.indentSelection("add") : c.replaceSelection("    ", "end"); },
        "Shift-Tab": function (c) { c.indentSelection("subtract"); },
        Esc: focusAfter
      }
    });
    cm.getWrapperElement().setAttribute("data-testid", "cm-" + textarea.id);
    cm.on("change", function () { cm.save(); });
    if (textarea.getAttribute("aria-invalid") === "true") { cm.getWrapperElement().classList.add("invalid"); }
    editors[textarea.id] = cm;
  });
  window.softqueryEditors = editors;

  // Choosing a template loads its code. Only code edited since it was loaded (from the
  // server or from a template) is worth a question before it is replaced.
  var select = document.getElementById("template-choice");
  var description = document.getElementById("template-description");
  var hidden = document.getElementById("template");
  var loadedCode = editors.code ? editors.code.getValue() : "";
  var chosen = select ? select.value : "";
  function describe() {
    var t = select && byName[select.value];
    if (description) { description.textContent = t ? t.description : "Your own code: no template."; }
  }
  function loadTemplate(t) {
    var cm = editors.code;
    if (!t || !cm) { return false; }
    if (cm.getValue() !== loadedCode && cm.getValue().trim() !== t.code.trim() &&
        !window.confirm("Replace your edited code with the \"" + t.title + "\" template? Your changes to the code will be lost.")) {
      return false;
    }
    cm.setValue(t.code);
    cm.save();
    loadedCode = cm.getValue();
    if (hidden) { hidden.value = t.name; }
    return true;
  }
  // The search form's rows follow the chosen template: one row per parameter of the new
  // template (with what was typed for a parameter of the same name), then an empty row.
  var searchBody = document.querySelector('[data-testid="search-params"] tbody');
  var rowPrototype = searchBody && searchBody.querySelector("tr") ? searchBody.querySelector("tr").cloneNode(true) : null;
  function searchRow(name, hint, typed) {
    var tr = rowPrototype.cloneNode(true);
    tr.setAttribute("data-param", name);
    var what = name || "the parameter";
    var nameInput = tr.querySelector('[data-testid="search-param-name"]');
    nameInput.value = name;
    var oldHint = nameInput.parentNode.querySelector("div");
    if (oldHint) { oldHint.parentNode.removeChild(oldHint); }
    if (hint) {
      var div = document.createElement("div");
      div.className = "muted small";
      div.textContent = hint;
      nameInput.parentNode.appendChild(div);
    }
    ["values", "low", "high"].forEach(function (key) {
      var input = tr.querySelector('[data-testid="search-param-' + key + '"]');
      input.value = typed ? typed[key] : "";
      input.setAttribute("aria-label", key + " of " + what);
    });
    var log = tr.querySelector('[data-testid="search-param-log"]');
    log.value = typed ? typed.log : "";
    log.setAttribute("aria-label", "scale of " + what);
    return tr;
  }
  function followTemplate(t) {
    if (!searchBody || !rowPrototype || !t) { return; }
    var typed = {};
    Array.prototype.forEach.call(searchBody.querySelectorAll("tr"), function (tr) {
      var name = tr.querySelector('[data-testid="search-param-name"]').value.trim();
      if (!name) { return; }
      typed[name] = {
        values: tr.querySelector('[data-testid="search-param-values"]').value,
        low: tr.querySelector('[data-testid="search-param-low"]').value,
        high: tr.querySelector('[data-testid="search-param-high"]').value,
        log: tr.querySelector('[data-testid="search-param-log"]').value
      };
    });
    while (searchBody.firstChild) { searchBody.removeChild(searchBody.firstChild); }
    (t.search || []).forEach(function (p) { searchBody.appendChild(searchRow(p.name, p.hint, typed[p.name])); });
    searchBody.appendChild(searchRow("", "", null));
  }
  if (select) {
    select.addEventListener("change", function () {
      var t = byName[select.value];
      if (t && !loadTemplate(t)) { select.value = chosen; }
      else if (t && t.name !== chosen) { followTemplate(t); }
      else if (!t && hidden) { hidden.value = ""; }
      chosen = select.value;
      describe();
    });
    describe();
  }
  var load = document.getElementById("load-template");
  if (load && select) {
    load.addEventListener("click", function () {
      if (loadTemplate(byName[select.value]) && editors.code) { editors.code.focus(); }
    });
  }

  var preset = document.getElementById("schedule_preset");
  var cronField = document.getElementById("cron-field");
  function toggleCron() { if (cronField && preset) { cronField.hidden = preset.value !== "custom"; } }
  if (preset) { preset.addEventListener("change", toggleCron); toggleCron(); }
})();
