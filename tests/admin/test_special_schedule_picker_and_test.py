"""The special edition's form: schedule it for a time, pick its top story among the period's
articles (searchable), and mail a test of it before it exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Article, Digest, DigestStatus, db, utcnow
from newsletter.models.editor import AuditEntry
from tests.admin.test_special_form import form
from tests.delivery.seed import WINDOW_END, WINDOW_START, seed_articles
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

EDITOR = "chef@revue-internationale.example"
DAYS = {"since": WINDOW_START.date().isoformat(), "until": WINDOW_END.date().isoformat()}
CHOICES = "/admin/articles/choices.json"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


def paris(hours: float) -> str:
    moment = utcnow().astimezone(ZoneInfo("Europe/Paris")) + timedelta(hours=hours)
    return f"{moment:%Y-%m-%dT%H:%M}"


def article(title: str) -> Article:
    return db.session.execute(db.select(Article).where(Article.title == title)).scalar_one()


def test_an_edition_scheduled_from_the_form_waits_planned_for_its_time(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)

    made = client.post(
        "/admin/digests/special",
        data={**form(client), **DAYS, "when": "at", "send_at": paris(2)},
    )

    assert made.status_code == 302
    digest = db.session.execute(db.select(Digest)).scalar_one()
    assert digest.status is DigestStatus.PLANNED and digest.send_at is not None
    local = digest.send_at.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{local:%Y-%m-%dT%H:%M}" == paris(2)
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("send_at", "shown"),
    [
        ("", "indiquez la date et l’heure de l’envoi."),
        ("past", "cette heure est déjà passée."),
        ("far", "au plus 366 jours à l’avance."),
    ],
)
def test_a_missing_past_or_far_time_is_refused_in_french(
    app: Flask, client: FlaskClient, send_at: str, shown: str
) -> None:
    log_in_editor(client)
    typed = {"": "", "past": paris(-1), "far": paris(24 * 400)}[send_at]

    refused = client.post(
        "/admin/digests/special", data={**form(client), "when": "at", "send_at": typed}
    )

    assert refused.status_code == 400
    assert shown in refused.get_data(as_text=True)
    assert db.session.execute(db.select(Digest)).first() is None


def test_the_top_story_is_chosen_among_the_period_s_articles_listed_by_title(
    app: Flask, client: FlaskClient
) -> None:
    seed_articles(slugs=["asie", "afrique"])
    log_in_editor(client)
    chosen = article("Pourparlers Asie 1")

    page = client.post(
        "/admin/digests/special", data={**form(client), **DAYS, "intro": "x" * 10_001}
    ).get_data(as_text=True)
    made = client.post(
        "/admin/digests/special", data={**form(client), **DAYS, "pinned": str(chosen.id)}
    )

    none = '<option selected value="">— Pas d’article à la une —</option>'
    assert f'id="pinned" name="pinned">{none}' in page
    assert f'<option value="{chosen.id}">Pourparlers Asie 1 — ' in page
    assert "Pourparlers Afrique 0" in page
    assert made.status_code == 302
    assert db.session.execute(db.select(Digest)).scalar_one().pinned_article_id == chosen.id


def test_a_top_story_outside_the_period_is_refused(app: Flask, client: FlaskClient) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)
    outside = {"since": "2020-01-01", "until": "2020-01-31"}

    refused = client.post(
        "/admin/digests/special",
        data={**form(client), **outside, "pinned": str(article("Pourparlers Asie 0").id)},
    )

    assert refused.status_code == 400
    assert "n’a pas été publié dans cette période" in refused.get_data(as_text=True)
    assert db.session.execute(db.select(Digest)).first() is None


def test_the_search_finds_the_period_s_articles_ignoring_accents_and_case(
    app: Flask, client: FlaskClient
) -> None:
    seed_articles(slugs=["asie", "union-europeenne"])
    log_in_editor(client)

    found = client.get(CHOICES, query_string={**DAYS, "q": "pourparlers EUROPEENNE"}).json
    accents = client.get(CHOICES, query_string={**DAYS, "q": "asie 1"}).json
    elsewhere = client.get(
        CHOICES, query_string={"since": "2020-01-01", "until": "2020-01-31", "q": ""}
    ).json

    assert [a["label"].split(" — ")[0] for a in found["articles"]] == [
        "Pourparlers Union européenne 1",
        "Pourparlers Union européenne 0",
    ]
    assert [a["label"].split(" — ")[0] for a in accents["articles"]] == ["Pourparlers Asie 1"]
    assert elsewhere["articles"] == []


def test_the_search_folds_accents_both_ways(app: Flask, client: FlaskClient) -> None:
    seed_articles(slugs=["asie"])
    story = article("Pourparlers Asie 0")
    story.title = "Élections à Séoul"
    db.session.commit()
    log_in_editor(client)

    found = client.get(CHOICES, query_string={**DAYS, "q": "elections SEOUL"}).json

    assert [a["id"] for a in found["articles"]] == [story.id]


def test_the_search_needs_an_editor_and_refuses_bad_days(app: Flask, client: FlaskClient) -> None:
    anonymous = client.get(CHOICES)
    log_in_editor(client)
    bad = client.get(CHOICES, query_string={"since": "31/12/2026"})
    long = client.get(CHOICES, query_string={"q": "x" * 201})

    assert anonymous.status_code in (302, 303, 401)
    assert bad.status_code == 400 and long.status_code == 400


def test_a_test_of_the_edition_not_made_yet_reaches_the_editor_and_the_addresses_typed(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    seed_articles(slugs=["asie", "afrique"])
    log_in_editor(client)
    fields = {
        **form(client),
        **DAYS,
        "regions": ["asie", "afrique"],
        "reader_regions": "afrique",
        "preview_language": "en",
        "test_addresses": "relecture@revue-internationale.example",
    }

    sent = client.post("/admin/digests/special/test", data=fields)

    assert sent.status_code == 200
    assert "Envoi de test vers" in sent.get_data(as_text=True)
    [mine] = smtp_sink.wait_for(EDITOR)
    [theirs] = smtp_sink.wait_for("relecture@revue-internationale.example")
    assert mine.message["Subject"].startswith("[Test]")
    text = mine.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Pourparlers Afrique" in text and "Pourparlers Asie" not in text
    assert db.session.execute(db.select(Digest)).first() is None
    [entry] = db.session.execute(db.select(AuditEntry)).scalars().all()
    assert entry.action == "test_sent" and "relecture@revue-internationale.example" in entry.detail


def test_more_than_five_test_addresses_or_a_wrong_one_sends_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)
    six = "\n".join(f"r{i}@example.org" for i in range(6))

    many = client.post(
        "/admin/digests/special/test", data={**form(client), **DAYS, "test_addresses": six}
    )
    wrong = client.post(
        "/admin/digests/special/test", data={**form(client), **DAYS, "test_addresses": "pas@"}
    )

    assert many.status_code == 400 and "5 adresses au plus" in many.get_data(as_text=True)
    assert wrong.status_code == 400 and "adresse invalide" in wrong.get_data(as_text=True)
    assert smtp_sink.messages == []


def test_the_preview_is_for_the_reader_regions_chosen(app: Flask, client: FlaskClient) -> None:
    seed_articles(slugs=["asie", "afrique"])
    log_in_editor(client)

    frame = client.post(
        "/admin/digests/special/preview",
        data={**form(client), **DAYS, "regions": ["asie", "afrique"], "reader_regions": "asie"},
    ).get_data(as_text=True)

    assert "Pourparlers Asie 0" in frame and "Pourparlers Afrique" not in frame
