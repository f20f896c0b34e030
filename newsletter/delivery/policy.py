"""What the relay's replies mean for the ledger: pure decisions, carried out by the pipeline.

No SMTP, no database, no clock: every input is given (the outcome, the claimed row, `now`).
  - a reply -> the row's state (the table "Outcome per recipient" in docs/delivery.md)
  - when a deferred row is tried again, or expires (retry.py: backoff with jitter)
  - a refusal that is the relay's fault (our settings), not the reader's: no bounce
  - refusals in a row -> pause the digest and give the refused rows back
  - the relay unreachable or refusing our login -> the group back to pending; pause when
    only a person can fix it
  - a throttle reply (421, 4.7.x, "rate limit") -> whose rate to cut: a recipient domain's,
    or the relay's (adaptive.py)
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.delivery.retry import RetryPolicy
from newsletter.ledger import Claimed, Result
from newsletter.mail.pipelined import Outcome, RelayError
from newsletter.mail.pipelined import Result as Smtp
from newsletter.models import DeliveryState, DigestStatus

# The start of the pause reason after relay refusals: how another worker recognises it.
RELAY_PAUSE = "the relay refused"

# The keys of the adaptive send rates (adaptive.py): the relay, and one recipient domain.
RELAY_KEY = "relay"
# Gmail 421 4.7.28, Microsoft 4.7.650, Yahoo TSS04, and the words providers use.
_THROTTLE_WORDS = ("4.7.28", "4.7.650", "tss04", "rate limit", "too many", "throttl")

_FINAL = {
    Smtp.ACCEPTED: DeliveryState.SENT,
    Smtp.UNKNOWN: DeliveryState.UNCERTAIN,  # lost after ".": may have arrived, never re-sent
    Smtp.PERMANENT: DeliveryState.FAILED,
}


def result_of(
    outcome: Outcome,
    row: Claimed,
    message_id: str | None,
    *,
    retry: RetryPolicy,
    now: datetime,
    rng: random.Random | None = None,
    sections: int | None = None,
) -> Result:
    """SMTP outcome -> the row's result in the ledger (per message: keep it cheap).
    `sections`: what the letter had, kept by the ledger when it was accepted."""
    if outcome.result is Smtp.NOT_SENT:  # halted before its MAIL FROM: back to the queue
        return Result(row.id, DeliveryState.PENDING, None, "not sent: digest halted")
    reply = f"{outcome.code} {outcome.reply}".strip()
    if outcome.result is Smtp.TEMPORARY:
        at = retry.next_attempt(attempts=row.attempts, created_at=row.created_at, now=now, rng=rng)
        if at is None:
            return Result(row.id, DeliveryState.EXPIRED, outcome.code, reply, message_id)
        return Result(row.id, DeliveryState.DEFERRED, outcome.code, reply, message_id, at)
    state = _FINAL[outcome.result]
    return Result(row.id, state, outcome.code or None, reply, message_id, sections=sections)


def is_relay_refusal(code: int, reply: str) -> bool:
    """Our problem, not the reader's: a command or message the relay cannot parse (500-504,
    5.5.x, 5.6.x), auth required or refused (530, 535), relaying denied or policy (5.7.x)."""
    text = reply.lower()
    return (
        500 <= code <= 504
        or code in (530, 535)
        or text.startswith(("5.5.", "5.6.", "5.7."))
        or "relay" in text
    )


def reader_bounces(results: Iterable[Result]) -> list[int]:
    """The delivery ids whose failure is one more hard bounce for their reader: a 5xx that
    is not a relay refusal."""
    return [
        r.delivery_id
        for r in results
        if r.state is DeliveryState.FAILED and not is_relay_refusal(r.code or 0, _text(r.reply))
    ]


def _text(reply: str | None) -> str:
    # A result's reply is "<code> <text>": the relay test looks at the text.
    return (reply or "").split(" ", 1)[-1]


@dataclass
class RefusalStreak:
    """Relay refusals in a row, kept by one worker across groups and batches.

    One refusal may be about one reader; many in a row, with nobody accepted or refused for
    a reason of their own in between, are the relay refusing us (wrong settings, a block).
    """

    limit: int  # SEND_PAUSE_AFTER_REJECTS; 0: never pause for refusals
    ids: list[int] = field(default_factory=list)  # the refused rows, to give back
    reply: str = ""  # the last refusal, for the pause reason

    def observe(self, outcomes: Sequence[Outcome]) -> bool:
        """Count a group's refusals in a row; True once the streak is full."""
        for o in outcomes:
            if o.result is Smtp.PERMANENT and is_relay_refusal(o.code, o.reply):
                self.ids.append(o.key)
                self.reply = f"{o.code} {o.reply}"
            elif o.result in (Smtp.ACCEPTED, Smtp.PERMANENT):
                self.ids.clear()  # the relay took or judged a reader: not its fault
        return self.full

    @property
    def full(self) -> bool:
        return bool(self.limit) and len(self.ids) >= self.limit

    @property
    def stop_reason(self) -> str:
        return f"relay refused {self.limit} readers in a row"

    def pause_reason(self) -> str:
        """The digest's pause reason: shown to editors, recognised by `paused_for_relay`."""
        return (
            f"{RELAY_PAUSE} {len(self.ids)} readers in a row "
            f"({self.reply}); fix the relay settings, then resume"
        )

    def clear(self) -> None:
        self.ids.clear()


def paused_for_relay(status: DigestStatus | None, reason: str | None) -> bool:
    """The digest was paused for relay refusals (by any worker): a worker's own refusals in
    a row were the relay's fault too, and go back to pending."""
    return status is DigestStatus.PAUSED and (reason or "").startswith(RELAY_PAUSE)


@dataclass(frozen=True)
class RelayDown:
    """No conversation at all (cannot connect, login or session refused)."""

    results: list[Result]  # the group back to pending: not the readers' fault
    stop: str  # why the batch stops
    pause: str | None  # the digest's pause reason when only a person can fix it, else None


def relay_down(exc: RelayError, ids: Sequence[int]) -> RelayDown:
    """A permanent refusal (AUTH refused, 5xx to our session) pauses the digest: no retry
    helps until SMTP_URL is fixed. Anything else (unreachable) only stops this batch."""
    results = [Result(i, DeliveryState.PENDING, exc.code, exc.reply) for i in ids]
    if exc.permanent:
        reason = f"the relay refused our login or session ({exc}); fix SMTP_URL, then resume"
        return RelayDown(results, stop=reason, pause=reason)
    return RelayDown(results, stop=f"relay unreachable: {exc}", pause=None)


def halt_stands(status: DigestStatus | None) -> bool:
    """The sender stopped on news of a halt: it stands unless the digest is sending after all
    (the news came late, behind a resume and a fresh claim). Unsent rows are pending either
    way."""
    return status is not DigestStatus.SENDING


def domain_key(address: str) -> str:
    return "domain:" + address.rsplit("@", 1)[-1].lower()


def is_throttle(code: int, reply: str) -> bool:
    """Slow down, not the reader's fault: 421 (any), a 4xx with a 4.7.x status, or a 4xx whose
    text names a rate limit. The row is deferred like any 4xx (no bounce)."""
    if code == 421:
        return True
    text = reply.lower()
    return 400 <= code < 500 and (
        text.startswith("4.7.") or any(word in text for word in _THROTTLE_WORDS)
    )


def throttle_keys(outcomes: Sequence[Outcome], rcpts: dict[int, str]) -> set[str]:
    """The keys a group's throttle replies slow down: the recipient's domain of each refused
    RCPT. A 421 closes the connection, and the client gives the rest of the group that same
    reply untried: in a run of identical replies only the first names a domain."""
    keys: set[str] = set()
    previous: tuple[int, str] | None = None
    for o in outcomes:
        reply = (o.code, o.reply)
        if o.result is Smtp.TEMPORARY and is_throttle(o.code, o.reply):
            if reply != previous and o.key in rcpts:
                keys.add(domain_key(rcpts[o.key]))
            previous = reply
        else:
            previous = None
    return keys


def relay_throttled(exc: RelayError) -> bool:
    """No conversation, and the relay said why: too fast (a 421 at the greeting or login)."""
    return not exc.permanent and exc.code != 0 and is_throttle(exc.code, exc.reply)
