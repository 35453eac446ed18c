// Accounting settings: the Customer invoice, Supplier invoice and Payments
// sections become tabs (WAI-ARIA tabs: arrow keys, Home and End move
// between them). Without this script the sections show one below another.
(function () {
  "use strict";

  function enhance(container) {
    var panels = Array.prototype.slice.call(
      container.querySelectorAll(":scope > .tab-panel")
    );
    if (panels.length < 2) return;
    var list = document.createElement("div");
    list.className = "tablist";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", "Accounting settings tabs");

    var tabs = panels.map(function (panel, index) {
      var title = panel.querySelector("h2");
      var tab = document.createElement("button");
      tab.type = "button";
      tab.id = panel.id + "-tab";
      tab.textContent = title ? title.textContent : panel.id;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.tabIndex = -1;
      tab.addEventListener("click", function () { select(index, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: index + 1, ArrowLeft: index - 1,
                     Home: 0, End: panels.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select((next + panels.length) % panels.length, true);
      });
      list.appendChild(tab);
      return tab;
    });

    function select(chosen, focus) {
      tabs.forEach(function (tab, index) {
        var on = index === chosen;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[index].hidden = !on;
      });
      if (focus) tabs[chosen].focus();
    }

    container.insertBefore(list, panels[0]);
    container.classList.add("enhanced");
    // The panel the address names (#payments) opens first, else the first.
    var start = panels.findIndex(function (panel) {
      return panel.id === (location.hash || "").slice(1);
    });
    select(start < 0 ? 0 : start, false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-tabs]").forEach(enhance);
  });
})();
