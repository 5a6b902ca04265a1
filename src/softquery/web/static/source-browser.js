/* The model editor's table browser: the tables and columns of the chosen data source beside
   the SQL editors (click a name to insert it at the cursor), completion of those names in
   the SQL editors, and example SQL placeholders that name real columns. */
(function () {
  "use strict";
  var editors = window.softqueryEditors;
  var box = document.getElementById("source-browser");
  var sourceSelect = document.getElementById("source");
  if (!editors || !box || !sourceSelect || typeof CodeMirror === "undefined") { return; }

  var list = document.getElementById("source-browser-list");
  var status = document.getElementById("source-browser-status");
  var creating = box.getAttribute("data-creating") === "1";
  var sqlEditors = ["train_sql", "predict_sql"].map(function (id) { return editors[id]; }).filter(Boolean);
  var target = editors.train_sql || sqlEditors[0];
  var schema = {};        // sql name of a table -> sql names of its columns (for completion)
  var allColumns = [];    // every column's sql name, once
  var request = null;

  sqlEditors.forEach(function (cm) {
    cm.on("focus", function () { target = cm; });
    cm.setOption("hintOptions", { hint: hintSql, completeSingle: false });
    cm.on("inputRead", function (c, change) {
      if (c.state.completionActive) { return; }
      var typed = change.text.join("");
      // typed words and dots (keys that arrive together come as one input; a paste does not ask)
      if (change.origin === "+input" && /[\w.]$/.test(typed)) { c.showHint({ hint: hintSql, completeSingle: false }); }
    });
    var keys = cm.getOption("extraKeys") || {};
    keys["Ctrl-Space"] = function (c) { c.showHint({ hint: hintSql, completeSingle: false }); };
    cm.setOption("extraKeys", keys);
  });

  function mentionedTable(cm) {
    // the first known table after FROM or JOIN: its columns complete plain words
    var text = cm.getValue();
    var pattern = /\b(?:from|join)\s+([\w."]+)/gi;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var name = match[1];
      var known = Object.keys(schema).find(function (t) { return t.toUpperCase() === name.toUpperCase(); });
      if (known) { return known; }
    }
    return null;
  }

  function hintSql(cm, options) {
    var table = mentionedTable(cm);
    var result = CodeMirror.hint.sql(cm, { tables: schema, defaultTable: table, completeSingle: false });
    if (!result || table) { return result; }
    // no table named yet: every column of the source is a candidate too (after the tables)
    var word = cm.getRange(result.from, result.to).toUpperCase();
    if (!word) { return result; }
    var seen = {};
    result.list.forEach(function (item) { seen[typeof item === "string" ? item : item.text] = true; });
    allColumns.forEach(function (name) {
      if (!seen[name] && name.toUpperCase().indexOf(word) === 0) {
        result.list.push({ text: name, className: "CodeMirror-hint-table" });
        seen[name] = true;
      }
    });
    return result;
  }

  function insert(text) {
    var cm = target || sqlEditors[0];
    if (!cm) { return; }
    cm.replaceSelection(text);
    cm.focus();
  }

  function rowsText(table) {
    if (table.rows === null || table.rows === undefined) { return "rows not counted"; }
    var n = Number(table.rows).toLocaleString("en-US");
    var unit = table.rows === 1 ? " row" : " rows";
    if (table.rows_are === "estimate") { return "≈ " + n + unit; }
    if (table.rows_are === "at_least") { return "over " + n + unit; }
    return n + unit;
  }

  function button(text, insertText, testid, title) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link insert-name";
    b.textContent = text;
    b.title = title;
    b.setAttribute("data-insert", insertText);
    b.setAttribute("data-testid", testid);
    return b;
  }

  function render(data) {
    list.innerHTML = "";
    schema = {};
    allColumns = [];
    var tables = data.tables || [];
    tables.forEach(function (t) {
      var columns = (t.columns || []).map(function (c) { return c.sql_name; });
      schema[t.sql_name] = columns;
      columns.forEach(function (c) { if (allColumns.indexOf(c) < 0) { allColumns.push(c); } });
      var item = document.createElement("li");
      item.className = "browser-table";
      item.setAttribute("data-table", t.name);
      var details = document.createElement("details");
      details.open = tables.length <= 3;
      var summary = document.createElement("summary");
      summary.appendChild(button(t.sql_name, t.sql_name, "browser-table",
        "Insert " + t.sql_name + " at the cursor" + (t.kind === "view" ? " (a view)" : "")));
      var rows = document.createElement("span");
      rows.className = "rows muted small";
      rows.setAttribute("data-testid", "browser-rows");
      rows.textContent = rowsText(t);
      summary.appendChild(rows);
      details.appendChild(summary);
      var cols = document.createElement("ul");
      cols.className = "browser-columns";
      (t.columns || []).forEach(function (c) {
        var li = document.createElement("li");
        li.appendChild(button(c.name, c.sql_name, "browser-column", "Insert " + c.sql_name + " at the cursor"));
        var type = document.createElement("span");
        type.className = "type muted small";
        type.textContent = c.type;
        li.appendChild(type);
        cols.appendChild(li);
      });
      if (t.error) {
        var err = document.createElement("li");
        err.className = "muted small";
        err.textContent = t.error;
        cols.appendChild(err);
      }
      details.appendChild(cols);
      item.appendChild(details);
      list.appendChild(item);
    });
    if (data.error) {
      setStatus(data.error.message, true);
    } else if (!tables.length) {
      setStatus("This source has no tables or views you may read.");
    } else {
      setStatus(tables.length + (tables.length === 1 ? " table" : " tables") +
        (data.truncated ? " (the first ones)" : "") + ". Click a name to insert it at the cursor.");
    }
    box.setAttribute("data-loaded", data.source || "");
    placeholders(tables);
  }

  function setStatus(text, error) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("field-error", !!error);
  }

  // An example query on real columns of the source: the smallest table, its last column the label.
  function placeholders(tables) {
    if (!creating) { return; }
    var usable = tables.filter(function (t) { return (t.columns || []).length >= 2; });
    usable.sort(function (a, b) { return a.columns.length - b.columns.length; });
    var t = usable[0];
    var train = editors.train_sql, predict = editors.predict_sql;
    if (!t || !train || !predict) { return; }
    var names = t.columns.map(function (c) { return c.sql_name; });
    var label = names[names.length - 1];
    var features = names.slice(0, names.length - 1).slice(0, 4);
    train.setOption("placeholder", "select " + features.concat([label]).join(", ") + " from " + t.sql_name +
      " where " + label + " is not null");
    predict.setOption("placeholder", "select " + features.join(", ") + " from " + t.sql_name +
      " where " + label + " is null");
  }

  function load() {
    var source = sourceSelect.value;
    if (request) { request.abort(); }
    list.innerHTML = "";
    schema = {};
    allColumns = [];
    box.removeAttribute("data-loaded");  // loaded again only once this source's tables are in
    if (!source) {
      setStatus("Choose a data source to see its tables and columns here.");
      return;
    }
    setStatus("Reading the tables of " + source + "…");
    request = new AbortController();
    fetch("/api/v1/sources/" + encodeURIComponent(source) + "/tables",
      { headers: { "Accept": "application/json" }, signal: request.signal })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body.error && body.error.message) || ("HTTP " + response.status)); }
          return body;
        });
      })
      .then(render)
      .catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        setStatus("The tables could not be read: " + error.message, true);
      });
  }

  list.addEventListener("click", function (event) {
    var b = event.target instanceof Element ? event.target.closest("[data-insert]") : null;
    if (!b) { return; }
    event.preventDefault();  // a table's name sits in its <summary>: insert, do not fold
    insert(b.getAttribute("data-insert"));
  });
  sourceSelect.addEventListener("change", load);
  load();
})();
