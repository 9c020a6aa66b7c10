/* The language switch (base.html) returns to the section being read: a browser never
   sends the part of the address after "#", so on sending the form this copies it into
   the form's "fragment" field. The server takes only an element id from it; without
   this script the switch still works and returns to the top of the page. */
(function () {
  "use strict";
  var form = document.querySelector("form.app-lang");
  if (!form || !form.elements.fragment) { return; }
  form.addEventListener("submit", function () {
    var section = "";
    try {
      section = decodeURIComponent(window.location.hash.slice(1));
    } catch (err) {
      section = "";  // a malformed escape: no section, the top of the page
    }
    form.elements.fragment.value = section;
  });
}());
