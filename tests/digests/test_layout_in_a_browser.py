"""The digest's HTML in a real Chromium: fluid on a phone, 600 px on a desktop, preheader hidden."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import create_special
from newsletter.digests.preview import site_copy
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL

pytestmark = pytest.mark.browser


@pytest.fixture
def digest_html(app: Flask, sample_articles: None) -> str:
    edition = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
    composer = DigestComposer.load(edition.digest.id)
    body = composer.body_for(("union-europeenne", "russie", "afrique"), "fr")
    assert body is not None
    return site_copy(composer, body)[1]


@pytest.mark.parametrize(("width", "container"), [(360, 360), (1024, 600)])
def test_the_digest_fits_the_screen_without_sideways_scrolling(
    browser: Any, digest_html: str, width: int, container: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.set_content(digest_html)

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.querySelector('.container').offsetWidth") == container
    assert not page.is_visible(".preheader")
    assert page.locator(".title-link", has_text="Fin de la bataille d’Azovstal").is_visible()
    page.close()


def test_the_digest_keeps_readable_colours_when_the_reader_prefers_dark(
    browser: Any, digest_html: str
) -> None:
    page = browser.new_page(color_scheme="dark")
    page.set_content(digest_html)

    colours = page.evaluate(
        """() => [...document.querySelectorAll('.title-link, .lead, .greeting')].map(e => {
            const style = getComputedStyle(e);
            let node = e, bg = 'rgba(0, 0, 0, 0)';
            while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            return [style.color, bg];
        })"""
    )

    assert colours
    # Every text keeps a colour that differs from what is behind it.
    assert all(colour != background for colour, background in colours)
    page.close()
