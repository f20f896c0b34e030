// A reader import's page follows the worker without a reload: it asks the import's progress
// (section#import-progress data-url) every second, writes the lines read in place, and
// reloads the page once the import has ended, to show the report. Text only (textContent).
// The asking is admin-poll.js's, loaded first; when it stops (the session ended, the import
// is gone, the server no longer answers), the page stays as it is, with its Refresh link.
"use strict";

(() => {
  const section = document.getElementById("import-progress");
  if (!section) {
    return;
  }

  function show(progress) {
    if (progress.ended) {
      window.location.reload();
      return true;
    }
    section.querySelectorAll('[data-live="read"]').forEach((node) => {
      node.textContent = String(progress.lines_read);
    });
    const bar = document.getElementById("import-bar");
    bar.value = progress.lines_read;
    bar.textContent = String(progress.lines_read);
    return false;
  }

  window.pollJson(section.dataset.url, { show });
})();
