/* The admin's colour convention: the server names it on this script's tag (data-colours); it goes on <html>
   before the body is drawn, as the admin's own theme.js does for data-theme (no inline script: CSP). */
(function () {
  "use strict";
  var script = document.currentScript;
  var value = script && script.getAttribute("data-colours");
  if (value === "red-up" || value === "green-up") document.documentElement.setAttribute("data-colours", value);
})();
