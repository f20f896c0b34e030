"""An edition in or out of the public archive: one POST with the form's token, audited."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter.admin.audit import AuditAction, record
from newsletter.admin.controls import ActionForm
from newsletter.admin.views import bp, login_required
from newsletter.models import Digest, db

# The form says the state wanted, not "toggle": a double click or a stale page hides twice.
WANTED = {"1": True, "0": False}


@bp.post("/digests/<int:digest_id>/archive")
@login_required
def digest_archive(digest_id: int) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    hidden = WANTED.get(request.form.get("hidden", ""))
    if hidden is None:
        abort(400)
    if digest.archive_hidden != hidden:
        digest.archive_hidden = hidden
        action = AuditAction.ARCHIVE_HIDDEN if hidden else AuditAction.ARCHIVE_SHOWN
        # Stored words, in the newsroom's French (as the other editions' entries).
        record(g.editor, action, f"édition {digest_id}")
        db.session.commit()
    if hidden:
        flash(_("This edition is hidden from the public archive."), "success")
    else:
        flash(_("This edition is shown in the public archive once sent."), "success")
    return redirect(url_for("admin.digest_show", digest_id=digest_id), code=303)
