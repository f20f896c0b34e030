// An edition's page follows its sending without a reload: it asks the page's JSON
// (section#progress data-url) every second until the edition is finished or cancelled, and
// writes the figures in place. Text only (textContent): nothing from the server becomes HTML.
"use strict";

(() => {
  const section = document.getElementById("progress");
  if (!section || section.dataset.ended === "true") {
    return;
  }
  const EVERY_MS = 1000;
  const MAX_FAILURES = 5; // in a row: then say the page no longer updates
  const RATE_SAMPLES = 6; // the rate is read over the last few polls, not one
  const samples = [];
  const decimal = new Intl.NumberFormat(document.documentElement.lang || "fr", {
    maximumFractionDigits: 1,
  });
  let failures = 0;
  const sentCell = section.querySelector('[data-count="sent"]');
  samples.push({ at: performance.now(), sent: Number(sentCell ? sentCell.textContent : 0) });

  const live = (name) => document.querySelectorAll(`[data-live="${name}"]`);
  const setText = (name, text) => live(name).forEach((node) => { node.textContent = text; });

  function showRate(sent) {
    samples.push({ at: performance.now(), sent });
    if (samples.length > RATE_SAMPLES) {
      samples.shift();
    }
    const first = samples[0];
    const last = samples[samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    setText("rate", seconds > 0 ? decimal.format(Math.max(0, last.sent - first.sent) / seconds) : "—");
  }

  function showReasons(reasons, others) {
    const rows = reasons.map((reason) => [reason.code ?? "—", reason.reply || "—", reason.count]);
    if (others > 0) {
      rows.push(["—", section.querySelector('[data-live="reasons"]').dataset.others, others]);
    }
    live("reasons").forEach((body) => {
      // The page's words, in the console's language (data-none, data-others).
      const cells = rows.length ? rows : [[body.dataset.none]];
      body.replaceChildren(...cells.map((values) => {
        const tr = document.createElement("tr");
        values.forEach((value) => {
          const td = document.createElement("td");
          td.textContent = String(value);
          if (values.length === 1) {
            td.colSpan = 3;
          }
          tr.append(td);
        });
        return tr;
      }));
    });
  }

  function show(report) {
    setText("status_label", report.status_label);
    live("pause_reason").forEach((node) => {
      node.textContent = report.pause_reason || "";
      node.hidden = !report.pause_reason;
    });
    section.querySelectorAll("[data-count]").forEach((cell) => {
      const value = report.counts[cell.dataset.count];
      if (value !== undefined) {
        cell.textContent = String(value);
      }
    });
    const bar = document.getElementById("progress-bar");
    bar.value = report.percent;
    bar.textContent = `${report.percent} %`;
    setText("percent", String(report.percent));
    showRate(report.counts.sent);
    showReasons(report.reasons, report.other_reasons);
    section.querySelectorAll("[data-control]").forEach((control) => {
      control.hidden = !report.controls[control.dataset.control];
    });
  }

  function stop() {
    live("stale").forEach((node) => { node.hidden = false; });
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.url, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      // A login page instead of figures: the session ended; a reload says so.
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      if (!response.ok || response.redirected || !json) {
        stop();
        return;
      }
      const report = await response.json();
      failures = 0;
      show(report);
      if (report.ended) {
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= MAX_FAILURES) {
        stop();
        return;
      }
    }
    window.setTimeout(poll, EVERY_MS);
  }

  window.setTimeout(poll, EVERY_MS);
})();
