/* The run page's result: tabs (Readable / Raw JSON) and the Copy buttons.
   Without JavaScript both panels show one after the other and Copy stays hidden.
   htmx swaps the run body while a run is live, so new content is set up on htmx:load. */
(function () {
  "use strict";

  function select(tabs, chosen, focus) {
    tabs.forEach(function (tab) {
      var on = tab === chosen;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
    if (focus) chosen.focus();
  }

  function setUpTabs(box) {
    var list = box.querySelector('[role="tablist"]');
    if (!list || box.hasAttribute("data-tabs-ready")) return;
    box.setAttribute("data-tabs-ready", "");
    var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
    list.hidden = false;
    box.classList.add("tabs-on");
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tabs, tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select(tabs, tabs[(next + tabs.length) % tabs.length], true);
      });
    });
    var chosen = tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0];
    select(tabs, chosen || tabs[0], false);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on another host: the older route through a selected, off-screen text area.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function setUpCopy(button) {
    if (button.hasAttribute("data-copy-ready")) return;
    button.setAttribute("data-copy-ready", "");
    button.hidden = false;
    var status = button.parentNode.querySelector(".copy-status");
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      copyText(source.textContent).then(
        function () { if (status) status.textContent = "Copied"; },
        function () { if (status) status.textContent = "Could not copy: select the text and copy it instead"; }
      );
      if (status) setTimeout(function () { status.textContent = ""; }, 4000);
    });
  }

  function setUp(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-tabs]"), setUpTabs);
    Array.prototype.forEach.call(root.querySelectorAll("button[data-copy]"), setUpCopy);
  }

  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
