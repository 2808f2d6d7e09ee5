// Onboarding: preselect the browser's time zone while the choice is still "from my browser or my country".
// Progressive enhancement only: without this file the server uses the country's zone.
(function () {
  "use strict";
  function ready() {
    var select = document.querySelector("select[data-browser-time-zone]");
    if (!select || select.value || !window.Intl) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    // Only zones offered in the list: "UTC" (privacy modes, headless browsers) is not, so the country decides.
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
