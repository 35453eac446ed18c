// Financial > Payments: the payment menu (right-click a payment, or an
// Actions button) with Payments Import, and its dialog. Inline scripts and
// handlers are not allowed (CSP): everything is wired here.
(function () {
  "use strict";

  var opener = null; // the Actions button the menu belongs to

  function menu() {
    return document.getElementById("payments-menu");
  }

  function items() {
    var open = menu();
    return open ? Array.prototype.slice.call(open.querySelectorAll("[role=menuitem]")) : [];
  }

  function openMenu(button, x, y) {
    var shown = menu();
    if (!shown) return;
    closeMenu(false);
    opener = button;
    if (button) button.setAttribute("aria-expanded", "true");
    // On the page itself, so it scrolls with the row it was opened on.
    if (shown.parentElement !== document.body) document.body.appendChild(shown);
    shown.hidden = false;
    // Inside the window, in the page's coordinates.
    var left = Math.max(4, Math.min(x, window.innerWidth - shown.offsetWidth - 4));
    var top = Math.max(4, Math.min(y, window.innerHeight - shown.offsetHeight - 4));
    shown.style.left = left + window.scrollX + "px";
    shown.style.top = top + window.scrollY + "px";
    var first = items()[0];
    if (first) first.focus();
  }

  function closeMenu(refocus) {
    var shown = menu();
    if (!shown || shown.hidden) return;
    shown.hidden = true;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (refocus) opener.focus();
    }
    opener = null;
  }

  function openMenuBelow(button) {
    var box = button.getBoundingClientRect();
    openMenu(button, box.left, box.bottom + 4);
  }

  function openDialog() {
    var dialog = document.getElementById("import-dialog");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    var first = dialog.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }

  // Right-click a payment, or anywhere in the list (an empty one too): the
  // menu where the pointer is, tied to the row's or the toolbar's button.
  document.addEventListener("contextmenu", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var row = target && target.closest("[data-payment-row]");
    var area = target && target.closest("[data-payments-area]");
    if (!row && !area) return;
    var button = row
      ? row.querySelector("[data-actions]")
      : document.querySelector(".payments-bar [data-actions]");
    if (!button) return;
    event.preventDefault();
    openMenu(button, event.clientX, event.clientY);
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var actions = target.closest("[data-actions]");
    if (actions) {
      var wasOpen = actions.getAttribute("aria-expanded") === "true";
      closeMenu(false);
      if (!wasOpen) openMenuBelow(actions);
      return;
    }
    if (target.closest("[data-open-import]")) {
      closeMenu(false);
      openDialog();
      return;
    }
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    if (!target.closest("#payments-menu")) closeMenu(false);
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    // Arrow keys on an Actions button open its menu too.
    var actions = target.closest("[data-actions]");
    if (actions && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      openMenuBelow(actions);
      return;
    }
    if (!target.closest("#payments-menu")) return;
    var list = items();
    var at = list.indexOf(target);
    var next = null;
    if (event.key === "ArrowDown") next = list[(at + 1) % list.length];
    else if (event.key === "ArrowUp") next = list[(at - 1 + list.length) % list.length];
    else if (event.key === "Home") next = list[0];
    else if (event.key === "End") next = list[list.length - 1];
    else if (event.key === "Escape") {
      event.preventDefault();
      closeMenu(true);
      return;
    } else if (event.key === "Tab") {
      closeMenu(true);
      return;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  // Typing a date chooses Custom; choosing a month fills in its dates.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.form) return;
    if (field.form.id !== "import-form") return;
    if (field.name === "from" || field.name === "to") {
      var custom = field.form.querySelector("input[name=period][value=custom]");
      if (custom) custom.checked = true;
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || field.name !== "period") return;
    var form = field.form;
    if (!form || form.id !== "import-form" || !field.dataset.first) return;
    form.elements.namedItem("from").value = field.dataset.first;
    form.elements.namedItem("to").value = field.dataset.last;
  });
})();
