"""The audit log: who did what, when, for editors' actions that change readers, send mail or
change accounts. record() adds its row to the caller's session, so the entry commits (or rolls
back) with the change it describes."""

from __future__ import annotations

import enum

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
    FAILED_SENT_AGAIN = "failed_sent_again"
    UNCERTAIN_SENT_AGAIN = "uncertain_sent_again"
    UNCERTAIN_SETTLED = "uncertain_settled"
    TEST_SENT = "test_sent"
    READER_UNSUBSCRIBED = "reader_unsubscribed"
    READER_ERASED = "reader_erased"
    SUPPRESSION_LIFTED = "suppression_lifted"


LABELS = {
    AuditAction.ACCOUNT_CREATED: "Compte créé",
    AuditAction.ACCOUNT_DEACTIVATED: "Compte désactivé",
    AuditAction.ACCOUNT_REACTIVATED: "Compte réactivé",
    AuditAction.ROLE_CHANGED: "Rôle changé",
    AuditAction.PASSWORD_RESET: "Mot de passe réinitialisé",
    AuditAction.PASSWORD_CHANGED: "Mot de passe changé par son titulaire",
    AuditAction.TOKEN_CREATED: "Jeton d’API créé",
    AuditAction.TOKEN_REVOKED: "Jeton d’API révoqué",
    AuditAction.SPECIAL_EDITION_CREATED: "Édition spéciale lancée",
    AuditAction.EDITION_PAUSED: "Envoi mis en pause",
    AuditAction.EDITION_RESUMED: "Envoi repris",
    AuditAction.EDITION_CANCELLED: "Envoi annulé",
    AuditAction.FAILED_SENT_AGAIN: "Envois en échec renvoyés",
    AuditAction.UNCERTAIN_SENT_AGAIN: "Envois incertains renvoyés",
    AuditAction.UNCERTAIN_SETTLED: "Envois incertains confirmés par le journal du relais",
    AuditAction.TEST_SENT: "Envoi de test",
    AuditAction.READER_UNSUBSCRIBED: "Lecteur désinscrit",
    AuditAction.READER_ERASED: "Lecteur effacé",
    AuditAction.SUPPRESSION_LIFTED: "Blocage d’une adresse levé",
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
    """The French words for an action; an unknown one (a newer release's) as it is stored."""
    try:
        return LABELS[AuditAction(action)]
    except ValueError:
        return action


def entries_before(before: int | None, *, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """A page of the log, newest first; `before` is the id the previous page ended on."""
    query = db.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list(db.session.execute(query).scalars())
