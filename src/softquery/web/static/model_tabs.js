/* The model page's tabs (Overview, Versions, Runs, Output, Use it elsewhere).
   Each tab is a link to ?tab=KEY, so without this script the server shows the tab asked for;
   with it, a tab switches in place and the URL follows (a reload or a copied link keeps the tab).
   Keyboard: Tab reaches the selected tab, arrows / Home / End move between tabs. */
(function () {
  "use strict";
  var root = document.querySelector("[data-page-tabs]");
  var list = root && root.querySelector('[role="tablist"]');
  if (!list) { return; }
  var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));

  function panelOf(tab) { return document.getElementById(tab.getAttribute("aria-controls") || ""); }

  function show(tab, focus) {
    tabs.forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = panelOf(other);
      if (panel) { panel.hidden = !selected; }
    });
    if (focus) { tab.focus(); }
    var url = new URL(window.location.href);
    url.searchParams.set("tab", tab.getAttribute("data-tab"));
    url.hash = "";
    window.history.replaceState(window.history.state, "", url.pathname + url.search);
  }

  list.addEventListener("click", function (event) {
    var tab = event.target instanceof Element ? event.target.closest('[role="tab"]') : null;
    if (!tab || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    event.stopPropagation();
    show(tab, true);
  });

  list.addEventListener("keydown", function (event) {
    var index = tabs.indexOf(document.activeElement);
    if (index < 0) { return; }
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) { return; }
    event.preventDefault();
    event.stopPropagation();
    show(tabs[(next + tabs.length) % tabs.length], true);
  });

  // an old link to a part of the page (#versions): open the tab that holds it
  var wanted = window.location.hash && !new URLSearchParams(window.location.search).has("tab")
    ? document.getElementById(window.location.hash.slice(1)) : null;
  var holder = wanted && wanted.closest('[role="tabpanel"]');
  if (holder && holder.hidden) {
    var owner = tabs.filter(function (t) { return panelOf(t) === holder; })[0];
    if (owner) { show(owner, false); wanted.scrollIntoView(); }
  }
})();
