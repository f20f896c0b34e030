"""Stored XSS: an article title and a reader's name written as markup come out as text on every
console page an admin can reach, in the digest preview (page and frame) and in the export.

The walk follows every /admin link of every page reached, so a page added later is checked
without being listed here.
"""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import urldefrag, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Article, Subscriber, db
from tests.delivery.seed import seed_articles, seed_digest, seed_readers
from tests.support.roles import ADMIN, logged_in

HOSTILE = '"><img src=x onerror=alert(1)>'
# As text, whoever escaped it (Jinja writes &#34; for the quote, the inliner leaves it bare).
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
MOST_PAGES = 120
NOT_PAGES = ("/logout",)


def plant_markup() -> tuple[Article, Subscriber]:
    seed_articles()
    (email,) = seed_readers(1)
    article = db.session.execute(db.select(Article).order_by(Article.id)).scalars().first()
    reader = db.session.execute(db.select(Subscriber).where(Subscriber.email == email)).scalar_one()
    assert article is not None
    article.title = f"Sommet {HOSTILE}"
    reader.name = f"Camille {HOSTILE}"
    db.session.commit()
    return article, reader


def links_of(page: str) -> list[str]:
    found = []
    for href in re.findall(r'(?:href|src)="([^"]+)"', page):
        url = urldefrag(html.unescape(href)).url
        if url.startswith("/admin") and not urlsplit(url).path.endswith(NOT_PAGES):
            found.append(url)
    return found


def walk(admin: FlaskClient, start: list[str]) -> dict[str, str]:
    """Every console page reached from `start` by GET, with its body."""
    pages: dict[str, str] = {}
    to_visit = list(start)
    while to_visit and len(pages) < MOST_PAGES:
        url = to_visit.pop(0)
        if url in pages:
            continue
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            to_visit.extend(link for link in links_of(pages[url]) if link not in pages)
    return pages


def test_markup_in_a_title_or_a_name_shows_as_text_everywhere_in_the_console(
    app: Flask,
) -> None:
    article, reader = plant_markup()
    region = article.regions[0].slug
    digest_id = seed_digest()
    admin = logged_in(app, ADMIN, admin=True)

    pages = walk(
        admin,
        [
            "/admin/",
            f"/admin/articles/{article.id}",
            f"/admin/readers/{reader.id}",
            "/admin/readers?q=Camille",
            f"/admin/digests/preview?digest={digest_id}&regions={region}",
            f"/admin/digests/preview?digest={digest_id}&regions={region}&lang=en",
        ],
    )

    html_pages = {url: body for url, body in pages.items() if not url.endswith(".csv")}
    assert {url for url, body in html_pages.items() if "<img src=x" in body} == set()
    shown = {url for url, body in html_pages.items() if ESCAPED in body}
    # The planted text is on the pages that show it, as text: the articles list and the
    # article's page, the reader's page, and the preview's frame (the email itself).
    assert "/admin/articles" in shown
    assert f"/admin/articles/{article.id}" in shown
    assert f"/admin/readers/{reader.id}" in shown
    assert any("/frame" in url for url in shown), sorted(pages)


def test_the_export_keeps_a_name_written_as_markup_as_plain_text(app: Flask) -> None:
    _, reader = plant_markup()
    admin = logged_in(app, ADMIN, admin=True)

    response = admin.get("/admin/readers/export.csv")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    names = [value for row in rows for value in row.values() if value and "Camille" in value]
    assert names == [f"Camille {HOSTILE}"]
    assert response.mimetype == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
