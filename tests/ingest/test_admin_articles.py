"""The editors' articles page: import a page, give regions to flagged articles, see feed errors."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.admin.accounts import save_editor
from newsletter.ingest.feeds import ingest_file
from newsletter.ingest.polling import add_feed, poll_feed
from newsletter.models import Article, Feed, db
from tests.ingest.conftest import FIXTURES, LOCAL_FETCHES
from tests.ingest.feedserver import FeedServer, Reply

PAGE = FIXTURES / "article-page.html"
ATOM = FIXTURES / "revue-internationale-atom.xml"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Every test logs in: the login rate limit is not what these tests are about.
    return {**LOCAL_FETCHES, "RATELIMIT_ENABLED": False}


@pytest.fixture
def editor(app: Flask, client: FlaskClient) -> FlaskClient:
    save_editor("chef@example.com", "correct-horse")
    token = _token(client.get("/admin/login").get_data(as_text=True))
    client.post(
        "/admin/login",
        data={"email": "chef@example.com", "password": "correct-horse", "csrf_token": token},
    )
    return client


def _page(client: FlaskClient) -> str:
    # The `app` fixture holds one app context for the whole test, so `g` outlives a request:
    # drop the CSRF token cached there before login, or the page would reuse it.
    g.pop("csrf_token", None)
    response = client.get("/admin/articles")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_articles_page_is_for_logged_in_editors(client: FlaskClient) -> None:
    response = client.get("/admin/articles")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_an_editor_imports_a_page_by_uploading_it(editor: FlaskClient) -> None:
    token = _token(_page(editor))

    response = editor.post(
        "/admin/articles/import",
        data={"csrf_token": token, "url": "", "page": (io.BytesIO(PAGE.read_bytes()), "a.html")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert "Article importé : Pourparlers russo-américains en janvier." in response.get_data(
        as_text=True
    )
    article = db.session.execute(db.select(Article)).scalar_one()
    assert [r.slug for r in article.regions] == ["russie", "ameriques"]


def test_an_editor_imports_a_page_by_its_address(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/page/"] = Reply(
        body=PAGE.read_bytes(), headers={"Content-Type": "text/html"}
    )
    token = _token(_page(editor))

    page = editor.post(
        "/admin/articles/import",
        data={"csrf_token": token, "url": feed_server.url("/page/")},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert page.count("Article importé : Pourparlers russo-américains en janvier.") == 1


def test_an_import_that_fails_says_why(editor: FlaskClient, feed_server: FeedServer) -> None:
    token = _token(_page(editor))

    page = editor.post(
        "/admin/articles/import",
        data={"csrf_token": token, "url": feed_server.url("/missing/")},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "Import impossible : could not fetch" in page and "HTTP 404" in page


def test_an_editor_gives_regions_to_an_article_that_had_none(editor: FlaskClient) -> None:
    ingest_file(ATOM)
    page = _page(editor)
    assert "Articles sans région (1)" in page and "Une brève sans date" in page
    brief = db.session.execute(
        db.select(Article).where(Article.title == "Une brève sans date")
    ).scalar_one()

    response = editor.post(
        f"/admin/articles/{brief.id}/regions",
        data={"csrf_token": _token(page), "regions": ["afrique", "asie"]},
        follow_redirects=True,
    )

    shown = response.get_data(as_text=True)
    assert "Régions de « Une brève sans date » : Asie, Afrique." in shown
    assert "Articles sans région (0)" in shown
    db.session.expire_all()
    assert [r.slug for r in db.session.get(Article, brief.id).regions] == ["asie", "afrique"]
    # The feed still names no region: polling it again keeps the editor's choice.
    ingest_file(ATOM)
    db.session.expire_all()
    assert [r.slug for r in db.session.get(Article, brief.id).regions] == ["asie", "afrique"]


def test_giving_no_region_or_an_unknown_one_is_refused(editor: FlaskClient) -> None:
    ingest_file(ATOM)
    page = _page(editor)
    brief = db.session.execute(
        db.select(Article).where(Article.title == "Une brève sans date")
    ).scalar_one()

    none = editor.post(
        f"/admin/articles/{brief.id}/regions",
        data={"csrf_token": _token(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    unknown = editor.post(
        f"/admin/articles/{brief.id}/regions",
        data={"csrf_token": _token(page), "regions": ["mars"]},
        follow_redirects=True,
    ).get_data(as_text=True)
    no_csrf = editor.post(f"/admin/articles/{brief.id}/regions", data={"regions": ["asie"]})

    assert "Choisissez une région." in none
    # WTForms words the refusal in the request's language; the flash names the field and value.
    assert re.search(r'class="flash flash-error">Régions : [^<]*mars', unknown)
    assert no_csrf.status_code == 400
    db.session.expire_all()
    assert db.session.get(Article, brief.id).needs_region


def test_editors_see_each_feeds_last_error_and_add_feeds(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    broken, _ = add_feed(feed_server.url("/broken/"))
    poll_feed(broken.id)
    token = _token(_page(editor))

    page = editor.post(
        "/admin/feeds",
        data={"csrf_token": token, "url": "https://www.revue-internationale.example/feed/"},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "HTTP 404 Not Found" in page
    assert "Flux ajouté : https://www.revue-internationale.example/feed/" in page
    assert len(db.session.execute(db.select(Feed)).scalars().all()) == 2
