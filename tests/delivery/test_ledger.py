"""The ledger: one row per reader planned in one statement, every reader mailed exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import Flask

from newsletter.delivery import digest_progress, plan_deliveries
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, Subscriber, db
from newsletter.subscriptions.preferences import erase
from newsletter.subscriptions.service import Provenance
from tests.delivery.seed import seed_all, seed_articles, seed_digest, seed_readers
from tests.support.smtp import Received, SmtpSink


def statements_on(table: str) -> tuple[list[str], Any]:
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            seen.append(statement)

    return seen, listen


def test_planning_inserts_one_row_per_confirmed_reader_in_one_statement(app: Flask) -> None:
    seed_articles()
    seed_readers(40)
    seed_readers(5, start=100, status="pending")
    digest_id = seed_digest()
    inserts, listen = statements_on("deliveries")
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        count = _plan_without_sending(app, digest_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)

    assert count == 40
    assert len(inserts) == 1 and "SELECT" in inserts[0].upper()
    digest = db.session.get(Digest, digest_id)
    assert digest.status is DigestStatus.SENDING and digest.planned_count == 40
    assert digest_progress(digest_id)["pending"] == 40
    # Planning again (a redelivered task) adds nothing.
    assert _plan_without_sending(app, digest_id) == 40


def test_readers_with_nothing_new_are_planned_as_skipped(app: Flask) -> None:
    seed_articles(slugs=["russie"])
    seed_readers(127)  # every combination of regions: 64 of them include Russia
    digest_id = seed_digest()

    _plan_without_sending(app, digest_id)

    progress = digest_progress(digest_id)
    assert progress["pending"] == 64
    assert progress["skipped"] == 63


def test_every_reader_gets_exactly_one_message_recorded_as_soon_as_the_server_replies(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(300)
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    awaiting: list[int] = []

    def check_ledger(message: Received) -> None:
        # When the server holds a message, its row is marked handed over, and no more than
        # SEND_GROUPS_IN_FLIGHT groups of rows are waiting for their results to be written.
        mid = message.message["Message-ID"]
        with engine.connect() as conn:
            handed = conn.execute(
                sa.select(Delivery.handoff_at)
                .where(Delivery.message_id.is_(None))
                .where(Delivery.id == int(mid.split(".")[0].removeprefix("<d")))
            ).scalar_one()
            waiting = conn.execute(
                sa.select(sa.func.count())
                .select_from(Delivery)
                .where(Delivery.state == DeliveryState.SENDING, Delivery.handoff_at.is_not(None))
            ).scalar_one()
        assert handed is not None
        awaiting.append(waiting)

    smtp_sink.on_message = check_ledger
    plan_deliveries(seeded.digest_id)  # eager Celery: the drains run inline after the commit

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)
    assert max(awaiting) <= app.config["SEND_GROUP_SIZE"] * app.config["SEND_GROUPS_IN_FLIGHT"]
    rows = db.session.execute(db.select(Delivery)).scalars().all()
    by_mid = {m.message["Message-ID"]: m for m in smtp_sink.messages}
    for row in rows:
        assert row.state is DeliveryState.SENT
        assert row.smtp_code == 250 and row.sent_at is not None
        assert row.message_id in by_mid  # the server's log agrees with the ledger, row by row
    digest = db.session.get(Digest, seeded.digest_id)
    assert digest.status is DigestStatus.FINISHED
    assert digest_progress(seeded.digest_id)["sent"] == 300
    engine.dispose()


def test_a_reader_who_unsubscribes_before_the_claim_gets_nothing(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(20)
    _plan_without_sending(app, seeded.digest_id)
    gone = seeded.emails[7]
    db.session.execute(
        sa.update(sa.table("subscribers", sa.column("email"), sa.column("status")))
        .where(sa.column("email") == gone)
        .values(status="unsubscribed")
    )
    db.session.commit()

    from newsletter.delivery.drain import drain

    drain(seeded.digest_id)

    assert smtp_sink.to(gone) == []
    assert len(smtp_sink.messages) == 19
    assert digest_progress(seeded.digest_id)["skipped"] == 1


def test_an_erased_reader_keeps_the_digest_counts_but_no_link_to_the_person(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(20)
    plan_deliveries(seeded.digest_id)
    before = digest_progress(seeded.digest_id)
    reader = db.session.execute(
        sa.select(Subscriber).where(Subscriber.email == seeded.emails[3])
    ).scalar_one()
    reader_id = reader.id

    erase(reader, Provenance(source="test"))

    assert digest_progress(seeded.digest_id) == before
    rows = db.session.execute(
        sa.select(Delivery.subscriber_id).where(Delivery.digest_id == seeded.digest_id)
    ).scalars()
    ids = list(rows)
    assert reader_id not in ids and ids.count(None) == 1 and len(ids) == 20


def test_a_reader_erased_after_planning_is_skipped_not_mailed(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(20)
    _plan_without_sending(app, seeded.digest_id)
    gone = seeded.emails[5]
    reader = db.session.execute(sa.select(Subscriber).where(Subscriber.email == gone)).scalar_one()

    erase(reader, Provenance(source="test"))
    from newsletter.delivery.drain import drain

    drain(seeded.digest_id)

    assert smtp_sink.to(gone) == []
    assert len(smtp_sink.messages) == 19
    assert digest_progress(seeded.digest_id)["cancelled"] == 1


def _plan_without_sending(app: Flask, digest_id: int) -> int:
    """plan_deliveries(), the drains it enqueues left unsent (to look at the ledger between)."""
    celery = app.extensions["celery"]
    task = celery.tasks["delivery.drain"]
    original = task.apply_async
    task.apply_async = lambda *a, **k: None  # type: ignore[method-assign]
    try:
        return plan_deliveries(digest_id)
    finally:
        task.apply_async = original  # type: ignore[method-assign]
