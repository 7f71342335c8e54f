// A search box over a long <select>: typing hides the options (and empty groups) that do not
// match and selects the first that does; the select itself stays keyboard-usable as always.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-filters]")) {
    const select = document.getElementById(input.dataset.filters);
    if (!select) continue;
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().replace(/ /g, "_").split(/_+/).filter(Boolean);
      let first = null;
      for (const option of select.options) {
        const hay = option.value.toLowerCase();
        const shown = words.every((w) => hay.includes(w));
        option.hidden = !shown;
        if (shown && !first) first = option;
      }
      for (const group of select.querySelectorAll("optgroup")) {
        group.hidden = ![...group.children].some((o) => !o.hidden);
      }
      if (first && words.length) select.value = first.value;
    });
  }
});
