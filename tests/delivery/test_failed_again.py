"""Failed deliveries sent again by an editor, once their cause is fixed: each such reader
mailed once more, a reader who left since skipped, a cancelled edition left alone."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.delivery import digest_progress, plan_deliveries
from newsletter.delivery.control import NotAllowed, cancel, send_failed_again
from newsletter.models import Digest, DigestStatus, Subscriber, SubscriberStatus, db
from newsletter.models.editor import AuditEntry
from tests.delivery.seed import seed_all
from tests.delivery.test_uncertain import form_token
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

EDITOR = "chef@revue-internationale.example"

FULL = "552 5.2.2 Mailbox full"


@pytest.fixture
def app_overrides(app_overrides: dict[str, Any]) -> dict[str, Any]:
    # Three refusals before a reader is bounced: one full mailbox leaves the reader subscribed.
    return {**app_overrides, "SEND_HARD_BOUNCES": 3}


def send_refusing(smtp_sink: SmtpSink, refused: set[str], count: int = 30) -> Any:
    seeded = seed_all(count)
    smtp_sink.rcpt_policy = lambda address: FULL if address in refused else None
    plan_deliveries(seeded.digest_id)
    return seeded


def test_an_editor_sends_the_failed_ones_again_and_each_of_those_readers_gets_one_letter(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    editor = log_in_editor(client)
    refused = {f"reader{i}@example.org" for i in (3, 11, 17)}
    seeded = send_refusing(smtp_sink, refused)
    assert digest_progress(seeded.digest_id)["failed"] == 3
    smtp_sink.rcpt_policy = None  # the mailboxes were emptied
    page_url = f"/admin/digests/{seeded.digest_id}"
    again_url = f"{page_url}/failed/send-again"

    page = editor.get(page_url).get_data(as_text=True)
    assert "Renvoyer les 3 envois en échec" in page
    forged = editor.post(again_url, data={})
    assert forged.status_code == 400 and digest_progress(seeded.digest_id)["failed"] == 3
    again = editor.post(
        again_url, data={"csrf_token": form_token(page, again_url)}, follow_redirects=True
    )

    assert "3 envoi(s) en échec renvoyé(s)" in again.get_data(as_text=True)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)  # the 27 once, and now the 3 once
    assert digest_progress(seeded.digest_id)["sent"] == 30
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED
    assert "Renvoyer les" not in editor.get(page_url).get_data(as_text=True)
    (entry,) = db.session.execute(db.select(AuditEntry)).scalars()
    assert (entry.action, entry.editor_email) == ("failed_sent_again", EDITOR)
    assert entry.detail == f"édition {seeded.digest_id} : 3 renvoyé(s)"


def test_a_reader_who_left_since_is_not_mailed_when_the_failed_ones_go_again(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    refused = {"reader4@example.org", "reader9@example.org"}
    seeded = send_refusing(smtp_sink, refused)
    smtp_sink.rcpt_policy = None
    gone = db.session.execute(
        db.select(Subscriber).where(Subscriber.email == "reader4@example.org")
    ).scalar_one()
    gone.status = SubscriberStatus.UNSUBSCRIBED
    db.session.commit()

    assert send_failed_again(seeded.digest_id) == 2

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received["reader9@example.org"] == 1
    assert received["reader4@example.org"] == 0
    progress = digest_progress(seeded.digest_id)
    assert (progress["sent"], progress["skipped"], progress["failed"]) == (29, 1, 0)


def test_a_cancelled_edition_sends_nothing_again(app: Flask, smtp_sink: SmtpSink) -> None:
    seeded = seed_all(10)
    cancel(seeded.digest_id)

    with pytest.raises(NotAllowed):
        send_failed_again(seeded.digest_id)
    assert smtp_sink.messages == []
