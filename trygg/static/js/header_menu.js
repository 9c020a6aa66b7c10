/* The header's folded menu (base.html, css/header_folded.css), run as soon as the header
   is parsed, before the page below it is drawn. On a phone the menu folds behind "Menu"
   by the stylesheet's media query alone, and "Menu" is a <details> that opens without
   this script. This script adds two things:
   - wider than a phone, it folds the menu too whenever its links would not all fit on
     the logo's line (a user of many roles, a long language), so the header is one line
     on every screen: it sets the stylesheet's media to "all", and back when the links
     fit again (a wider window);
   - it closes the open menu the way menus close: on Escape (focus goes back to "Menu"),
     on a click elsewhere on the page, and when the keyboard's focus leaves it. */
(function () {
  "use strict";
  var menu = document.querySelector("details.app-menu");
  var sheet = document.querySelector("link.app-folded-css");
  if (!menu || !sheet) { return; }
  var panel = menu.nextElementSibling;
  var narrow = sheet.media;
  var logo = document.querySelector(".app-logo");
  var links = panel.querySelectorAll(".app-nav li");

  // Unfolded, a menu that does not fit beside the logo goes under it (app.css), and its
  // links wrap when it does not fit there either: the last link tells both.
  function fits() {
    if (!links.length) { return true; }
    var last = links[links.length - 1].getBoundingClientRect();
    return last.top < logo.getBoundingClientRect().bottom;
  }

  // Unfold, measure, and fold again if the links wrapped: reading the layout right
  // after the change lays the page out without drawing it, so nothing flickers.
  function fit() {
    sheet.media = narrow;
    if (!window.matchMedia(narrow).matches && !fits()) {
      sheet.media = "all";
    } else if (!window.matchMedia(narrow).matches) {
      menu.open = false;
    }
  }

  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fit(); });
  });
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fit); }
  fit();

  function inside(node) {
    return node instanceof Node && (menu.contains(node) || panel.contains(node));
  }
  document.addEventListener("keydown", function (event) {
    // The account menu inside the panel closes first (js/user_menu.js marks that).
    if (event.key === "Escape" && menu.open && !event.defaultPrevented && inside(event.target)) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  function leave(event) {
    if (menu.open && event.relatedTarget && !inside(event.relatedTarget)) { menu.open = false; }
  }
  menu.addEventListener("focusout", leave);
  panel.addEventListener("focusout", leave);
  document.addEventListener("click", function (event) {
    if (menu.open && !inside(event.target)) { menu.open = false; }
  });
}());
