/* The header's account menu (base.html) is a <details>: it opens and closes without
   this script. The script only closes it the way menus close: on Escape (focus goes
   back to its button) and on a click elsewhere on the page. */
(function () {
  "use strict";
  var menu = document.querySelector("details.app-user");
  if (!menu) { return; }
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) { menu.open = false; }
  });
}());
