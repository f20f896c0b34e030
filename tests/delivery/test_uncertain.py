"""Uncertain deliveries, decided by a person: listed, settled from the relay's log, sent again."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import issue_token, save_editor
from newsletter.delivery import digest_progress, plan_deliveries
from newsletter.delivery.control import cancel
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    Subscriber,
    db,
)
from tests.delivery.seed import seed_all
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink


def uncertain() -> dict[str, str]:
    """Address -> Message-ID of each uncertain row."""
    rows = db.session.execute(
        sa.select(Subscriber.email, Delivery.message_id)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.state == DeliveryState.UNCERTAIN)
    ).all()
    db.session.rollback()
    return dict(rows)


def relay_log(sink: SmtpSink, path: Path) -> Path:
    """What Postfix's cleanup logs for each message it accepted."""
    lines = [
        f"Nov 28 10:00:{i % 60:02d} relay postfix/cleanup[4242]: 4F{i:05X}: "
        f"message-id={m.message['Message-ID']}"
        for i, m in enumerate(sink.messages)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_uncertain_rows_are_listed_settled_from_the_relays_log_and_the_rest_sent_once_again(
    app: Flask, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    seeded = seed_all(120)
    # Both lines die after the message was handed over: the 40th was kept, the 80th lost.
    smtp_sink.drop_policy = lambda n: {40: "after", 80: "lost"}.get(n)
    plan_deliveries(seeded.digest_id)
    doubtful = uncertain()
    assert len(doubtful) == 2
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    kept = {e for e in doubtful if received[e] == 1}
    (lost,) = set(doubtful) - kept
    assert received[lost] == 0 and len(received) == 119
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED
    runner = app.test_cli_runner()
    digest = str(seeded.digest_id)

    listed = runner.invoke(args=["digest", "uncertain", digest])
    assert listed.exit_code == 0, listed.output
    assert "2 uncertain deliveries" in listed.output
    for email, mid in doubtful.items():
        assert email in listed.output and mid in listed.output

    log = relay_log(smtp_sink, tmp_path / "mail.log")
    settled = runner.invoke(args=["digest", "uncertain", digest, "--relay-log", str(log)])
    assert settled.exit_code == 0, settled.output
    assert "1 uncertain deliveries were accepted" in settled.output
    assert uncertain() == {lost: doubtful[lost]}
    assert digest_progress(seeded.digest_id)["sent"] == 119

    refused = runner.invoke(args=["digest", "uncertain", digest, "--send-again"], input="n\n")
    assert refused.exit_code == 1  # asked, and told no: nothing changes
    assert uncertain() == {lost: doubtful[lost]}

    again = runner.invoke(args=["digest", "uncertain", digest, "--send-again", "--yes"])
    assert again.exit_code == 0, again.output
    assert "1 deliveries will be sent again" in again.output
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)  # everyone exactly once, the lost one included
    (resent,) = [m for m in smtp_sink.messages if lost in m.rcpt_tos]
    assert resent.message["Message-ID"] == doubtful[lost]
    progress = digest_progress(seeded.digest_id)
    assert progress["sent"] == 120 and progress["uncertain"] == 0
    db.session.expire_all()
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED


def test_a_cancelled_digests_uncertain_rows_are_not_sent_again(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(30)
    smtp_sink.drop_policy = lambda n: "lost" if n == 5 else None
    plan_deliveries(seeded.digest_id)
    assert len(uncertain()) == 1
    db.session.execute(
        sa.update(Digest).where(Digest.id == seeded.digest_id).values(status="sending")
    )
    db.session.commit()
    cancel(seeded.digest_id)
    sent_before = len(smtp_sink.messages)

    again = app.test_cli_runner().invoke(
        args=["digest", "uncertain", str(seeded.digest_id), "--send-again", "--yes"]
    )

    assert again.exit_code == 1
    assert "is cancelled" in again.output
    assert len(uncertain()) == 1 and len(smtp_sink.messages) == sent_before


def test_a_digest_without_uncertain_rows_says_so(app: Flask, smtp_sink: SmtpSink) -> None:
    seeded = seed_all(10)
    plan_deliveries(seeded.digest_id)
    listed = app.test_cli_runner().invoke(args=["digest", "uncertain", str(seeded.digest_id)])
    assert listed.exit_code == 0
    assert "no uncertain deliveries" in listed.output


def test_the_api_lists_settles_and_sends_again_the_uncertain_rows(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    save_editor("editor@example.com", "a long enough password", is_admin=False)
    headers = {"Authorization": f"Bearer {issue_token('editor@example.com', name='tests')}"}
    seeded = seed_all(60)
    smtp_sink.drop_policy = lambda n: {10: "after", 30: "lost"}.get(n)
    plan_deliveries(seeded.digest_id)
    doubtful = uncertain()
    kept_mid = smtp_sink.messages[9].message["Message-ID"]
    base = f"/api/v1/digests/{seeded.digest_id}/uncertain"

    assert client.get(base).status_code == 401
    listed = client.get(base, headers=headers)
    assert listed.status_code == 200
    assert listed.json["count"] == 2
    assert {d["email"]: d["message_id"] for d in listed.json["deliveries"]} == doubtful

    junk = client.post(f"{base}/settle", json={"message_ids": "everything"}, headers=headers)
    assert junk.status_code == 400 and len(uncertain()) == 2
    settled = client.post(f"{base}/settle", json={"message_ids": [kept_mid]}, headers=headers)
    assert settled.status_code == 200
    assert settled.json["settled"] == 1 and settled.json["count"] == 1

    again = client.post(f"{base}/send-again", headers=headers)
    assert again.status_code == 200 and again.json["sent_again"] == 1
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)
    assert client.get("/api/v1/digests/999999/uncertain", headers=headers).status_code == 404


def form_token(html: str, action: str) -> str:
    form = html[html.index(f'action="{action}"') :]
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert found, f"no CSRF token in the form {action}"
    return found.group(1)


def test_an_editor_settles_uncertain_rows_from_pasted_log_lines_and_sends_the_rest_again(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    editor = log_in_editor(client)
    seeded = seed_all(40)
    smtp_sink.drop_policy = lambda n: {10: "after", 20: "lost"}.get(n)
    plan_deliveries(seeded.digest_id)
    doubtful = uncertain()
    kept_mid = smtp_sink.messages[9].message["Message-ID"]
    (lost,) = [e for e, mid in doubtful.items() if mid != kept_mid]
    page_url = f"/admin/digests/{seeded.digest_id}"
    settle_url = f"{page_url}/uncertain/settle"
    again_url = f"{page_url}/uncertain/send-again"

    page = editor.get(page_url).get_data(as_text=True)
    assert "Envois incertains" in page
    assert all(email in page for email in doubtful)
    forged = editor.post(settle_url, data={"log": f"message-id={kept_mid}"})
    assert forged.status_code in {302, 400} and len(uncertain()) == 2

    line = f"Nov 28 10:00:09 relay postfix/cleanup[42]: 4F0009: message-id={kept_mid}"
    settled = editor.post(
        settle_url,
        data={"csrf_token": form_token(page, settle_url), "log": line},
        follow_redirects=True,
    )
    assert "1 envoi(s) incertain(s) confirmé(s)" in settled.get_data(as_text=True)
    assert uncertain() == {lost: doubtful[lost]}

    page = editor.get(page_url).get_data(as_text=True)
    again = editor.post(
        again_url, data={"csrf_token": form_token(page, again_url)}, follow_redirects=True
    )
    shown = again.get_data(as_text=True)
    assert "1 envoi(s) incertain(s) renvoyé(s)" in shown
    assert "Envois incertains" not in shown
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)
