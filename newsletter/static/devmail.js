// The dev mailbox shows a message's HTML part in a frame as tall as its content, so the page
// scrolls as one. The frame is same-origin (sandboxed, without scripts), so its height can be
// read from here; the height is set through the CSSOM, which the CSP allows.
"use strict";

function fitFrame(frame) {
  const page = frame.contentDocument && frame.contentDocument.documentElement;
  if (page) {
    // The root element's own box: its content's height, whatever the frame's height now
    // (scrollHeight never goes below the frame's, so a frame could only grow).
    frame.style.height = Math.ceil(page.getBoundingClientRect().height) + "px";
  }
}

for (const frame of document.querySelectorAll("iframe.mail-html")) {
  frame.addEventListener("load", () => fitFrame(frame));
  // Narrower or wider, the message wraps to another height.
  window.addEventListener("resize", () => fitFrame(frame));
  fitFrame(frame);
}
