// An edition's page follows its sending without a reload: it asks the page's JSON
// (section#progress data-url) every second until the edition is finished or cancelled, and
// writes the figures in place. Text only (textContent): nothing from the server becomes HTML.
// The asking is admin-poll.js's, loaded first.
"use strict";

(() => {
  const section = document.getElementById("progress");
  if (!section || section.dataset.ended === "true") {
    return;
  }
  const RATE_SAMPLES = 6; // the rate is read over the last few polls, not one
  const samples = [];
  const decimal = new Intl.NumberFormat(document.documentElement.lang || "fr", {
    maximumFractionDigits: 1,
  });
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
    return report.ended;
  }

  // The session ended or the server stopped answering: say the page no longer updates.
  function stop() {
    live("stale").forEach((node) => { node.hidden = false; });
  }

  window.pollJson(section.dataset.url, { show, onStop: stop });
})();
