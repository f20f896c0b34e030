"""Why readers leave: the optional question after an unsubscribe, counted once per leaver, by
month and reason, with no one's identity; the preference centre offers other regions first."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter.models import (
    LeaveComment,
    LeaveReason,
    LeaveReasonCount,
    Subscriber,
    SubscriberStatus,
    db,
)
from newsletter.subscriptions import leaving, tokens
from tests.subscriptions.conftest import csrf_token, link_in, page_text, submit
from tests.support.smtp import SmtpSink

LEAVE_TABLES = {"leave_reason_counts", "leave_comments"}


def local(url: str) -> str:
    return url.removeprefix("http://newsletter.test")


def confirmed_reader(client: FlaskClient, smtp_sink: SmtpSink, **fields: Any) -> Subscriber:
    submit(client, **fields)
    email = fields.get("email", "lea@example.org")
    confirm = local(link_in(smtp_sink.wait_for(email)[0], "/confirm"))
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    db.session.remove()
    return db.session.execute(db.select(Subscriber).where(Subscriber.email == email)).scalar_one()


def unsubscribe_url(reader: Subscriber) -> str:
    return local(tokens.reader_links(reader.id).unsubscribe_url)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"(?: type="hidden")? value="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


def the_question(client: FlaskClient, smtp_sink: SmtpSink, **fields: Any) -> dict[str, str]:
    """Unsubscribe from the page; the question's action, CSRF token and survey token."""
    reader = confirmed_reader(client, smtp_sink, **fields)
    page = client.post(unsubscribe_url(reader)).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" class="leave-question"', page)
    assert action, page
    return {
        "action": action.group(1).replace("&amp;", "&"),
        "csrf_token": hidden(page, "csrf_token"),
        "survey": hidden(page, "survey"),
    }


def answer(client: FlaskClient, question: dict[str, str], **fields: Any) -> Any:
    data = {"csrf_token": question["csrf_token"], "survey": question["survey"], **fields}
    return client.post(question["action"], data=data)


def this_month() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date().replace(day=1)


def counts() -> dict[tuple[date, LeaveReason], int]:
    db.session.remove()
    rows = db.session.execute(db.select(LeaveReasonCount)).scalars()
    return {(row.month, row.reason): row.count for row in rows}


def comments() -> list[tuple[date, LeaveReason, str]]:
    db.session.remove()
    rows = db.session.execute(db.select(LeaveComment).order_by(LeaveComment.id)).scalars()
    return [(row.month, row.reason, row.comment) for row in rows]


def every_other_table() -> dict[str, list[tuple[Any, ...]]]:
    db.session.remove()
    with db.engine.connect() as connection:
        return {
            table.name: sorted((tuple(r) for r in connection.execute(sa.select(table))), key=repr)
            for table in db.metadata.sorted_tables
            if table.name not in LEAVE_TABLES
        }


def signed_long_ago(monkeypatch: pytest.MonkeyPatch, seconds: int, make: Any) -> Any:
    """What `make()` signs, as if signed `seconds` ago."""
    then = int(time.time()) - seconds
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: then)
        return make()


# --- the question --------------------------------------------------------------------------


def test_unsubscribing_from_the_page_asks_why_and_counts_the_answer_by_month_and_reason_only(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    question = the_question(client, smtp_sink)
    reader = db.session.execute(db.select(Subscriber)).scalar_one()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED  # before any answer
    before = every_other_table()

    response = answer(
        client, question, reason="not-my-regions", comment="  Trop d'Asie pour moi.\r\n "
    )

    assert response.status_code == 200
    assert "Merci" in page_text(response)
    assert counts() == {(this_month(), LeaveReason.NOT_MY_REGIONS): 1}
    assert comments() == [(this_month(), LeaveReason.NOT_MY_REGIONS, "Trop d'Asie pour moi.")]
    assert every_other_table() == before  # nothing else written, the reader untouched


def test_the_question_page_says_unsubscribed_and_offers_four_reasons_a_comment_and_no_thanks(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = confirmed_reader(client, smtp_sink)
    page = client.post(unsubscribe_url(reader))
    text = page_text(page)
    assert page.status_code == 200
    assert "Vous êtes désinscrit" in text
    assert "Pourquoi partez-vous ?" in text
    values = re.findall(r'type="radio" name="reason" value="([^"]+)"', text)
    assert values == [reason.value for reason in LeaveReason]
    assert 'maxlength="1000"' in text
    assert "Non merci" in text
    assert " required" not in text  # answering is never required


def test_a_second_answer_with_the_same_token_counts_nothing(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    question = the_question(client, smtp_sink)
    first = answer(client, question, reason="too-many", comment="Une par mois suffirait")
    again = [answer(client, question, reason="too-many", comment="encore") for _ in range(3)]
    assert first.status_code == 200
    assert {r.status_code for r in again} == {409}
    assert "Votre réponse a déjà été reçue" in page_text(again[0])
    assert counts() == {(this_month(), LeaveReason.TOO_MANY): 1}
    assert [c[2] for c in comments()] == ["Une par mois suffirait"]


def test_forged_foreign_and_expired_tokens_count_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = the_question(client, smtp_sink)
    reader = db.session.execute(db.select(Subscriber)).scalar_one()
    other_key = URLSafeTimedSerializer("another-secret", salt=leaving.SURVEY_SALT)
    forged = {
        "damaged": question["survey"][:-2] + "xx",
        "another key": other_key.dumps({"lid": "ri", "id": "abc"}),
        "an unsubscribe link": tokens.sign(tokens.Purpose.UNSUBSCRIBE, reader.id),
        "missing": "",
    }
    for name, token in forged.items():
        response = answer(client, {**question, "survey": token}, reason="other")
        assert response.status_code == 400, name
        assert "Ce lien n'est pas valide" in page_text(response), name
    expired = signed_long_ago(monkeypatch, leaving.SURVEY_MAX_AGE + 60, leaving.mint_survey)
    late = answer(client, {**question, "survey": expired}, reason="other")
    assert late.status_code == 410
    assert counts() == {}
    assert comments() == []
    assert answer(client, question, reason="other").status_code == 200  # the real one still counts
    assert counts() == {(this_month(), LeaveReason.OTHER): 1}


def test_the_answer_needs_its_csrf_token(client: FlaskClient, smtp_sink: SmtpSink) -> None:
    question = the_question(client, smtp_sink)
    response = answer(client, {**question, "csrf_token": "nope"}, reason="too-many")
    assert response.status_code == 400
    assert counts() == {}
    assert answer(client, question, reason="too-many").status_code == 200


def test_malformed_answers_are_refused_without_using_the_token(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    question = the_question(client, smtp_sink)
    refused = {
        "unknown reason": {"reason": "bored"},
        "NUL": {"reason": "other", "comment": "a\x00b"},
        "escape": {"reason": "other", "comment": "a\x1b[31mb"},
        "too long": {"reason": "other", "comment": "é" * 1001},
    }
    for name, fields in refused.items():
        response = answer(client, question, **fields)
        assert response.status_code == 400, name
        assert 'role="alert"' in response.get_data(as_text=True), name
    long_one = answer(client, question, reason="other", comment="é" * 1000)
    assert long_one.status_code == 200
    assert counts() == {(this_month(), LeaveReason.OTHER): 1}
    assert comments() == [(this_month(), LeaveReason.OTHER, "é" * 1000)]


def test_a_comment_without_a_reason_counts_as_another_reason_and_nothing_counts_nothing(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    question = the_question(client, smtp_sink)
    empty = answer(client, question, comment="   ")
    assert empty.status_code == 200
    assert counts() == {}
    written = answer(client, question, comment="Je pars à l'étranger")
    assert written.status_code == 200
    assert counts() == {(this_month(), LeaveReason.OTHER): 1}
    assert [c[1] for c in comments()] == [LeaveReason.OTHER]


def test_one_click_unsubscribes_and_readers_already_out_are_not_asked(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = confirmed_reader(client, smtp_sink)
    url = unsubscribe_url(reader)
    mail_client = app.test_client()
    one_click = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert "Vous êtes désinscrit" in page_text(one_click)
    assert 'name="survey"' not in one_click.get_data(as_text=True)
    again = client.post(url)
    assert "Vous êtes désinscrit" in page_text(again)
    assert 'name="survey"' not in again.get_data(as_text=True)


def test_the_question_speaks_the_readers_language(client: FlaskClient, smtp_sink: SmtpSink) -> None:
    question = the_question(client, smtp_sink, language="en")
    assert "lang=en" in question["action"]
    thanks = answer(client, question, reason="not-interesting")
    assert "Thank you" in page_text(thanks)


def test_the_month_counted_is_the_unsubscribes_on_the_newsrooms_clock(app: Flask) -> None:
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris.
    assert leaving.month_of(datetime(2027, 1, 31, 23, 30, tzinfo=UTC)) == date(2027, 2, 1)


# --- change my regions instead -------------------------------------------------------------


def test_the_preference_centre_offers_changing_regions_before_and_above_unsubscribing(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = confirmed_reader(client, smtp_sink)
    page = page_text(client.get(local(tokens.reader_links(reader.id).manage_url)))
    change, leave = page.index("Changer mes régions"), page.index("Me désinscrire")
    assert change < leave
    save = re.search(r"<button[^>]*>Enregistrer mes préférences</button>", page)
    unsubscribe = re.search(r"<button[^>]*>Me désinscrire</button>", page)
    assert save and 'class="secondary"' not in save.group(0)
    assert unsubscribe and 'class="secondary"' in unsubscribe.group(0)


def test_the_unsubscribe_page_offers_to_change_regions_with_the_emails_own_manage_link(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = confirmed_reader(client, smtp_sink)
    page = page_text(client.get(unsubscribe_url(reader)))
    link = re.search(r'<a class="button" href="([^"]+)">Changer mes régions</a>', page)
    assert link, page
    assert page.index("Changer mes régions") < page.index("Me désinscrire")
    manage = client.get(link.group(1))
    assert manage.status_code == 200
    assert 'name="regions"' in manage.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(Subscriber, reader.id).status == SubscriberStatus.CONFIRMED


def test_an_old_emails_unsubscribe_page_opens_no_fresher_manage_link_than_its_own(
    client: FlaskClient, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = confirmed_reader(client, smtp_sink)
    three_months_old = signed_long_ago(
        monkeypatch, 90 * 86400, lambda: tokens.sign(tokens.Purpose.UNSUBSCRIBE, reader.id)
    )
    page = page_text(client.get(f"/unsubscribe/{three_months_old}"))
    link = re.search(r'<a class="button" href="([^"]+)">Changer mes régions</a>', page)
    assert link
    expired = client.get(link.group(1))
    assert expired.status_code == 410  # the email's manage link has expired: a new one by email
    assert "M'envoyer un nouveau lien" in page_text(expired)

    two_days = signed_long_ago(
        monkeypatch, 2 * 86400, lambda: tokens.sign(tokens.Purpose.MANAGE, reader.id)
    )
    manage = page_text(client.get(f"/manage/{two_days}"))
    unsubscribe = re.search(r'<form method="post" action="(/unsubscribe/[^"]+)"', manage)
    assert unsubscribe
    back = page_text(client.get(unsubscribe.group(1)))
    again = re.search(r'<a class="button" href="([^"]+)">Changer mes régions</a>', back)
    assert again and again.group(1) == f"/manage/{two_days}"
    assert "data.json" not in page_text(client.get(again.group(1)))  # no export on a 2-day link
