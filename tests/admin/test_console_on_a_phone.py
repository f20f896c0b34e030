"""The console on a phone: every page an editor can reach from the menu fits a 360-pixel screen.

The test walks the console as a browser would (every /admin link of every page reached, GET
only), so a page added later is checked without being listed here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from flask import Flask

from newsletter.digests.editions import create_special
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Editor, db
from tests.delivery.seed import seed_readers
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

EDITOR, PASSWORD = "chef@revue-internationale.example", "a long enough password"
PHONE = {"width": 360, "height": 740}
# Downloads and machine formats are not pages; logout would end the walk.
NOT_PAGES = (".csv", ".json", "/logout", "/frame")
MOST_PAGES = 80


@pytest.fixture
def page_options() -> dict[str, Any]:
    return {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _console_links(page: Any, live_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        url = urldefrag(href).url
        path = urlsplit(url).path
        if url.startswith(live_url + "/admin") and not path.endswith(NOT_PAGES):
            found.append(url)
    return found


def _overflow(page: Any) -> dict[str, Any] | None:
    """How far the page scrolls sideways, and the widest element that pushes it; None if it fits."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return null;
            let widest = null;
            for (const el of document.body.querySelectorAll('*')) {
                const right = el.getBoundingClientRect().right;
                if (right > width + 1 && (!widest || right > widest.right))
                    widest = {tag: el.tagName.toLowerCase(), cls: el.className, right};
            }
            return {scrollWidth: document.documentElement.scrollWidth, width, widest};
        }"""
    )


def test_every_console_page_fits_a_phone_screen_without_sideways_scrolling(
    app: Flask, page: Any, live_url: str
) -> None:
    ingest_file(SAMPLE_FEED)
    create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
    seed_readers(3)
    editor = Editor(email=EDITOR, is_admin=True)  # the admins' pages too
    editor.set_password(PASSWORD)
    db.session.add(editor)
    db.session.commit()

    log_in(page, live_url, EDITOR, PASSWORD)

    to_visit, seen, too_wide = [live_url + "/admin/"], set(), {}
    while to_visit and len(seen) < MOST_PAGES:
        url = to_visit.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        assert response is not None and response.ok, (url, response and response.status)
        overflow = _overflow(page)
        if overflow:
            too_wide[url.removeprefix(live_url)] = overflow
        to_visit.extend(link for link in _console_links(page, live_url) if link not in seen)

    # The walk reached the menu's sections, not just the dashboard.
    visited = {urlsplit(url).path for url in seen}
    assert {"/admin/digests", "/admin/articles", "/admin/feeds", "/admin/readers"} <= visited
    assert too_wide == {}
