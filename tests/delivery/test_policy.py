"""The delivery policy alone: what each reply means, retries, the relay's refusals, pauses.

No app, no database, no SMTP: outcomes are built by hand and the clock is given.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.delivery import policy
from newsletter.delivery.policy import RELAY_PAUSE, RefusalStreak
from newsletter.delivery.retry import RetryPolicy
from newsletter.ledger import Claimed, Result
from newsletter.mail.pipelined import Outcome, RelayError
from newsletter.mail.pipelined import Result as Smtp
from newsletter.models import DeliveryState, DigestStatus

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
RETRY = RetryPolicy(min_seconds=60, max_seconds=3600, max_age=timedelta(hours=24))
MID = "<d7.3.abcdef12@news.example>"


def row(id: int = 7, *, attempts: int = 1, age: timedelta = timedelta(0)) -> Claimed:
    return Claimed(id, subscriber_id=70, attempts=attempts, created_at=NOW - age)


def result(
    outcome: Outcome, claimed: Claimed | None = None, *, rng: random.Random | None = None
) -> Result:
    return policy.result_of(
        outcome, claimed or row(outcome.key), MID, retry=RETRY, now=NOW, rng=rng
    )


def accepted(key: int) -> Outcome:
    return Outcome(key, Smtp.ACCEPTED, 250, "2.0.0 Ok: queued")


def reader_refused(key: int) -> Outcome:
    return Outcome(key, Smtp.PERMANENT, 550, "5.1.1 <r@example.org>: Recipient unknown")


def relay_refused(key: int) -> Outcome:
    return Outcome(key, Smtp.PERMANENT, 554, "5.7.1 <r@example.org>: Relay access denied")


# -- a reply -> the row's state ------------------------------------------------------------------


def test_an_accepted_message_is_sent_with_its_reply_and_message_id() -> None:
    assert result(accepted(7)) == Result(7, DeliveryState.SENT, 250, "250 2.0.0 Ok: queued", MID)


def test_a_permanent_refusal_fails_the_row() -> None:
    r = result(reader_refused(7))

    assert (r.state, r.code, r.message_id) == (DeliveryState.FAILED, 550, MID)
    assert r.reply == "550 5.1.1 <r@example.org>: Recipient unknown"
    assert r.next_attempt_at is None


def test_a_connection_lost_after_the_dot_is_uncertain_with_no_code() -> None:
    r = result(Outcome(7, Smtp.UNKNOWN, 0, "connection lost after data"))

    assert (r.state, r.code, r.reply) == (
        DeliveryState.UNCERTAIN,
        None,
        "0 connection lost after data",
    )
    assert r.message_id == MID  # what settles it against the relay's log


def test_a_message_not_sent_because_of_a_halt_goes_back_to_pending_without_a_message_id() -> None:
    r = result(Outcome(7, Smtp.NOT_SENT, 0, "halted"))

    assert r == Result(7, DeliveryState.PENDING, None, "not sent: digest halted")


def test_a_temporary_refusal_defers_the_row_within_the_first_backoff() -> None:
    r = result(Outcome(7, Smtp.TEMPORARY, 451, "4.3.0 Try again later"), row(attempts=1))

    assert (r.state, r.code, r.reply) == (
        DeliveryState.DEFERRED,
        451,
        "451 4.3.0 Try again later",
    )
    assert r.next_attempt_at is not None
    assert NOW + timedelta(seconds=30) <= r.next_attempt_at <= NOW + timedelta(seconds=60)


def test_a_temporary_refusal_expires_the_row_when_the_retry_would_pass_the_maximum_age() -> None:
    temporary = Outcome(7, Smtp.TEMPORARY, 421, "4.4.2 Timeout")
    young = result(temporary, row(attempts=5, age=timedelta(hours=20)))
    old = result(temporary, row(attempts=5, age=timedelta(hours=23, minutes=59)))

    assert young.state is DeliveryState.DEFERRED
    assert old == Result(7, DeliveryState.EXPIRED, 421, "421 4.4.2 Timeout", MID)


def test_a_seeded_rng_gives_the_same_retry_time_and_stays_within_equal_jitter() -> None:
    temporary = Outcome(7, Smtp.TEMPORARY, 450, "4.2.0 Busy")
    first = result(temporary, row(attempts=3), rng=random.Random(5))
    again = result(temporary, row(attempts=3), rng=random.Random(5))

    assert first.next_attempt_at == again.next_attempt_at
    assert first.next_attempt_at is not None
    # 2^(3-1) x 60 s = 240 s: between half of it and all of it.
    assert NOW + timedelta(seconds=120) <= first.next_attempt_at <= NOW + timedelta(seconds=240)


@pytest.mark.parametrize("attempts", [1, 2, 4, 7, 30])
def test_the_backoff_doubles_from_the_minimum_and_is_capped_at_the_maximum(attempts: int) -> None:
    rng = random.Random(attempts)
    base = min(3600.0, 60.0 * 2 ** (attempts - 1))

    delays = [RETRY.delay(attempts, rng=rng) for _ in range(50)]

    assert all(base / 2 <= d <= base for d in delays)
    assert len(set(delays)) > 1  # jittered: a relay hiccup's deferrals do not return at once


# -- relay refusals and reader bounces -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (500, "5.5.2 Syntax error"),
        (503, "Bad sequence of commands"),
        (530, "Authentication required"),
        (535, "Authentication credentials invalid"),
        (550, "5.7.1 Message rejected by policy"),
        (554, "5.6.0 Message content rejected"),
        (554, "Relay access denied"),
    ],
)
def test_refusals_of_our_session_or_message_are_the_relays_not_the_readers(
    code: int, reply: str
) -> None:
    assert policy.is_relay_refusal(code, reply)


@pytest.mark.parametrize(
    ("code", "reply"),
    [(550, "5.1.1 Recipient unknown"), (552, "5.2.2 Mailbox full"), (553, "5.1.3 Bad address")],
)
def test_refusals_of_a_mailbox_are_the_readers(code: int, reply: str) -> None:
    assert not policy.is_relay_refusal(code, reply)


def test_only_failed_rows_refused_for_the_reader_count_as_hard_bounces() -> None:
    results = [
        result(reader_refused(1)),
        result(relay_refused(2)),
        result(accepted(3)),
        result(Outcome(4, Smtp.TEMPORARY, 452, "4.2.2 Mailbox full")),
        result(Outcome(5, Smtp.PERMANENT, 535, "Authentication credentials invalid")),
        result(Outcome(6, Smtp.PERMANENT, 552, "")),
    ]

    assert policy.reader_bounces(results) == [1, 6]


# -- the refusal streak -------------------------------------------------------------------------


def test_relay_refusals_in_a_row_fill_the_streak_across_groups() -> None:
    streak = RefusalStreak(limit=3)

    assert not streak.observe([relay_refused(1), relay_refused(2)])
    assert streak.observe([relay_refused(3)])
    assert streak.ids == [1, 2, 3]
    assert streak.reply == "554 5.7.1 <r@example.org>: Relay access denied"
    assert streak.stop_reason == "relay refused 3 readers in a row"


def test_an_accepted_message_resets_the_streak() -> None:
    streak = RefusalStreak(limit=3)

    assert not streak.observe([relay_refused(1), relay_refused(2), accepted(3), relay_refused(4)])
    assert streak.ids == [4]


def test_a_reader_refused_for_their_own_mailbox_resets_the_streak() -> None:
    streak = RefusalStreak(limit=2)

    assert not streak.observe([relay_refused(1), reader_refused(2), relay_refused(3)])
    assert streak.ids == [3]


def test_deferrals_uncertain_and_unsent_messages_neither_count_nor_reset_the_streak() -> None:
    streak = RefusalStreak(limit=2)
    neutral = [
        Outcome(2, Smtp.TEMPORARY, 451, "4.3.0 Try again"),
        Outcome(3, Smtp.UNKNOWN, 0, "connection lost"),
        Outcome(4, Smtp.NOT_SENT, 0, "halted"),
    ]

    assert streak.observe([relay_refused(1), *neutral, relay_refused(5)])
    assert streak.ids == [1, 5]


def test_a_streak_limit_of_zero_never_pauses() -> None:
    streak = RefusalStreak(limit=0)

    assert not streak.observe([relay_refused(i) for i in range(100)])
    assert not streak.full


def test_the_pause_reason_names_the_refusals_and_is_recognised_as_a_relay_pause() -> None:
    streak = RefusalStreak(limit=2)
    streak.observe([relay_refused(1), relay_refused(2), relay_refused(3)])

    reason = streak.pause_reason()

    assert reason == (
        "the relay refused 3 readers in a row (554 5.7.1 <r@example.org>: Relay access denied);"
        " fix the relay settings, then resume"
    )
    assert reason.startswith(RELAY_PAUSE)
    assert policy.paused_for_relay(DigestStatus.PAUSED, reason)
    assert not policy.paused_for_relay(DigestStatus.PAUSED, "paused by an editor")
    assert not policy.paused_for_relay(DigestStatus.SENDING, reason)
    assert not policy.paused_for_relay(None, None)


def test_clearing_the_streak_forgets_its_rows() -> None:
    streak = RefusalStreak(limit=1)
    streak.observe([relay_refused(1)])

    streak.clear()

    assert streak.ids == [] and not streak.full


# -- the relay down, and halts -------------------------------------------------------------------


def test_a_refused_login_gives_the_group_back_and_pauses_the_digest() -> None:
    down = policy.relay_down(RelayError(535, "5.7.8 Bad credentials", permanent=True), [1, 2])

    assert down.results == [
        Result(1, DeliveryState.PENDING, 535, "5.7.8 Bad credentials"),
        Result(2, DeliveryState.PENDING, 535, "5.7.8 Bad credentials"),
    ]
    assert down.pause == (
        "the relay refused our login or session (535 5.7.8 Bad credentials);"
        " fix SMTP_URL, then resume"
    )
    assert down.stop == down.pause


def test_an_unreachable_relay_gives_the_group_back_and_stops_without_pausing() -> None:
    exc = RelayError(0, "cannot reach relay:25: refused", permanent=False)

    down = policy.relay_down(exc, [4])

    assert down.results == [Result(4, DeliveryState.PENDING, 0, "cannot reach relay:25: refused")]
    assert down.pause is None
    assert down.stop == "relay unreachable: 0 cannot reach relay:25: refused"


@pytest.mark.parametrize(
    ("status", "stands"),
    [
        (DigestStatus.SENDING, False),  # the news was late, behind a resume
        (DigestStatus.PAUSED, True),
        (DigestStatus.CANCELLED, True),
        (None, True),
    ],
)
def test_a_halt_stands_unless_the_digest_is_sending_after_all(
    status: DigestStatus | None, stands: bool
) -> None:
    assert policy.halt_stands(status) is stands
