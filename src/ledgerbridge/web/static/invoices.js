// The invoice screens: the Export / Accounting export menu, the Export
// Accounting information dialog, and its period choice. No inline script
// is allowed (CSP), so everything is wired here by data attributes.
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("[data-menu-button]").forEach(function (button) {
      if (button === except) return;
      button.setAttribute("aria-expanded", "false");
      var menu = document.getElementById(button.getAttribute("aria-controls"));
      if (menu) menu.hidden = true;
    });
  }

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog || dialog.open) return;
    dialog.showModal();
    var first = dialog.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var menuButton = target.closest("[data-menu-button]");
    if (menuButton) {
      var open = menuButton.getAttribute("aria-expanded") === "true";
      closeMenus(menuButton);
      menuButton.setAttribute("aria-expanded", open ? "false" : "true");
      var menu = document.getElementById(menuButton.getAttribute("aria-controls"));
      if (menu) {
        menu.hidden = open;
        var item = menu.querySelector("button, a");
        if (!open && item) item.focus();
      }
      return;
    }
    var opener = target.closest("[data-open-dialog]");
    if (opener) {
      closeMenus(null);
      openDialog(opener.getAttribute("data-open-dialog"));
      return;
    }
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    if (!target.closest(".menu")) closeMenus(null);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("[data-menu-button][aria-expanded=true]");
    if (open) {
      closeMenus(null);
      open.focus();
    }
  });

  // Typing a date chooses Custom; choosing a month shows its dates.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement)) return;
    var form = field.form;
    if (!form || form.id !== "export-form") return;
    if (field.name === "from" || field.name === "to") {
      var custom = form.querySelector("input[name=period][value=custom]");
      if (custom) custom.checked = true;
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || field.name !== "period") return;
    var form = field.form;
    if (!form || form.id !== "export-form" || !field.dataset.first) return;
    form.elements.namedItem("from").value = field.dataset.first;
    form.elements.namedItem("to").value = field.dataset.last;
  });

  // Back from the terms and conditions: the dialog opens again.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-open-now]").forEach(function (dialog) {
      openDialog(dialog.id);
    });
  });
})();
