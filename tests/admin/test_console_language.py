"""The console speaks French by default and English to an editor who asks for it: from the
menu's switch (kept in the session), else from the browser's Accept-Language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from newsletter.extensions import CONSOLE_LANGUAGE_KEY
from newsletter.models import Article, Feed, Region, db
from tests.delivery.seed import seed_digest
from tests.support.roles import ADMIN, PASSWORD, logged_in, page_token


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return logged_in(app, ADMIN, admin=True)


@pytest.fixture
def seeded(app: Flask) -> dict[str, int]:
    feed = Feed(url="https://feeds.revue-internationale.example/afrique/", title="Afrique")
    db.session.add(feed)
    db.session.commit()
    region = db.session.execute(db.select(Region).where(Region.slug == "afrique")).scalar_one()
    article = Article(
        guid="guid-language",
        url="https://www.revue-internationale.example/language/",
        title="Un article",
        published_at=datetime(2026, 12, 1, 13, 5, tzinfo=UTC),
        regions=[region],
        feed_id=feed.id,
    )
    db.session.add(article)
    db.session.commit()
    return {"digest": seed_digest("special-2026-12-01-language"), "article": article.id}


def send_form(client: FlaskClient, path: str, **fields: str) -> TestResponse:
    """A console form posted with the CSRF token the login page hands out."""
    return client.post(path, data={**fields, "csrf_token": page_token(client, "/admin/login")})


def choose(client: FlaskClient, language: str, back_to: str = "/admin/") -> None:
    response = send_form(client, "/admin/language", language=language, next=back_to)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(back_to)


def text_of(client: FlaskClient, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def lang_of(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', page)
    assert found
    return found.group(1)


# Per page: English words an editor reads there, and French words of the same page that must be
# gone once English is chosen.
ENGLISH_PAGES = {
    "/admin/": (
        ["Dashboard", "Readers per week", "Latest editions", "No feed in error."],
        ["Tableau de bord", "Lecteurs par semaine", "Dernières éditions"],
    ),
    "/admin/digests": (
        ["Editions", "Start a special edition", "Special edition of December 1, 2026"],
        ["Éditions", "Lancer une édition spéciale", "Édition spéciale du"],
    ),
    "/admin/digests/{digest}": (
        ["Progress", "Letters processed", "Report", "No failure.", "Sending started"],
        ["Progression", "Lettres traitées", "Rapport", "Aucun échec."],
    ),
    "/admin/articles": (
        ["Title containing", "1 article", "Import a page", "Recent imports"],
        ["Titre contenant", "Importer une page", "Imports récents"],
    ),
    "/admin/articles/{article}": (
        ["Published on", "Back to the articles", "Dec 1, 2026, 2:05"],
        ["Publié le", "Retour aux articles", "déc."],
    ),
    "/admin/feeds": (
        ["Feeds", "Add a feed", "Poll now", "Last poll"],
        ["Ajouter un flux", "Relever maintenant", "Dernier relevé"],
    ),
    "/admin/readers": (
        ["Readers", "Address containing", "Export as CSV", "No reader matches."],
        ["Lecteurs", "Adresse contenant", "Exporter en CSV", "Aucun lecteur ne correspond."],
    ),
    "/admin/accounts": (
        ["Editors' accounts", "Create an account", "Administrator", "Last login"],
        ["Comptes des éditeurs", "Créer un compte", "Administrateur", "Dernière connexion"],
    ),
}


def test_an_editor_who_chooses_english_reads_every_console_page_in_english(
    admin: FlaskClient, seeded: dict[str, int]
) -> None:
    choose(admin, "en")

    for path, (english, french) in ENGLISH_PAGES.items():
        page = text_of(admin, path.format(**seeded))
        assert lang_of(page) == "en", path
        for words in english:
            assert words in page, (path, words)
        for words in french:
            assert words not in page, (path, words)


def test_the_console_is_in_french_by_default(admin: FlaskClient, seeded: dict[str, int]) -> None:
    page = text_of(admin, "/admin/")

    assert lang_of(page) == "fr"
    assert "Tableau de bord" in page
    assert "Dashboard" not in page
    edition = text_of(admin, f"/admin/digests/{seeded['digest']}")
    assert "Édition spéciale du 1ᵉʳ décembre 2026" in edition


def test_a_browser_asking_for_english_gets_english_before_any_choice(admin: FlaskClient) -> None:
    page = text_of(admin, "/admin/", **{"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})

    assert lang_of(page) == "en"
    assert "Dashboard" in page


def test_the_choice_outlives_page_loads_and_beats_the_browser(admin: FlaskClient) -> None:
    choose(admin, "en")
    for _ in range(2):
        assert "Dashboard" in text_of(admin, "/admin/")
        assert "Articles without a region" in text_of(admin, "/admin/articles")

    choose(admin, "fr")
    page = text_of(admin, "/admin/", **{"Accept-Language": "en"})
    assert lang_of(page) == "fr"
    assert "Tableau de bord" in page


def test_the_reader_side_keeps_its_own_language(admin: FlaskClient) -> None:
    choose(admin, "en")

    page = text_of(admin, "/")
    assert lang_of(page) == "fr"


def log_in_in_english(app: Flask, password: str) -> tuple[FlaskClient, TestResponse]:
    """An admin's browser chooses English on the login page, then sends the login form."""
    client = app.test_client()
    logged_in(app, ADMIN, admin=True)
    choose(client, "en", back_to="/admin/login")
    return client, send_form(client, "/admin/login", email=ADMIN, password=password)


def test_a_wrong_login_is_told_in_the_chosen_language(app: Flask) -> None:
    _, response = log_in_in_english(app, PASSWORD + "-wrong")

    page = response.get_data(as_text=True)
    assert "Unknown address or wrong password." in page
    assert "Adresse inconnue" not in page
    assert "Sign in" in page


def test_the_choice_survives_the_login(app: Flask) -> None:
    client, response = log_in_in_english(app, PASSWORD)

    assert response.status_code == 302
    assert "Dashboard" in text_of(client, "/admin/")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_and_head_of_the_switch_change_nothing(admin: FlaskClient, method: str) -> None:
    response = admin.open("/admin/language?language=en", method=method)

    assert response.status_code == 405
    with admin.session_transaction() as session:
        assert CONSOLE_LANGUAGE_KEY not in session
    assert "Tableau de bord" in text_of(admin, "/admin/")


def test_the_switch_refuses_an_unknown_language_or_a_missing_token(admin: FlaskClient) -> None:
    token = page_token(admin, "/admin/")

    assert (
        admin.post("/admin/language", data={"language": "de", "csrf_token": token}).status_code
        == 400
    )
    assert admin.post("/admin/language", data={"language": "en"}).status_code == 400
    assert "Tableau de bord" in text_of(admin, "/admin/")


def test_the_switch_goes_back_only_to_a_page_of_this_site(admin: FlaskClient) -> None:
    response = admin.post(
        "/admin/language",
        data={
            "language": "en",
            "next": "//evil.example/",
            "csrf_token": page_token(admin, "/admin/"),
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
