// The few behaviours plain HTML lacks. No inline script anywhere (the pages' CSP forbids it).
document.addEventListener("change", function (event) {
  // "Select all" boxes tick every box with the name they name, in the same form.
  var all = event.target.closest("[data-select-all]");
  if (!all) return;
  var form = all.form;
  if (!form) return;
  form.querySelectorAll('input[type="checkbox"][name="' + all.dataset.selectAll + '"]').forEach(function (box) {
    box.checked = all.checked;
  });
});
document.addEventListener("keydown", function (event) {
  // Ctrl/Cmd + Enter sends a note.
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  var form = event.target.closest("form[data-submit-on-ctrl-enter]");
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
});
