"""Digests: one email per reader with the new articles of that reader's regions.

Pipeline: editions (which edition, which window) -> assemble (who gets which articles) ->
render (templates, once per distinct regions and language) -> compose (per reader: links,
name, headers; bytes for SMTP). The delivery engine (newsletter.delivery) plans and sends:
it imports this package (DigestComposer builds its messages), and nothing here imports it.

Rules a reader can see:
- Window: articles published in [window_start, window_end). A weekly digest starts where the
  previous weekly ended (the first covers 7 days); a special, where the previous special ended,
  unless the editor gives dates. Edition keys are unique: `weekly-2026-W49` (ISO week of the
  beat, in TIMEZONE), `special-2026-11-30-1` (numbered per day) or `special-<day>-<request key>`.
- Sections: the reader's regions that have articles, in the site's menu order. Within a
  section, newest first (ties: most recently stored first); an article in several of the
  reader's regions appears once, in the first of them. Section labels (Grand Angle, Idées,
  En Continu) are shown, not used for ordering.
- A pinned top story opens the email of every reader of the edition (of its regions, when it
  is limited), even one with nothing else new; otherwise a reader with nothing new gets no
  email and is recorded as skipped.
- Subject: "Russie, Afrique : 5 articles — semaine 48" (the ISO week of the window's middle);
  a special edition with a top story: "Édition spéciale — <its title>".
- Article text is data, never a template: escaped in HTML, one line in text and headers.
"""
