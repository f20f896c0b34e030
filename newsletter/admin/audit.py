"""The audit log: who did what, when, for editors' actions that change readers, send mail or
change accounts. record() adds its row to the caller's session, so the entry commits (or rolls
back) with the change it describes."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from newsletter.models import Editor, db
from newsletter.models.editor import AuditEntry

PAGE_SIZE = 50


class AuditAction(enum.StrEnum):
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    ROLE_CHANGED = "role_changed"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    SPECIAL_EDITION_CREATED = "special_edition_created"
    EDITION_PAUSED = "edition_paused"
    EDITION_RESUMED = "edition_resumed"
    EDITION_CANCELLED = "edition_cancelled"
    EDITION_SENT_NOW = "edition_sent_now"
    FAILED_SENT_AGAIN = "failed_sent_again"
    UNCERTAIN_SENT_AGAIN = "uncertain_sent_again"
    UNCERTAIN_SETTLED = "uncertain_settled"
    TEST_SENT = "test_sent"
    READER_UNSUBSCRIBED = "reader_unsubscribed"
    READER_ERASED = "reader_erased"
    SUPPRESSION_LIFTED = "suppression_lifted"
    READERS_IMPORTED = "readers_imported"
    ARCHIVE_HIDDEN = "archive_hidden"
    ARCHIVE_SHOWN = "archive_shown"


LABELS = {
    AuditAction.ACCOUNT_CREATED: _l("Account created"),
    AuditAction.ACCOUNT_DEACTIVATED: _l("Account deactivated"),
    AuditAction.ACCOUNT_REACTIVATED: _l("Account reactivated"),
    AuditAction.ROLE_CHANGED: _l("Role changed"),
    AuditAction.PASSWORD_RESET: _l("Password reset"),
    AuditAction.PASSWORD_CHANGED: _l("Password changed by its holder"),
    AuditAction.TOKEN_CREATED: _l("API token created"),
    AuditAction.TOKEN_REVOKED: _l("API token revoked"),
    AuditAction.SPECIAL_EDITION_CREATED: _l("Special edition started"),
    AuditAction.EDITION_PAUSED: _l("Sending paused"),
    AuditAction.EDITION_RESUMED: _l("Sending resumed"),
    AuditAction.EDITION_CANCELLED: _l("Sending cancelled"),
    AuditAction.EDITION_SENT_NOW: _l("Scheduled edition sent now"),
    AuditAction.FAILED_SENT_AGAIN: _l("Failed letters sent again"),
    AuditAction.UNCERTAIN_SENT_AGAIN: _l("Uncertain letters sent again"),
    AuditAction.UNCERTAIN_SETTLED: _l("Uncertain letters confirmed by the relay's log"),
    AuditAction.TEST_SENT: _l("Test letter sent"),
    AuditAction.READER_UNSUBSCRIBED: _l("Reader unsubscribed"),
    AuditAction.READER_ERASED: _l("Reader erased"),
    AuditAction.SUPPRESSION_LIFTED: _l("Address block lifted"),
    AuditAction.READERS_IMPORTED: _l("Readers imported from a CSV file"),
    AuditAction.ARCHIVE_HIDDEN: _l("Edition hidden from the public archive"),
    AuditAction.ARCHIVE_SHOWN: _l("Edition shown in the public archive again"),
}


def record(editor: Editor | None, action: AuditAction, detail: str = "") -> AuditEntry:
    """Add an entry to the current transaction (not committed); None is the command line."""
    entry = AuditEntry(
        editor_id=editor.id if editor is not None else None,
        editor_email=editor.email if editor is not None else None,
        action=action.value,
        detail=detail[:500],
    )
    db.session.add(entry)
    return entry


def label(action: str) -> str:
    """The words for an action in the console's language; an unknown one (a newer release's)
    as it is stored. The entries' details are kept as they were written."""
    try:
        return str(LABELS[AuditAction(action)])
    except ValueError:
        return action


def entries_before(before: int | None, *, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """A page of the log, newest first; `before` is the id the previous page ended on."""
    query = db.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list(db.session.execute(query).scalars())
