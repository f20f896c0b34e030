"""Why readers leave: the optional question after an unsubscribe, counted without the reader.

An answer counts only with a survey token, minted when an unsubscribe from a page has just
happened (a reader who was already out gets none): signed with its own salt, valid for a day,
used once. The token holds a random id and the list, nothing that names the reader, and
nothing about it is stored next to the reader: single use is kept in the rate limiter's
storage (Redis, or its SQLite file) under a hash of that id, expiring with the token.
Rotating the reader's nonce would have done it too, but the answer would then have to find
the reader to count, and a write to their row would sit beside the comment in time.

Stored: one counter per (month, reason), and the trimmed comment with the month and reason
only (models/leave_reason.py). No time, address, agent, token or reader; nothing is logged.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired
from limits.storage import Storage, storage_from_string
from sqlalchemy.dialects import postgresql, sqlite

from newsletter.models import LeaveComment, LeaveReason, LeaveReasonCount, db
from newsletter.subscriptions.tokens import LIST_ID, serializer

# The choices as the reader reads them, in this order; the dashboard shows the same words.
REASONS = (
    (LeaveReason.TOO_MANY, _l("Too many emails")),
    (LeaveReason.NOT_MY_REGIONS, _l("Not my regions")),
    (LeaveReason.NOT_INTERESTING, _l("Not interesting")),
    (LeaveReason.OTHER, _l("Another reason")),
)
SURVEY_SALT = "leave-survey-v1"
SURVEY_MAX_AGE = 86400
COMMENT_MAX = 1000
# Line breaks are part of a comment; every other control character is refused.
_KEPT_CONTROLS = {"\n", "\t"}


class ClosedSurvey(Exception):
    """No answer can be counted with this token."""


class ForgedSurvey(ClosedSurvey):
    """Not a survey token this app signed (forged, damaged, another list)."""


class ExpiredSurvey(ClosedSurvey):
    """Genuine, older than SURVEY_MAX_AGE."""


class BadAnswer(ValueError):
    """The answer as sent cannot be stored; `field` says which part, `problem` why."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class Survey:
    used_key: str  # a hash of the token's random id: what the used-token set holds
    month: date  # the month of the unsubscribe, on the newsroom's clock


@dataclass(frozen=True)
class Answer:
    reason: LeaveReason
    comment: str | None


def mint_survey() -> str:
    """A token for one answer; call only when an unsubscribe has just changed something."""
    return str(serializer(SURVEY_SALT).dumps({"lid": LIST_ID, "id": secrets.token_urlsafe(16)}))


def read_survey(token: str) -> Survey:
    try:
        payload, signed_at = serializer(SURVEY_SALT).loads(
            token, max_age=SURVEY_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired:
        raise ExpiredSurvey from None
    except BadSignature:
        raise ForgedSurvey from None
    if not isinstance(payload, dict) or payload.get("lid") != LIST_ID:
        raise ForgedSurvey
    survey_id = payload.get("id")
    if not isinstance(survey_id, str) or not survey_id:
        raise ForgedSurvey
    return Survey(
        used_key=hashlib.sha256(survey_id.encode()).hexdigest(),
        month=month_of(signed_at),
    )


def month_of(moment: datetime) -> date:
    """The first day of the moment's month in TIMEZONE: what the tables keep."""
    local = moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return local.date().replace(day=1)


def check_answer(reason: str | None, comment: str | None) -> Answer | None:
    """The answer as stored, None when the reader chose nothing and wrote nothing; BadAnswer
    when a reason is unknown or the comment has control characters or is too long.
    A comment without a chosen reason counts as "other"."""
    chosen: LeaveReason | None = None
    if reason:
        try:
            chosen = LeaveReason(reason)
        except ValueError:
            raise BadAnswer("reason", "unknown") from None
    text = _clean(comment or "")
    if chosen is None and text is None:
        return None
    return Answer(reason=chosen or LeaveReason.OTHER, comment=text)


def _clean(comment: str) -> str | None:
    text = comment.replace("\r\n", "\n").replace("\r", "\n").strip()
    if any(unicodedata.category(c) == "Cc" and c not in _KEPT_CONTROLS for c in text):
        raise BadAnswer("comment", "control")
    if len(text) > COMMENT_MAX:
        raise BadAnswer("comment", "too-long")
    return text or None


def take_survey(survey: Survey) -> bool:
    """Use the token: True the first time, False ever after (until it has expired anyway).
    One atomic increment in the storage, so two answers racing cannot both count."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    key = f"{prefix}/leave-survey/{survey.used_key}"
    return _used_tokens(current_app.config["RATELIMIT_STORAGE_URI"]).incr(key, SURVEY_MAX_AGE) == 1


@lru_cache(maxsize=8)
def _used_tokens(uri: str) -> Storage:
    # Its own client to the limiter's storage: the used-token set must hold even where rate
    # limits are switched off (RATELIMIT_ENABLED=false leaves Flask-Limiter without storage).
    storage = storage_from_string(uri)
    assert isinstance(storage, Storage)  # a synchronous scheme: redis://, newsletter+sqlite://
    return storage


def count_answer(survey: Survey, answer: Answer) -> None:
    """One more reader gave this reason this month, and their comment if any; committed."""
    table = LeaveReasonCount.__table__
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    # One statement whoever else answers at the same moment: the database adds, not Python.
    statement = (
        insert(table)
        .values(month=survey.month, reason=answer.reason, count=1)
        .on_conflict_do_update(
            index_elements=["month", "reason"], set_={"count": table.c.count + 1}
        )
    )
    db.session.execute(statement)
    if answer.comment is not None:
        db.session.add(
            LeaveComment(month=survey.month, reason=answer.reason, comment=answer.comment)
        )
    db.session.commit()
