/* The header's account menu (base.html) is a <details>: it opens and closes without
   this script. The script only closes it the way menus close: on Escape (focus goes
   back to its button), on a click elsewhere on the page, and when the keyboard's focus
   leaves it. */
(function () {
  "use strict";
  var menu = document.querySelector("details.app-user");
  if (!menu) { return; }
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      event.preventDefault();  // handled: a menu it sits in (js/header_menu.js) stays open
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  menu.addEventListener("focusout", function (event) {
    if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) {
      menu.open = false;
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) { menu.open = false; }
  });
}());
