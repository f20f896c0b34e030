"""The public archive: past editions as web pages and an Atom feed, with nothing personal."""
