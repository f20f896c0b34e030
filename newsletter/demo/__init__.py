"""Demonstration data for a first run (`newsletter demo load`, run by `make run`).

The sample feed's articles, dated within the last days at every load, and a few confirmed
readers: a newcomer's first preview and first special edition have something to show.
"""
