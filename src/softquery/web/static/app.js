/* softquery pages: small progressive enhancements (everything works without them). */
(function () {
  "use strict";

  function autogrow(el) {
    el.style.height = "auto";
    el.style.height = Math.max(el.scrollHeight + 2, 40) + "px";
  }

  function tailLogs(root) {
    root.querySelectorAll("pre[data-tail]").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });
  }

  function flash(message) {
    var box = document.getElementById("flash");
    if (!box) { return; }
    box.innerHTML = "";
    var div = document.createElement("div");
    div.className = "alert error";
    div.setAttribute("role", "alert");
    div.setAttribute("data-testid", "flash-error");
    div.textContent = message;
    box.appendChild(div);
  }

  function init(root) {
    root.querySelectorAll("textarea.autogrow").forEach(function (el) {
      autogrow(el);
      el.addEventListener("input", function () { autogrow(el); });
    });
    tailLogs(root);
  }

  // Plain POST forms that end something ask first (data-confirm): htmx's hx-confirm only
  // covers requests htmx makes itself, so on these it never asked.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) { var alert = dismiss.closest(".alert"); if (alert) { alert.remove(); } return; }
    var back = target.closest("[data-back]");
    if (back && window.history.length > 1) { event.preventDefault(); window.history.back(); return; }
    var copy = target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (!source) { return; }
      var text = source.textContent || "";
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else { selectText(source); copy.textContent = "Press Ctrl+C"; }
      return;
    }
    var fill = target.closest("[data-fill]");
    if (fill) {
      var input = document.getElementById(fill.getAttribute("data-fill"));
      if (input) { input.value = fill.getAttribute("data-value") || ""; input.focus(); }
      return;
    }
    var tab = target.closest('[role="tab"]');
    if (tab) { selectTab(tab); }
  });

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    if (selection) { selection.removeAllRanges(); selection.addRange(range); }
  }

  function selectTab(tab) {
    var list = tab.closest('[role="tablist"]');
    if (!list) { return; }
    list.querySelectorAll('[role="tab"]').forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls") || "");
      if (panel) { panel.hidden = !selected; }
    });
    tab.focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || target.getAttribute("role") !== "tab") { return; }
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
    var tabs = Array.prototype.slice.call(target.closest('[role="tablist"]').querySelectorAll('[role="tab"]'));
    var index = tabs.indexOf(target) + (event.key === "ArrowRight" ? 1 : -1);
    selectTab(tabs[(index + tabs.length) % tabs.length]);
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-reveal")) {
      var field = document.querySelector(target.getAttribute("data-reveal"));
      if (field) { field.type = target.checked ? "text" : "password"; }
    }
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
  document.addEventListener("htmx:sendError", function () {
    flash("The server did not answer. Is softquery still running? The page retries while a run is active.");
  });
})();
