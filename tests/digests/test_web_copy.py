"""The web copy of a digest ("Voir dans le navigateur"), as the reader who clicks it sees it.

A reader's email links to a copy with the reader's own "Choisir mes régions" and "Se
désinscrire"; a copy that names no reader (an editor's test email, a link from before) says
where those links are instead. No copy links to itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.digests.editions import create_special
from newsletter.digests.links import view_url
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.subscriptions import preferences
from newsletter.subscriptions.service import Provenance
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.smtp import SmtpSink

HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


def links_by_label(html: str) -> dict[str, str]:
    """Each link's text -> its target, as a reader reads the page."""
    found = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', html)
    return {text.strip(): href.replace("&amp;", "&") for href, text in found}


def path(app: Flask, url: str) -> str:
    assert url.startswith(app.config["BASE_URL"]), url
    return url.removeprefix(app.config["BASE_URL"])


def emailed_links(smtp_sink: SmtpSink, reader: Subscriber) -> dict[str, str]:
    [received] = smtp_sink.to(reader.email)
    return links_by_label(received.message.get_body(("html",)).get_content())


@pytest.fixture
def sent_to(
    app: Flask, sample_articles: None, make_reader: Callable[..., Subscriber]
) -> Callable[..., Subscriber]:
    """A reader of these regions, and a special edition sent to them (and to them only)."""

    def send(*slugs: str, **reader: Any) -> Subscriber:
        subscriber = make_reader(*slugs, **reader)
        create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
        return subscriber

    return send


def test_the_readers_web_copy_leads_to_their_own_preferences_and_unsubscribe_pages(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, sent_to: Callable[..., Subscriber]
) -> None:
    reader = sent_to("afrique", name="Awa")
    email = emailed_links(smtp_sink, reader)

    copy = client.get(path(app, email["Voir dans le navigateur"]))

    assert copy.status_code == 200
    html = copy.get_data(as_text=True)
    assert "Le Mali quitte le G5 Sahel" in html
    shown = links_by_label(html)
    # The very links of the reader's email: same reader, same moment (an old email's
    # preferences link expires in the copy as in the email, and offers a new one by mail).
    assert shown["Choisir mes régions"] == email["Choisir mes régions"]
    assert shown["Se désinscrire"] == email["Se désinscrire"]
    assert "Voir dans le navigateur" not in html
    preferences_page = client.get(path(app, shown["Choisir mes régions"]))
    assert preferences_page.status_code == 200
    assert reader.email in preferences_page.get_data(as_text=True)
    unsubscribe_page = client.get(path(app, shown["Se désinscrire"]))
    assert "Me désinscrire" in unsubscribe_page.get_data(as_text=True)


def test_unsubscribing_from_the_web_copy_unsubscribes_the_reader_whose_copy_it_is(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, sent_to: Callable[..., Subscriber]
) -> None:
    reader = sent_to("russie")
    copy = client.get(path(app, emailed_links(smtp_sink, reader)["Voir dans le navigateur"]))
    unsubscribe = links_by_label(copy.get_data(as_text=True))["Se désinscrire"]

    client.post(path(app, unsubscribe))

    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).status == SubscriberStatus.UNSUBSCRIBED


def test_a_copy_that_names_no_reader_tells_where_the_readers_links_are(
    app: Flask, client: FlaskClient, sample_articles: None
) -> None:
    digest = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest

    copy = client.get(path(app, view_url(digest.id, ("afrique",), "fr")))

    assert copy.status_code == 200
    html = copy.get_data(as_text=True)
    assert "Le Mali quitte le G5 Sahel" in html
    assert "suivez les liens en bas de l’email" in html
    shown = links_by_label(html)
    assert shown["S’abonner à la lettre"] == f"{app.config['BASE_URL']}/"
    assert "Choisir mes régions" not in shown and "Se désinscrire" not in shown
    assert "Voir dans le navigateur" not in html
    assert not any("/unsubscribe/" in href or "/manage/" in href for href in HREF.findall(html))


def test_an_english_readers_copy_speaks_english(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, sent_to: Callable[..., Subscriber]
) -> None:
    reader = sent_to("afrique", language="en")
    email = emailed_links(smtp_sink, reader)

    html = client.get(path(app, email["View in your browser"])).get_data(as_text=True)

    shown = links_by_label(html)
    assert shown["Choose my regions"] == email["Choose my regions"]
    assert shown["Unsubscribe"] == email["Unsubscribe"]
    assert "View in your browser" not in html


def test_the_copy_of_an_erased_reader_shows_no_one_s_links(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, sent_to: Callable[..., Subscriber]
) -> None:
    reader = sent_to("afrique")
    link = emailed_links(smtp_sink, reader)["Voir dans le navigateur"]
    preferences.erase(reader, Provenance(source="web"))

    copy = client.get(path(app, link))

    assert copy.status_code == 200
    shown = links_by_label(copy.get_data(as_text=True))
    assert "Se désinscrire" not in shown and "S’abonner à la lettre" in shown


def test_a_copy_naming_a_forged_reader_is_not_found(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, sent_to: Callable[..., Subscriber]
) -> None:
    reader = sent_to("afrique")
    link = path(app, emailed_links(smtp_sink, reader)["Voir dans le navigateur"])
    # The signature's first character changed (to another one, whatever it was).
    forged = re.sub(
        r"(reader=[^.]+\.[^.]+\.)([\w-])", lambda m: m[1] + ("B" if m[2] == "A" else "A"), link
    )
    assert forged != link

    assert client.get(forged).status_code == 404
    assert client.get(link.split("?")[0] + "?reader=nonsense").status_code == 404
