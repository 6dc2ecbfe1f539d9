// Django's two-box filter widget (SelectFilter2.js, used by filter_horizontal: a group's
// permissions, a clinic's clinicians) puts aria-label on a plain <span> icon, which ARIA does not
// allow (axe-core: aria-prohibited-attr). The label came with Django ticket #34619 (Django 5.2).
// Giving each icon role="img" makes the label valid, and screen readers still announce it. The
// widget is built after the page loads, so new icons are fixed as they appear.
(function () {
  "use strict";

  function fixIcons() {
    document
      .querySelectorAll("span.search-label-icon[aria-label]:not([role])")
      .forEach(function (icon) {
        icon.setAttribute("role", "img");
      });
  }

  new MutationObserver(fixIcons).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
