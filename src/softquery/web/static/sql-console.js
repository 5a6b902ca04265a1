/* The SQL console: CodeMirror in SQL mode, completion of tables, columns, models, the ML functions
   and CREATE MODEL's OPTIONS names (all from GET /api/v1/sql/completions, never listed here),
   Ctrl-Enter runs the statement under the cursor (or the selection) through POST /api/v1/sql,
   results as grids, errors marked where they are, and the user's own history. */
(function () {
  "use strict";
  var textarea = document.getElementById("console-sql");
  if (!textarea || typeof CodeMirror === "undefined") { return; }

  var sourceSelect = document.getElementById("console-source");
  var waitBox = document.getElementById("console-wait");
  var statusLine = document.getElementById("console-status");
  var resultsBox = document.getElementById("console-results");
  var errorBox = document.getElementById("console-error");
  var historyList = document.getElementById("console-history");
  var examples = document.getElementById("console-examples");
  var runCurrentButton = document.getElementById("run-current");
  var runAllButton = document.getElementById("run-all");

  var KEYWORDS = ["SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "JOIN", "LEFT JOIN", "ON", "AS",
    "AND", "OR", "NOT", "IN", "IS NULL", "IS NOT NULL", "DISTINCT", "COUNT", "AVG", "SUM", "MIN", "MAX",
    "CREATE TABLE", "WITH", "UNION ALL", "HAVING", "CASE", "WHEN", "THEN", "ELSE", "END", "DESC", "ASC"];
  var names = { tables: {}, tableList: [], columns: [], models: [], functions: [], words: [], options: [], modelTypes: [], typeOptions: {}, optionValues: {} };
  var marks = [];
  var running = false;

  var cm = CodeMirror.fromTextArea(textarea, {
    mode: "text/x-sql", lineNumbers: true, indentUnit: 2, tabSize: 2, indentWithTabs: false,
    matchBrackets: true, autoCloseBrackets: true, styleActiveLine: true, viewportMargin: Infinity,
    placeholder: textarea.getAttribute("placeholder") || "",
    gutters: ["CodeMirror-linenumbers", "sql-error-gutter"],
    screenReaderLabel: "SQL statements",
    extraKeys: {
      "Ctrl-Enter": function () { runCurrent(); },
      "Cmd-Enter": function () { runCurrent(); },
      "Shift-Ctrl-Enter": function () { runAll(); },
      "Shift-Cmd-Enter": function () { runAll(); },
      "Ctrl-Space": function (c) { c.showHint({ hint: hint, completeSingle: false }); },
      Tab: function (c) { c.somethingSelected() ? c.indentSelection("add") : c.replaceSelection("  ", "end"); },
      Esc: function () { if (runCurrentButton) { runCurrentButton.focus(); } }
    }
  });
  cm.getWrapperElement().setAttribute("data-testid", "cm-console-sql");
  cm.setOption("hintOptions", { hint: hint, completeSingle: false });
  window.softquerySqlConsole = cm;

  cm.on("change", function () {
    clearMarks();
    if (examples) { examples.hidden = cm.getValue().trim() !== ""; }
  });
  cm.on("inputRead", function (c, change) {
    if (c.state.completionActive) { return; }
    if (change.origin === "+input" && /[\w.]$/.test(change.text.join(""))) {
      c.showHint({ hint: hint, completeSingle: false });
    }
  });

  // ---- the statement under the cursor -------------------------------------------------------
  // Statements end at ; outside '…', "…", `…`, -- comments and /* */ comments (as the server splits).
  function statementRanges(text) {
    var ranges = [], start = 0, i = 0, n = text.length, quote = null;
    while (i < n) {
      var ch = text.charAt(i), next = text.charAt(i + 1);
      if (quote) {
        if (ch === "\\" && quote !== "`") { i += 2; continue; }
        if (ch === quote) { quote = null; }
        i += 1; continue;
      }
      if (ch === "'" || ch === '"' || ch === "`") { quote = ch; i += 1; continue; }
      if (ch === "-" && next === "-") { var eol = text.indexOf("\n", i); i = eol < 0 ? n : eol; continue; }
      if (ch === "/" && next === "*") { var close = text.indexOf("*/", i + 2); i = close < 0 ? n : close + 2; continue; }
      if (ch === ";") { ranges.push({ start: start, end: i }); start = i + 1; }
      i += 1;
    }
    ranges.push({ start: start, end: n });
    return ranges.filter(function (r) { return stripComments(text.slice(r.start, r.end)).trim() !== ""; });
  }

  function stripComments(sql) { return sql.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, ""); }

  function statementAt(text, index) {
    var ranges = statementRanges(text);
    var at = -1;
    ranges.forEach(function (r, i) { if (r.start <= index) { at = i; } });  // the last one starting before the cursor
    // right after a statement's ; (only blanks between): that statement, not the next one
    if (at > 0 && stripComments(text.slice(ranges[at].start, index)).trim() === "") { at -= 1; }
    return ranges[Math.max(at, 0)] || null;
  }

  function runCurrent() {
    if (cm.somethingSelected()) {
      var from = cm.getCursor("from");
      run(cm.getSelection(), cm.indexFromPos(from));
      return;
    }
    var text = cm.getValue();
    var range = statementAt(text, cm.indexFromPos(cm.getCursor()));
    if (!range) { setStatus("Type a statement first."); return; }
    var lead = text.slice(range.start, range.end).search(/\S/);
    var start = range.start + Math.max(lead, 0);
    run(text.slice(start, range.end), start);
  }

  function runAll() {
    var text = cm.getValue();
    if (!text.trim()) { setStatus("Type a statement first."); return; }
    run(text, 0);
  }

  // ---- talking to the API -------------------------------------------------------------------
  function headers() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var h = { "Content-Type": "application/json", "Accept": "application/json" };
    if (meta && meta.content) { h["X-CSRF-Token"] = meta.content; }
    return h;
  }

  function getJson(url) {
    return fetch(url, { headers: { "Accept": "application/json" } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || ("HTTP " + response.status)); }
        return body;
      });
    });
  }

  function run(sql, offset) {
    if (running) { return; }
    running = true;
    setBusy(true);
    clearMarks();
    hideError();
    setStatus("Running…");
    var started = performance.now();
    fetch("/api/v1/sql", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ sql: sql, source: sourceSelect && sourceSelect.value ? sourceSelect.value : null,
        params: {}, wait: !waitBox || waitBox.checked })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (answer) {
      var body = answer.body || {};
      var results = body.results || [];
      renderResults(results, sql, offset);
      if (body.error) {
        showError(body.error, body.failed_statement, sql, offset, results.length);
        setStatus(body.failed_statement ? "Statement " + body.failed_statement + " failed" +
          (results.length ? "; the " + plural(results.length, "statement") + " before it ran." : ".") :
          "Nothing ran: the statements could not be read.");
      } else {
        setStatus(plural(results.length, "statement") + " ran in " + seconds((performance.now() - started) / 1000) + ".");
      }
    }).catch(function (error) {
      showError({ message: "The statements could not be sent: " + error.message, details: {} }, null, sql, offset, 0);
      setStatus("");
    }).then(function () {
      running = false;
      setBusy(false);
      loadHistory();
    });
  }

  // ---- results ------------------------------------------------------------------------------
  function plural(n, word) { return n.toLocaleString("en-US") + " " + word + (n === 1 ? "" : "s"); }
  function seconds(s) { return s < 10 ? s.toFixed(2) + " s" : s.toFixed(1) + " s"; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function cellText(value) {
    if (value === null || value === undefined) { return null; }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  function absoluteLine(sql, offset, line, column) {
    return cm.posFromIndex(offset + indexIn(sql, line, column)).line + 1;
  }

  function renderResults(results, sql, offset) {
    resultsBox.innerHTML = "";
    results.forEach(function (r) {
      var block = el("section", "result-block");
      block.setAttribute("data-testid", "statement-result");
      block.setAttribute("data-kind", r.kind);
      var head = el("div", "result-head");
      var title = el("strong", null, "Statement " + r.statement);
      head.appendChild(title);
      head.appendChild(el("span", "muted small", "line " + absoluteLine(sql, offset, r.line, r.column) + " · " + r.verb));
      var meta = el("span", "result-meta small", (r.kind === "table" ? plural(r.row_count, "row") + " · " : "") + seconds(r.seconds));
      meta.setAttribute("data-testid", "result-meta");
      head.appendChild(meta);
      block.appendChild(head);
      if (r.kind === "table") { block.appendChild(grid(r)); }
      if (r.message) {
        var message = el("p", "result-message", r.message);
        message.setAttribute("data-testid", "result-message");
        block.appendChild(message);
      }
      if (r.run_id && !(r.links || []).some(function (l) { return l.kind === "run"; })) {
        (r.links = r.links || []).push({ kind: "run", run_id: r.run_id, href: "/runs/" + encodeURIComponent(r.run_id) });
      }
      if ((r.links || []).length) {
        var links = el("p", "result-links small");
        r.links.forEach(function (link) {
          if (!link.href) { return; }
          var a = el("a", null, linkText(link, r));
          a.href = link.href;
          a.setAttribute("data-testid", "result-link");
          links.appendChild(a);
        });
        block.appendChild(links);
      }
      (r.notes || []).forEach(function (note) {
        var p = el("p", "result-note small", note);
        p.setAttribute("data-testid", "result-note");
        block.appendChild(p);
      });
      resultsBox.appendChild(block);
    });
  }

  function linkText(link, r) {
    if (link.kind === "run") { return "run " + String(link.run_id).slice(0, 8) + (r.run_status ? " (" + r.run_status + ")" : ""); }
    if (link.kind === "version") { return link.model + " version " + link.version; }
    if (link.kind === "table") { return "table " + (link.table || link.model); }
    return "model " + link.model;
  }

  function grid(r) {
    var wrap = el("div", "table-wrap result-grid");
    var table = el("table", "data compact");
    table.setAttribute("data-testid", "result-grid");
    var thead = el("thead"), tr = el("tr");
    r.columns.forEach(function (c) {
      var th = el("th", null, c.name);
      th.appendChild(el("span", "type", c.type));
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = el("tbody");
    r.rows.forEach(function (row) {
      var line = el("tr");
      row.forEach(function (value) {
        var text = cellText(value);
        var td = el("td", "result-cell");
        if (text === null) { td.appendChild(el("span", "null", "NULL")); } else { td.textContent = text; }
        line.appendChild(td);
      });
      tbody.appendChild(line);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    if (!r.rows.length) {
      var none = el("p", "muted small empty-result", "No rows.");
      wrap.appendChild(none);
    }
    if (r.truncated) {
      var cut = el("p", "muted small", "Only the first " + plural(r.rows.length, "row") + " are shown.");
      cut.setAttribute("data-testid", "result-truncated");
      wrap.appendChild(cut);
    }
    return wrap;
  }

  // ---- errors, marked in the editor ---------------------------------------------------------
  function indexIn(text, line, column) {
    var index = 0;
    for (var l = 1; l < line; l++) {
      var nl = text.indexOf("\n", index);
      if (nl < 0) { break; }
      index = nl + 1;
    }
    return Math.min(index + Math.max((column || 1) - 1, 0), text.length);
  }

  function clearMarks() {
    marks.forEach(function (m) { m.clear(); });
    marks = [];
    cm.clearGutter("sql-error-gutter");
  }

  function markError(sql, offset, details, message) {
    if (!details || !details.line) { return null; }
    var at = cm.posFromIndex(offset + indexIn(sql, details.line, details.column));
    var lineText = cm.getLine(at.line) || "";
    var end = at.ch;
    while (end < lineText.length && /[\w.$'"`]/.test(lineText.charAt(end))) { end += 1; }
    if (end === at.ch) { end = Math.min(at.ch + 1, lineText.length); }
    var from = at, to = CodeMirror.Pos(at.line, end);
    if (from.ch === to.ch && from.ch > 0) { from = CodeMirror.Pos(at.line, from.ch - 1); }
    marks.push(cm.markText(from, to, { className: "cm-sql-error", title: message,
      attributes: { "data-testid": "sql-error-mark" } }));
    var marker = el("span", "sql-error-marker", "●");
    marker.title = message;
    marker.setAttribute("data-testid", "sql-error-gutter");
    cm.setGutterMarker(at.line, "sql-error-gutter", marker);
    cm.scrollIntoView(at, 60);
    return at;
  }

  function showError(error, failed, sql, offset, ran) {
    var details = error.details || {};
    var at = markError(sql, offset, details, error.message);
    errorBox.innerHTML = "";
    errorBox.hidden = false;
    if (at) {
      errorBox.setAttribute("data-line", String(at.line + 1));
      errorBox.setAttribute("data-column", String(at.ch + 1));
    }
    var head = el("p", "console-error-head");
    var where = at ? "Line " + (at.line + 1) + ", column " + (at.ch + 1) + ": " : "";
    var message = String(error.message || "").replace(/^Line \d+(, column \d+)?: /, "");
    if (failed) { head.appendChild(el("strong", null, "Statement " + failed + " failed. ")); }
    head.appendChild(document.createTextNode(where + message));
    errorBox.appendChild(head);
    if (details.excerpt) {
      var pre = el("pre", "console-excerpt", details.excerpt);
      pre.setAttribute("data-testid", "console-excerpt");
      errorBox.appendChild(pre);
    }
    if (details.suggestion && message.indexOf(details.suggestion) < 0) {
      var hintLine = el("p", "console-suggestion", "Did you mean " + details.suggestion + "?");
      hintLine.setAttribute("data-testid", "console-suggestion");
      errorBox.appendChild(hintLine);
    }
    if (failed && ran) {
      errorBox.appendChild(el("p", "small", "The " + plural(ran, "statement") + " before it ran; their results are below."));
    }
    if (at) {
      var jump = el("button", "link small", "Show in the editor");
      jump.type = "button";
      jump.addEventListener("click", function () { cm.focus(); cm.setCursor(at); });
      errorBox.appendChild(jump);
    }
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.innerHTML = "";
    errorBox.removeAttribute("data-line");
    errorBox.removeAttribute("data-column");
  }

  // ---- completion ---------------------------------------------------------------------------
  function loadNames() {
    var source = sourceSelect ? sourceSelect.value : "";
    cm.getWrapperElement().removeAttribute("data-names-loaded");
    getJson("/api/v1/sql/completions" + (source ? "?source=" + encodeURIComponent(source) : ""))
      .then(function (body) {
        names.tables = {};
        names.tableList = [];
        names.columns = [];
        (body.tables || []).forEach(function (t) {
          names.tables[t.sql_name.toUpperCase()] = t.columns;
          names.tableList.push(t.sql_name);
          t.columns.forEach(function (c) { if (names.columns.indexOf(c) < 0) { names.columns.push(c); } });
        });
        names.models = body.models || [];
        names.functions = body.functions || [];
        names.words = body.words || [];
        names.options = body.options || [];
        names.modelTypes = body.model_types || [];
        names.typeOptions = body.type_options || {};
        names.optionValues = body.option_values || {};
        cm.getWrapperElement().setAttribute("data-names-loaded", source || "-");
      })
      .catch(function (error) { setStatus("Completion is unavailable: " + error.message); });
  }

  function hint(editor) {
    var cur = editor.getCursor();
    var line = editor.getLine(cur.line);
    var start = cur.ch;
    while (start > 0 && /[\w.$]/.test(line.charAt(start - 1))) { start -= 1; }
    var word = line.slice(start, cur.ch);
    var before = editor.getRange(CodeMirror.Pos(Math.max(cur.line - 3, 0), 0), CodeMirror.Pos(cur.line, start));
    var afterModel = /\bmodel\s+$/i.test(before) || /\b(?:drop|create(?:\s+or\s+replace)?)\s+model\s+(?:if\s+(?:not\s+)?exists\s+)?$/i.test(before);
    // inside CREATE MODEL's OPTIONS( … ): the options that apply to the model_type written and
    // are not written yet; after name= (or name=') the values of an option that takes one of a few
    var options = optionsBody(editor.getRange(CodeMirror.Pos(0, 0), CodeMirror.Pos(cur.line, start)));
    var candidates = [];
    function add(list, kind, quote) {
      list.forEach(function (text) { candidates.push({ text: (quote || "") + text + (quote || ""), match: text, kind: kind }); });
    }
    var dot = word.lastIndexOf(".");
    if (dot > 0 && names.tables[word.slice(0, dot).toUpperCase()]) {
      var table = word.slice(0, dot);
      add(names.tables[table.toUpperCase()].map(function (c) { return table + "." + c; }), "column");
    }
    if (options !== null) {
      var value = /(\w+)\s*=\s*(\[?\s*['"])?$/.exec(options);
      if (value) {  // a value: the known ones (quoted when the quote is not written yet), never names
        var values = value[1].toLowerCase() === "model_type" ? names.modelTypes : names.optionValues[value[1].toLowerCase()];
        add(values || [], value[1].toLowerCase() === "model_type" ? "model type" : "value", value[2] ? "" : "'");
      } else if (!/['"][^'"]*$/.test(options.replace(/'[^']*'|"[^"]*"/g, ""))) {
        add(optionsLeft(options, word), "option");
      }
    } else if (afterModel) {
      add(names.models, "model");
    } else {
      add(names.functions, "function");
      add(names.tableList, "table");
      add(mentionedColumns(editor.getValue()), "column");
      add(names.models, "model");
      add(names.columns, "column");
      add(names.words, "word");
      add(names.options, "option");
      add(KEYWORDS, "keyword");
    }
    var upper = word.toUpperCase();
    var seen = {};
    var list = [];
    candidates.forEach(function (c) {
      var key = (c.match || c.text).toUpperCase();
      if (seen[key] || (upper && (key.indexOf(upper) !== 0 || key === upper))) { return; }
      seen[key] = true;
      list.push({ text: c.text, displayText: c.text + "  · " + c.kind, className: "hint-" + c.kind.replace(/ /g, "-") });
    });
    if (!list.length) { return null; }
    return { list: list.slice(0, 80), from: CodeMirror.Pos(cur.line, start), to: cur };
  }

  // the text of an OPTIONS( … ) the cursor is in (null: not in one)
  function optionsBody(text) {
    var at = text.search(/\boptions\s*\([^]*$/i), last = -1, pattern = /\boptions\s*\(/gi, match;
    if (at < 0) { return null; }
    while ((match = pattern.exec(text)) !== null) { last = match.index + match[0].length; }
    var body = text.slice(last), depth = 0, quote = null;
    for (var i = 0; i < body.length; i += 1) {
      var ch = body.charAt(i);
      if (quote) { if (ch === quote) { quote = null; } continue; }
      if (ch === "'" || ch === '"') { quote = ch; } else if (ch === "(") { depth += 1; } else if (ch === ")") {
        depth -= 1;
        if (depth < 0) { return null; }
      }
    }
    return body;
  }

  // the options that apply to the model_type written (all before one is), less those written
  function optionsLeft(body, word) {
    var type = /\bmodel_type\s*=\s*['"](\w+)['"]/i.exec(body);
    var applying = (type && names.typeOptions[type[1].toLowerCase()]) || names.options;
    var written = {}, pattern = /(\w+)\s*=/g, match;
    while ((match = pattern.exec(body)) !== null) { written[match[1].toLowerCase()] = true; }
    return applying.filter(function (name) { return !written[name.toLowerCase()] || name.toLowerCase() === word.toLowerCase(); });
  }

  function mentionedColumns(text) {
    var found = [];
    var pattern = /\b(?:from|join)\s+([\w."`]+)/gi, match;
    while ((match = pattern.exec(text)) !== null) {
      var cols = names.tables[match[1].replace(/[`"]/g, "").toUpperCase()];
      if (cols) { cols.forEach(function (c) { if (found.indexOf(c) < 0) { found.push(c); } }); }
    }
    return found;
  }

  // ---- history ------------------------------------------------------------------------------
  function loadHistory() {
    if (!historyList) { return; }
    getJson("/api/v1/sql/history?limit=50").then(function (entries) {
      historyList.innerHTML = "";
      if (!entries.length) {
        var none = el("li", "muted small", "Nothing yet: the statements you run appear here.");
        none.setAttribute("data-testid", "history-empty");
        historyList.appendChild(none);
      }
      entries.forEach(function (entry) {
        var li = el("li", "history-entry" + (entry.error ? " failed" : ""));
        var button = el("button", "link history-sql", entry.sql.length > 160 ? entry.sql.slice(0, 160) + "…" : entry.sql);
        button.type = "button";
        button.title = entry.error ? "Failed: " + entry.error : "Put it back in the editor";
        button.setAttribute("data-testid", "history-item");
        button.addEventListener("click", function () {
          cm.setValue(entry.sql);
          if (entry.source && sourceSelect && sourceSelect.querySelector('option[value="' + CSS.escape(entry.source) + '"]')) {
            if (sourceSelect.value !== entry.source) { sourceSelect.value = entry.source; loadNames(); }
          }
          cm.focus();
          cm.setCursor(cm.lineCount(), 0);
        });
        li.appendChild(button);
        var when = new Date(entry.at);
        li.appendChild(el("span", "muted small history-meta", (entry.source ? entry.source + " · " : "") +
          when.toLocaleString() + (entry.error ? " · failed" : "")));
        historyList.appendChild(li);
      });
      historyList.setAttribute("data-loaded", "1");
    }).catch(function () { /* the history is a convenience: the console works without it */ });
  }

  // ---- page wiring --------------------------------------------------------------------------
  function setStatus(text) { if (statusLine) { statusLine.textContent = text; } }
  function setBusy(busy) {
    [runCurrentButton, runAllButton].forEach(function (b) { if (b) { b.disabled = busy; } });
    resultsBox.setAttribute("aria-busy", busy ? "true" : "false");
  }

  if (runCurrentButton) { runCurrentButton.addEventListener("click", function () { runCurrent(); cm.focus(); }); }
  if (runAllButton) { runAllButton.addEventListener("click", function () { runAll(); }); }
  if (sourceSelect) { sourceSelect.addEventListener("change", loadNames); }
  if (examples) {
    examples.addEventListener("click", function (event) {
      var b = event.target instanceof Element ? event.target.closest("[data-example]") : null;
      if (!b) { return; }
      cm.setValue(b.getAttribute("data-example") + ";\n");
      cm.focus();
      cm.setCursor(CodeMirror.Pos(0, 0));
    });
  }
  loadNames();
  loadHistory();
})();
