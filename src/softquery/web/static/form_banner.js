/* A refused form (partials/form_banner.html): focus the field to fix, and let the banner's
   link focus it too. Works for pages and for htmx swaps. */
(function () {
  "use strict";

  function fieldOf(banner) {
    return document.getElementById(banner.getAttribute("data-form-banner") || "") ||
      document.querySelector('[aria-invalid="true"]');
  }

  function focusField(root) {
    var banner = root.querySelector ? root.querySelector("[data-form-banner]") : null;
    if (!banner) { return; }
    var field = fieldOf(banner);
    if (field && field.offsetParent !== null && typeof field.focus === "function") {
      field.focus();
    } else {
      banner.focus();  // a field the page draws itself (a code editor): the banner says where
    }
  }

  document.addEventListener("DOMContentLoaded", function () { focusField(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target instanceof Element) { focusField(event.target); }
  });
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("[data-form-banner] a") : null;
    if (!link) { return; }
    var field = fieldOf(link.closest("[data-form-banner]"));
    if (field && field.offsetParent !== null) { event.preventDefault(); field.focus(); }
  });
})();
