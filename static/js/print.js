// The printable report's Print button (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
