"""Aggregate click counts: article links go through /r/<ref>, a counter per (edition, article,
section of the letter) goes up by one, and the reader is sent on to the article. Nothing in a
reference, a counter or a log line names the reader (docs/clicks.md)."""
