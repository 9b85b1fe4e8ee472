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

// CSV exports with progress: the export link ([data-export]) and the bulk form's "Export
// CSV" are fetched here, the rows counted as they stream in and told in the live region
// ([data-export-progress]), then saved under the server's file name. Without script,
// the link and the form work as plain downloads.
(function () {
  function region() {
    return document.querySelector("[data-export-progress]");
  }
  function say(text) {
    var found = region();
    if (found) found.textContent = text;
  }
  function fileName(response) {
    var header = response.headers.get("content-disposition") || "";
    var match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
    return match ? decodeURIComponent(match[1]) : "customers.csv";
  }
  function rowsIn(text, state) {
    // Line ends outside quoted fields (a quoted field may hold a line break).
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (ch === '"') state.quoted = !state.quoted;
      else if (ch === "\n" && !state.quoted) state.lines += 1;
    }
  }
  function plural(n) {
    return n + (n === 1 ? " customer" : " customers");
  }
  async function exportCsv(url) {
    if (!window.fetch || !window.ReadableStream || !region()) return false;
    say("Preparing the export…");
    var response;
    try {
      response = await fetch(url, { credentials: "same-origin" });
    } catch (error) {
      say("The export failed: the connection was lost. Try again.");
      return true;
    }
    if (!response.ok || !response.body) {
      say("The export failed (" + response.status + "). Reload the page and try again.");
      return true;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var parts = [];
    var state = { quoted: false, lines: 0 };
    for (;;) {
      var step = await reader.read();
      if (step.done) break;
      parts.push(step.value);
      rowsIn(decoder.decode(step.value, { stream: true }), state);
      say("Exporting… " + plural(Math.max(state.lines - 1, 0)) + " so far");
    }
    var blob = new Blob(parts, { type: "text/csv" });
    var name = fileName(response);
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    say("Export ready: " + plural(Math.max(state.lines - 1, 0)) + " in " + name + ".");
    return true;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    exportCsv(link.href).then(function (handled) {
      if (!handled) window.location.href = link.href;
    });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "bulk" || !form.elements.action || form.elements.action.value !== "export") return;
    var ids = Array.prototype.map.call(
      form.querySelectorAll('input[name="ids"]:checked'), function (box) { return box.value; });
    if (!ids.length || !region()) return;  // the server says "Select customers first."
    event.preventDefault();
    var url = "/console/customers/export.csv?" + ids.map(function (id) {
      return "id=" + encodeURIComponent(id);
    }).join("&");
    exportCsv(url);
  });
})();
