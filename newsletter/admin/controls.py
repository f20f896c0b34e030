"""What editors do to an edition being sent: pause, resume, cancel, send a scheduled one now,
and decide its uncertain and its failed rows. Each is a POST with the form's CSRF token; the
delivery engine decides what applies."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from newsletter import jobs, ledger
from newsletter.admin.audit import AuditAction, record
from newsletter.admin.labels import edition_title, status_label, zone
from newsletter.admin.report import controls, counts_of
from newsletter.admin.views import bp, login_required
from newsletter.delivery import control
from newsletter.delivery.control import NotAllowed
from newsletter.delivery.uncertain import message_ids_in, send_again, settle_from_log
from newsletter.models import Digest, db, utcnow

REFUSED = {
    "pause": _l("This sending cannot be paused: the edition is %(status)s."),
    "resume": _l("This sending cannot be resumed: the edition is %(status)s."),
    "cancel": _l("This sending cannot be cancelled: the edition is %(status)s."),
}


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the button is the decision."""


class SettleForm(FlaskForm):  # type: ignore[misc]
    log = TextAreaField(_l("Relay's log"), validators=[DataRequired()])


def _posted_digest(digest_id: int) -> Digest:
    """The edition a control names, after its form's token is checked: 404, then 400."""
    digest = db.get_or_404(Digest, digest_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return digest


def _audit(action: AuditAction, digest_id: int, detail: str = "") -> None:
    # The delivery engine committed its change: the log's entry follows in a commit of its own.
    # Details are stored words, in the newsroom's French whatever the console's language.
    record(g.editor, action, f"édition {digest_id}" + (f" : {detail}" if detail else ""))
    db.session.commit()


def _back(digest_id: int) -> Response:
    return redirect(url_for("admin.digest_show", digest_id=digest_id), code=303)


def _refused(digest: Digest, action: str) -> None:
    # The engine's reason is in English for the logs; the editor reads the status in words.
    db.session.expire(digest)
    flash(REFUSED[action] % {"status": status_label(digest.status)}, "error")


@bp.post("/digests/<int:digest_id>/pause")
@login_required
def digest_pause(digest_id: int) -> Response:
    digest = _posted_digest(digest_id)
    try:
        control.pause(digest_id, reason=f"mis en pause par {g.editor.email}")
    except NotAllowed:
        _refused(digest, "pause")
    else:
        _audit(AuditAction.EDITION_PAUSED, digest_id)
        flash(
            _(
                "Sending paused: the letters already handed to the server go out, "
                "the others wait for it to resume."
            ),
            "success",
        )
    return _back(digest_id)


@bp.post("/digests/<int:digest_id>/resume")
@login_required
def digest_resume(digest_id: int) -> Response:
    digest = _posted_digest(digest_id)
    try:
        control.resume(digest_id)
    except NotAllowed:
        _refused(digest, "resume")
    else:
        _audit(AuditAction.EDITION_RESUMED, digest_id)
        flash(_("Sending resumed: the waiting letters go out."), "success")
    return _back(digest_id)


@bp.get("/digests/<int:digest_id>/cancel")
@login_required
def digest_cancel_confirm(digest_id: int) -> str:
    """The confirmation step: what a cancel stops, and the button that does it."""
    digest = db.get_or_404(Digest, digest_id)
    counts = counts_of(digest)
    return render_template(
        "admin/digest_cancel.html",
        digest=digest,
        title=edition_title(digest),
        cancellable=controls(digest.status)["cancel"],
        waiting=counts["pending"] + counts["deferred"] + counts["sending"],
        sent=counts["sent"],
        form=ActionForm(),
    )


@bp.post("/digests/<int:digest_id>/cancel")
@login_required
def digest_cancel(digest_id: int) -> Response:
    digest = _posted_digest(digest_id)
    try:
        cancelled = control.cancel(digest_id)
    except NotAllowed:
        _refused(digest, "cancel")
    else:
        _audit(AuditAction.EDITION_CANCELLED, digest_id, f"{cancelled} lettre(s) arrêtée(s)")
        flash(
            ngettext(
                "Sending cancelled: %(num)d letter will not go out.",
                "Sending cancelled: %(num)d letters will not go out.",
                cancelled,
            ),
            "success",
        )
    return _back(digest_id)


@bp.post("/digests/<int:digest_id>/send-now")
@login_required
def digest_send_now(digest_id: int) -> Response:
    """A scheduled edition sent before its time: released as the beat's digests.start_due
    releases it (one conditional UPDATE: the beat and this click release it once), then
    planned by the same task, which leaves with the commit."""
    digest = _posted_digest(digest_id)
    # In the audit's words: the newsroom's French and clock, whatever the console's language.
    scheduled = f"{digest.send_at.astimezone(zone()):%d/%m/%Y %H:%M}" if digest.send_at else "—"
    if not ledger.release_early(digest_id, now=utcnow()):
        db.session.rollback()
        flash(
            _(
                "This edition is not waiting for its time any more: it is %(status)s.",
                status=status_label(digest.status),
            ),
            "error",
        )
        return _back(digest_id)
    jobs.enqueue("delivery.plan", digest_id)
    detail = f"édition {digest_id} : programmée pour le {scheduled}, envoyée maintenant"
    record(g.editor, AuditAction.EDITION_SENT_NOW, detail)
    db.session.commit()
    flash(_("The edition leaves now, without waiting for its scheduled time."), "success")
    return _back(digest_id)


@bp.post("/digests/<int:digest_id>/uncertain/settle")
@login_required
def digest_settle_uncertain(digest_id: int) -> Response:
    """Lines of the relay's log pasted by an editor: the rows it shows accepted are sent."""
    db.get_or_404(Digest, digest_id)
    form = SettleForm()
    if not form.validate_on_submit():
        flash(_("Paste lines of the relay's log (with the Message-IDs)."), "error")
    else:
        lines = (form.log.data or "").splitlines()
        count = settle_from_log(digest_id, message_ids_in(lines), source=f"({g.editor.email})")
        _audit(AuditAction.UNCERTAIN_SETTLED, digest_id, f"{count} confirmé(s)")
        flash(
            ngettext(
                "%(num)d uncertain letter confirmed by the relay's log.",
                "%(num)d uncertain letters confirmed by the relay's log.",
                count,
            ),
            "success",
        )
    return _back(digest_id)


@bp.post("/digests/<int:digest_id>/uncertain/send-again")
@login_required
def digest_send_uncertain_again(digest_id: int) -> Response:
    return _send_again(digest_id, send_again, AuditAction.UNCERTAIN_SENT_AGAIN)


@bp.post("/digests/<int:digest_id>/failed/send-again")
@login_required
def digest_send_failed_again(digest_id: int) -> Response:
    return _send_again(digest_id, control.send_failed_again, AuditAction.FAILED_SENT_AGAIN)


def _send_again(digest_id: int, how: Callable[[int], int], action: AuditAction) -> Response:
    """Rows in a final state sent again (the delivery engine's `how`), said and logged."""
    digest = _posted_digest(digest_id)
    try:
        count = how(digest_id)
    except NotAllowed:
        db.session.expire(digest)
        flash(
            _("Cannot send again: the edition is %(status)s.", status=status_label(digest.status)),
            "error",
        )
    else:
        _audit(action, digest_id, f"{count} renvoyé(s)")
        flash(_sent_again(action, count), "success")
    return _back(digest_id)


def _sent_again(action: AuditAction, count: int) -> str:
    if action is AuditAction.UNCERTAIN_SENT_AGAIN:
        return ngettext(
            "%(num)d uncertain letter sent again, under the same Message-ID.",
            "%(num)d uncertain letters sent again, under the same Message-IDs.",
            count,
        )
    return ngettext(
        "%(num)d failed letter sent again, under the same Message-ID.",
        "%(num)d failed letters sent again, under the same Message-IDs.",
        count,
    )
