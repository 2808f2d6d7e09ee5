// The share page (/i/shares/<id>/post/): a copy button for the caption. Progressive enhancement only: without
// this file the caption is a plain text area people select and copy themselves.
(function () {
  "use strict";
  function copied(button, status) {
    if (status) status.textContent = button.getAttribute("data-copied") || "";
    button.setAttribute("data-state", "copied");
  }
  function fallback(field, button, status) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try {
      if (document.execCommand("copy")) copied(button, status);
    } catch (error) {
      /* the text stays selected for a long press */
    }
  }
  function ready() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(
            function () { copied(button, status); },
            function () { fallback(field, button, status); }
          );
        } else {
          fallback(field, button, status);
        }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
