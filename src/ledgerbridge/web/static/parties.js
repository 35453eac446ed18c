// Leads/Prospect > Contact and Purchase > Supplier: the edit dialog (native
// <dialog>, its content loaded by htmx) and its General / Settings tabs.
(function () {
  "use strict";

  function select(tab, focus) {
    const list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      const chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) {
        panel.hidden = !chosen;
      }
    });
    if (focus) {
      tab.focus();
    }
  }

  function setUpTabs(root) {
    root.querySelectorAll("[role=tablist]").forEach(function (list) {
      if (list.dataset.ready) {
        return;
      }
      list.dataset.ready = "true";
      const tabs = Array.from(list.querySelectorAll("[role=tab]"));
      const first = tabs.find(function (tab) {
        return tab.getAttribute("aria-selected") === "true";
      }) || tabs[0];
      select(first, false);
      tabs.forEach(function (tab, index) {
        tab.addEventListener("click", function () {
          select(tab, true);
        });
        tab.addEventListener("keydown", function (event) {
          const moves = {
            ArrowRight: index + 1,
            ArrowLeft: index - 1,
            Home: 0,
            End: tabs.length - 1,
          };
          if (!(event.key in moves)) {
            return;
          }
          event.preventDefault();
          const next = (moves[event.key] + tabs.length) % tabs.length;
          select(tabs[next], true);
        });
      });
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const body = event.detail.target;
    if (!body || body.id !== "party-dialog-body") {
      return;
    }
    const dialog = document.getElementById("party-dialog");
    setUpTabs(body);
    if (!dialog.open) {
      dialog.showModal();
    }
    // After a refused save the Settings tab is open: its first marked field
    // takes the focus; else the selected tab does.
    const invalid = body.querySelector("[aria-invalid=true]");
    const selected = body.querySelector("[role=tab][aria-selected=true]");
    (invalid || selected).focus();
  });

  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      closer.closest("dialog").close();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpTabs(document);
    const dialog = document.getElementById("party-dialog");
    if (dialog) {
      // Emptied when closed, so a stale form is never shown again.
      dialog.addEventListener("close", function () {
        document.getElementById("party-dialog-body").replaceChildren();
      });
    }
  });
})();
