"""SMTP faults: 451s are retried, 550s fail and bounce, dropped connections resend nothing twice."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.delivery import digest_progress, halt, plan_deliveries
from newsletter.delivery.bounces import apply_event
from newsletter.delivery.bounces_parse import Event, Kind
from newsletter.delivery.control import resume
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
)
from newsletter.subscriptions.addresses import email_hmac
from tests.conftest import TEST_REDIS_URL, free_port
from tests.delivery.seed import seed_all, seed_digest
from tests.support.smtp import Received, SmtpSink

BOUNCING = "bounce.example"


def domain_of(i: int) -> str:
    return BOUNCING if i % 50 == 7 else "example.org"


def count_drains(app: Flask) -> list[int]:
    calls: list[int] = []
    task = app.extensions["celery"].tasks["delivery.drain"]
    original = task.run

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(1)
        original(*args, **kwargs)

    task.run = counted
    return calls


def test_temporary_refusals_permanent_refusals_and_dropped_connections(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(1200, domain_of=domain_of)
    refused_once: set[str] = set()

    def rcpt_policy(address: str) -> str | None:
        if address.endswith("@" + BOUNCING):
            return "550 5.1.1 Mailbox unavailable"
        if zlib.crc32(address.encode()) % 10 == 0 and address not in refused_once:
            refused_once.add(address)
            return "451 4.3.0 Try again later"
        return None

    smtp_sink.rcpt_policy = rcpt_policy
    smtp_sink.drop_policy = lambda n: "before" if n % 500 == 0 else None
    drains = count_drains(app)

    plan_deliveries(seeded.digest_id)

    bouncing = {e for e in seeded.emails if e.endswith("@" + BOUNCING)}
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(e for e in seeded.emails if e not in bouncing)
    assert len(refused_once) > 50
    progress = digest_progress(seeded.digest_id)
    assert progress["sent"] == 1200 - len(bouncing)
    assert progress["failed"] == len(bouncing) == 24
    assert progress["uncertain"] == 0
    statuses = db.session.execute(
        sa.select(Subscriber.status).where(Subscriber.email.in_(bouncing))
    ).scalars()
    assert set(statuses) == {SubscriberStatus.BOUNCED}
    retried = db.session.execute(
        sa.select(sa.func.count()).select_from(Delivery).where(Delivery.attempts == 2)
    ).scalar_one()
    assert retried >= len(refused_once)
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED
    assert len(drains) <= 2 * app.config["SEND_PARALLEL"]


def test_a_connection_lost_after_the_message_is_uncertain_and_never_sent_again(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(120)
    smtp_sink.drop_policy = lambda n: "after" if n == 40 else None  # counted at RCPT

    plan_deliveries(seeded.digest_id)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert set(received.values()) == {1} and len(received) == 120
    uncertain = (
        db.session.execute(sa.select(Delivery).where(Delivery.state == DeliveryState.UNCERTAIN))
        .scalars()
        .all()
    )
    assert len(uncertain) == 1
    assert smtp_sink.messages[39].message["Message-ID"] == uncertain[0].message_id
    assert digest_progress(seeded.digest_id)["sent"] == 119


def assert_paused_for_the_relay_with_nobody_blamed(digest_id: int, *, pending: int) -> None:
    digest = db.session.get(Digest, digest_id)
    assert digest.status is DigestStatus.PAUSED
    assert "Relay access denied" in (digest.pause_reason or "")
    progress = digest_progress(digest_id)
    assert progress["failed"] == 0 and progress["pending"] == pending
    assert not db.session.execute(
        sa.select(Subscriber).where(Subscriber.status == SubscriberStatus.BOUNCED)
    ).first()


def test_the_relay_refusing_everyone_pauses_the_digest_without_blaming_readers(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(100)
    smtp_sink.rcpt_policy = lambda address: "554 5.7.1 Relay access denied"

    plan_deliveries(seeded.digest_id)

    assert_paused_for_the_relay_with_nobody_blamed(seeded.digest_id, pending=100)


def announce_halt_late(app: Flask, digest_id: int) -> Callable[[], None]:
    """A pause's news on Redis that arrives while the digest is sending: one published before a
    resume and heard after the worker's fresh claim (or another database's digest with this id).
    """
    redis_url = app.config["REDIS_URL"]
    database = db.engine.url.render_as_string(hide_password=True)
    return lambda: halt.announce(redis_url, database, digest_id, halted=True)


needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="halt news travels over Redis")


@needs_redis
def test_late_news_of_a_halt_does_not_stop_a_digest_that_is_sending(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(100)
    late = announce_halt_late(app, seeded.digest_id)
    smtp_sink.on_message = lambda message: late() if len(smtp_sink.messages) == 15 else None

    plan_deliveries(seeded.digest_id)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED


@needs_redis
def test_relay_refusals_before_a_late_halt_still_count_against_the_relay_not_readers(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(100)
    late = announce_halt_late(app, seeded.digest_id)
    refused = 0

    def refuse_everyone(address: str) -> str:
        nonlocal refused
        refused += 1
        if refused == 15:
            late()
        return "554 5.7.1 Relay access denied"

    smtp_sink.rcpt_policy = refuse_everyone

    plan_deliveries(seeded.digest_id)

    assert_paused_for_the_relay_with_nobody_blamed(seeded.digest_id, pending=100)


@pytest.fixture
def auth_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    sink.start(users={"newsletter": "right-password"})
    yield sink
    sink.stop()


def test_a_relay_that_refuses_our_login_pauses_the_digest_and_blames_no_reader(
    app: Flask, auth_sink: SmtpSink
) -> None:
    app.config["SMTP_URL"] = f"smtp://newsletter:wrong-password@127.0.0.1:{auth_sink.port}"
    seeded = seed_all(30)

    plan_deliveries(seeded.digest_id)

    digest = db.session.get(Digest, seeded.digest_id)
    assert digest.status is DigestStatus.PAUSED
    assert "535" in (digest.pause_reason or "")
    assert digest_progress(seeded.digest_id)["pending"] == 30
    assert auth_sink.messages == []

    # Fixed settings, resumed: everyone gets the digest once, over an authenticated session.
    app.config["SMTP_URL"] = f"smtp://newsletter:right-password@127.0.0.1:{auth_sink.port}"
    resume(seeded.digest_id)
    received = Counter(rcpt for m in auth_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_halted_sender_completes_the_message_it_is_writing_and_starts_no_other(
    smtp_sink: SmtpSink, pipelining: bool
) -> None:
    from newsletter.mail.pipelined import Envelope, Result, SmtpConnection
    from newsletter.mail.smtp import SmtpSettings

    smtp_sink.pipelining = pipelining
    halted, seen = False, 0

    def halt_after_the_third(message: Received) -> None:
        nonlocal halted, seen
        seen += 1
        halted = halted or seen >= 3  # the news arrives mid-group, with the third message

    smtp_sink.on_message = halt_after_the_third
    connection = SmtpConnection(SmtpSettings.from_url(smtp_sink.url), mail_from="l@example.org")
    body = b"Subject: digest\r\nFrom: l@example.org\r\n\r\nHello\r\n"
    group = [Envelope(i, f"reader{i}@example.org", body) for i in range(10)]
    outcomes = connection.send_group(group, halted=lambda: halted)
    connection.close()

    results = Counter(o.result for o in outcomes)
    assert [o.key for o in outcomes] == list(range(10))  # one outcome each, in order
    assert len(smtp_sink.messages) == results[Result.ACCEPTED] <= 4
    assert results[Result.NOT_SENT] == 10 - results[Result.ACCEPTED] >= 6
    received = {rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos}
    not_sent = {f"reader{o.key}@example.org" for o in outcomes if o.result is Result.NOT_SENT}
    assert not received & not_sent


def queue_in_a_paused_digest(emails: list[str]) -> None:
    """Each reader also waits, pending, in another digest (paused, so nothing sends it)."""
    other = seed_digest("special-test-2")
    db.session.execute(
        sa.update(Digest).where(Digest.id == other).values(status=DigestStatus.PAUSED)
    )
    ids = db.session.execute(sa.select(Subscriber.id).where(Subscriber.email.in_(emails)))
    db.session.add_all(Delivery(digest_id=other, subscriber_id=i) for i in ids.scalars())
    db.session.commit()


def reader_state(email: str) -> dict[str, object]:
    """What a hard bounce changes about a reader, whoever reported it."""
    db.session.expire_all()
    reader = db.session.execute(sa.select(Subscriber).where(Subscriber.email == email)).scalar_one()
    kinds = db.session.execute(
        sa.select(ConsentEvent.kind).where(ConsentEvent.subscriber_id == reader.id)
    ).scalars()
    states = db.session.execute(
        sa.select(Delivery.state)
        .join(Digest, Digest.id == Delivery.digest_id)
        .where(Delivery.subscriber_id == reader.id, Digest.status == DigestStatus.PAUSED)
    ).scalars()
    suppression = db.session.get(Suppression, email_hmac(email))
    return {
        "status": reader.status,
        "hard_bounces": reader.hard_bounces,
        "old links work": reader.token_nonce == "n" + email.removeprefix("reader").split("@")[0],
        "suppressed": suppression.reason if suppression else None,
        "consent": sorted(kinds),
        "queued elsewhere": sorted(states),
    }


def test_a_5xx_at_send_time_suppresses_the_address_and_cancels_the_readers_other_deliveries(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(60, domain_of=domain_of)  # readers 7 and 57 on the bouncing domain
    queue_in_a_paused_digest(seeded.emails)
    smtp_sink.rcpt_policy = lambda a: "550 5.1.1 Mailbox unavailable" if BOUNCING in a else None

    plan_deliveries(seeded.digest_id)

    for email in (f"reader7@{BOUNCING}", f"reader57@{BOUNCING}"):
        assert reader_state(email) == {
            "status": SubscriberStatus.BOUNCED,
            "hard_bounces": 1,
            "old links work": False,  # their old links no longer work
            "suppressed": SuppressionReason.HARD_BOUNCE,  # no form can add them back
            "consent": [ConsentKind.BOUNCE],
            "queued elsewhere": [DeliveryState.CANCELLED],
        }
    assert reader_state("reader8@example.org")["queued elsewhere"] == [DeliveryState.PENDING]
    assert reader_state("reader8@example.org")["suppressed"] is None


def test_a_reader_bounced_by_a_dsn_ends_as_one_bounced_at_send_time(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(10, domain_of=domain_of)  # reader7 bounces at send time
    queue_in_a_paused_digest(seeded.emails)
    smtp_sink.rcpt_policy = lambda a: "550 5.1.1 Mailbox unavailable" if BOUNCING in a else None
    plan_deliveries(seeded.digest_id)
    report = Event(Kind.HARD, email="reader8@example.org", message_id=None, key="dsn-8")

    apply_event(report, source="delivery")

    at_send, by_dsn = reader_state(f"reader7@{BOUNCING}"), reader_state("reader8@example.org")
    assert at_send == by_dsn
    assert by_dsn["status"] is SubscriberStatus.BOUNCED
    assert by_dsn["queued elsewhere"] == [DeliveryState.CANCELLED]
