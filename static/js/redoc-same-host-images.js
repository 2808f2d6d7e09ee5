// Loaded before ReDoc's bundle on /api/redoc/. ReDoc's side menu shows Redocly's logo from their CDN,
// which this site's Content-Security-Policy blocks (images from this site only) and which a reader's
// browser should not fetch anyway. An image address on another host, set as an attribute or as the
// src property, is dropped and the image hidden: nothing is requested, no broken image shows.
(function () {
  "use strict";
  function elsewhere(value) {
    var target = new URL(String(value), document.baseURI);
    return target.protocol !== "data:" && target.protocol !== "blob:" && target.origin !== window.location.origin;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && elsewhere(value)) {
      setAttribute.call(this, "hidden", "");
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      if (elsewhere(value)) {
        setAttribute.call(this, "hidden", "");
        return;
      }
      src.set.call(this, value);
    },
  });
})();
