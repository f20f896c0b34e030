// The console's pages that follow a job without a reload (an edition's sending, a reader
// import) ask its JSON every second through this one function, loaded before the page's own
// script. show(data) writes an answer in the page and returns true once the job has ended.
// An answer that is not the JSON asked for (the login page once the session ended, an error
// page), or a few failures in a row, stop the asking for good and call onStop.
"use strict";

window.pollJson = (url, { show, onStop = () => {} }) => {
  const EVERY_MS = 1000;
  const MAX_FAILURES = 5; // in a row: a short network hiccup is not the end

  let failures = 0;

  async function poll() {
    try {
      const response = await fetch(url, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      // A redirect to the login page lands as a 200 in HTML: only the JSON asked for counts.
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      if (!response.ok || response.redirected || !json) {
        onStop();
        return;
      }
      const data = await response.json();
      failures = 0;
      if (show(data)) {
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= MAX_FAILURES) {
        onStop();
        return;
      }
    }
    window.setTimeout(poll, EVERY_MS);
  }

  window.setTimeout(poll, EVERY_MS);
};
