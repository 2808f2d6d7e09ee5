// Offer page. Progressive enhancement only: the page works without this file.
(function () {
  "use strict";
  function ready() {
    // Scheduled times are in the zone of the influencer's profile (set on onboarding, static/js/timezone.js).
    // Typing a time means "at a time I choose".
    var at = document.querySelector("input[name='scheduled_at']");
    var later = document.querySelector("input[name='when'][value='later']");
    if (at && later) {
      at.addEventListener("input", function () { if (at.value) later.checked = true; });
    }
    var errors = document.getElementById("accept-errors");
    if (errors) errors.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
