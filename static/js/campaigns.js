// Campaign pages. Progressive enhancement only: everything works without this file.
(function () {
  "use strict";
  // Tell the live caption preview whether an image or video was picked (the file itself is not sent).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.id !== "id_media") return;
    var flag = document.getElementById("id_media_selected");
    if (flag && input.files && input.files.length) flag.value = "1";
  }, true); // capture: runs before htmx reads the form on the same change event
})();
