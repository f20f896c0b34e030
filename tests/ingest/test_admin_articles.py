"""The editors' articles page: import a page, give regions to flagged articles, see feed errors."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.admin.accounts import save_editor
from newsletter.ingest.feeds import ingest_file
from newsletter.ingest.polling import add_feed, poll_feed
from newsletter.models import Article, Feed, ImportState, PageImport, db
from tests.ingest.conftest import FIXTURES, LOCAL_FETCHES
from tests.ingest.feedserver import FeedServer, Reply

PAGE = FIXTURES / "article-page.html"
ATOM = FIXTURES / "revue-internationale-atom.xml"
URL = "https://www.revue-internationale.example/2021/12/pourparlers-russo-americains-en-janvier/"
TITLE = "Pourparlers russo-américains en janvier"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Every test logs in: the login rate limit is not what these tests are about.
    return {**LOCAL_FETCHES, "RATELIMIT_ENABLED": False, "FEED_MAX_BYTES": 100_000}


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


def _import(editor: FlaskClient, data: dict[str, Any]) -> str:
    """Post the import form; the answer is at once a 303 to the import's own page."""
    response = editor.post(
        "/admin/articles/import",
        data={"csrf_token": _token(_page(editor)), **data},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert re.fullmatch(r"/admin/articles/imports/\d+", response.headers["Location"])
    return response.headers["Location"]


def test_an_editor_imports_a_page_by_uploading_it(editor: FlaskClient) -> None:
    status = _import(editor, {"url": "", "page": (io.BytesIO(PAGE.read_bytes()), "a.html")})

    shown = editor.get(status).get_data(as_text=True)
    assert "Article importé :" in shown
    assert f'<a href="{URL}" rel="noopener noreferrer">{TITLE}</a>' in shown
    assert "Régions : Russie, Amériques" in shown
    assert "Fichier : a.html" in shown
    article = db.session.execute(db.select(Article)).scalar_one()
    assert [r.slug for r in article.regions] == ["russie", "ameriques"]
    # The upload was only kept for the worker.
    db.session.expire_all()
    assert db.session.execute(db.select(PageImport.content)).scalar_one() is None


def test_an_editor_imports_a_page_by_its_address(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/page/"] = Reply(
        body=PAGE.read_bytes(), headers={"Content-Type": "text/html"}
    )

    status = _import(editor, {"url": feed_server.url("/page/")})

    shown = editor.get(status).get_data(as_text=True)
    assert shown.count(f"{TITLE}</a>") == 1 and "Article importé :" in shown
    articles = _page(editor)
    assert "Imports récents" in articles and f'href="{status}"' in articles
    assert "importé</td>" in articles.replace("\n", "").replace("  ", "")


def test_importing_the_same_page_again_says_it_is_already_up_to_date(
    editor: FlaskClient,
) -> None:
    upload = {"url": "", "page": (io.BytesIO(PAGE.read_bytes()), "a.html")}
    _import(editor, upload)

    again = _import(editor, {"url": "", "page": (io.BytesIO(PAGE.read_bytes()), "a.html")})

    assert "Article déjà à jour :" in editor.get(again).get_data(as_text=True)
    assert len(db.session.execute(db.select(Article)).scalars().all()) == 1


def test_an_import_that_fails_says_why(editor: FlaskClient, feed_server: FeedServer) -> None:
    status = _import(editor, {"url": feed_server.url("/missing/")})

    shown = editor.get(status).get_data(as_text=True)
    assert "Import impossible : récupération de" in shown and "HTTP 404 Not Found" in shown
    assert db.session.execute(db.select(Article)).first() is None
    assert "échec" in _page(editor)


def test_a_queued_import_shows_it_is_waiting_and_reading_its_page_changes_nothing(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/page/"] = Reply(body=PAGE.read_bytes())
    # Queued, its task not yet taken by a worker.
    row = PageImport(source=feed_server.url("/page/"))
    db.session.add(row)
    db.session.commit()
    status = f"/admin/articles/imports/{row.id}"

    first = editor.get(status)
    second = editor.get(status)

    assert first.status_code == second.status_code == 200
    assert "Import en attente" in first.get_data(as_text=True)
    assert "Adresse : " + feed_server.url("/page/") in first.get_data(as_text=True)
    assert feed_server.requests == []
    db.session.expire_all()
    assert db.session.get(PageImport, row.id).state is ImportState.QUEUED
    assert db.session.execute(db.select(Article)).first() is None


def test_an_unknown_import_is_a_404(editor: FlaskClient) -> None:
    assert editor.get("/admin/articles/imports/999").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": ""}, "donnez l’adresse de la page ou un fichier HTML enregistré"),
        ({"url": "ftp://example.com/page.html"}, "Adresse de la page : "),
        ({"url": "pas une adresse"}, "Adresse de la page : "),
        ({"page": (b"<p>" * 40_000, "big.html")}, "le fichier dépasse 100000 octets"),
    ],
)
def test_an_import_that_cannot_be_queued_is_refused_on_the_articles_page(
    editor: FlaskClient, data: dict[str, Any], message: str
) -> None:
    # A file is given as (bytes, name): a fresh stream for each run of the test.
    fields = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
    response = editor.post(
        "/admin/articles/import",
        data={"csrf_token": _token(_page(editor)), **fields},
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert response.request.path == "/admin/articles"
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.execute(db.select(PageImport)).first() is None


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
