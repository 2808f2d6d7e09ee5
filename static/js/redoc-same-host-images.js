// Loaded before ReDoc's bundle on /api/redoc/. ReDoc's side menu shows Redocly's logo from their CDN,
// which this site's Content-Security-Policy blocks (images from this site only) and which a reader's
// browser should not fetch anyway. ReDoc sets image addresses with setAttribute: an image on another
// host is left without an address and hidden, so nothing is requested and no broken image shows.
(function () {
  "use strict";
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src") {
      var target = new URL(String(value), document.baseURI);
      if (target.protocol !== "data:" && target.origin !== window.location.origin) {
        setAttribute.call(this, "hidden", "");
        return undefined;
      }
    }
    return setAttribute.call(this, name, value);
  };
})();
