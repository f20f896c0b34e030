// A reader import's page follows the worker without a reload: it asks the import's progress
// (section#import-progress data-url) every second, writes the lines read in place, and
// reloads the page once the import has ended, to show the report. Text only (textContent).
"use strict";

(() => {
  const section = document.getElementById("import-progress");
  if (!section) {
    return;
  }
  const EVERY_MS = 1000;
  const MAX_FAILURES = 5; // in a row: then the page stops asking (the Refresh link stays)
  let failures = 0;

  async function poll() {
    try {
      const response = await fetch(section.dataset.url, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      if (!response.ok || response.redirected || !json) {
        return; // the session ended, or the import is gone: a reload says which
      }
      const progress = await response.json();
      failures = 0;
      if (progress.ended) {
        window.location.reload();
        return;
      }
      section.querySelectorAll('[data-live="read"]').forEach((node) => {
        node.textContent = String(progress.lines_read);
      });
      const bar = document.getElementById("import-bar");
      bar.value = progress.lines_read;
      bar.textContent = String(progress.lines_read);
    } catch (error) {
      failures += 1;
      if (failures >= MAX_FAILURES) {
        return;
      }
    }
    window.setTimeout(poll, EVERY_MS);
  }

  window.setTimeout(poll, EVERY_MS);
})();
