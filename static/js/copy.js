// "Copy" buttons: <button data-copy="#input-id"> copies that field's value and says so.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy"));
  var status = document.getElementById(button.id.replace(/-copy$/, "-copied"));
  if (!field) return;
  function done(text) { if (status) status.textContent = text; }
  field.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(
      function () { done("Copied."); },
      function () { done("Selected: press Ctrl+C (⌘C) to copy."); }
    );
  } else {
    done(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  }
});
