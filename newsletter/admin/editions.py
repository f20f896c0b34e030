"""Editions in the console: the list, an edition's page, and the figures its page polls."""

from __future__ import annotations

from flask import abort, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter.admin.archived import is_archived
from newsletter.admin.controls import ActionForm, SettleForm
from newsletter.admin.paging import page_number
from newsletter.admin.report import COUNTS, click_report, live_report, sent_and_failed
from newsletter.admin.views import bp, login_required
from newsletter.delivery.uncertain import uncertain_rows
from newsletter.models import REGIONS, Digest, db

PAGE_SIZE = 25


@bp.get("/digests")
@login_required
def digest_list() -> str:
    """Every edition, newest first, with its figures."""
    page = _page_arg()
    rows = (
        db.session.execute(
            db.select(Digest)
            .order_by(Digest.id.desc())
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    digests = rows[:PAGE_SIZE]
    return render_template(
        "admin/digest_list.html",
        digests=digests,
        figures=sent_and_failed([digest.id for digest in digests]),
        page=page,
        more=len(rows) > PAGE_SIZE,
    )


def _page_arg() -> int:
    number = page_number(request.args.get("page", "1"))
    if number is None:
        abort(400, description=_("page: a page number is expected."))
    return number


@bp.get("/digests/<int:digest_id>")
@login_required
def digest_show(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    return render_template(
        "admin/digest_show.html",
        digest=digest,
        live=live_report(digest),
        clicks=click_report(digest),
        counts=COUNTS,
        uncertain=uncertain_rows(digest_id),
        # The link to its archive page only when the archive shows it (else that page is a 404).
        archived=is_archived(digest_id),
        settle_form=SettleForm(),
        action_form=ActionForm(),
        # The preview of what a reader of every region of this edition would get.
        preview_regions=digest.region_slugs or [slug for slug, _, _ in REGIONS],
    )


@bp.get("/digests/<int:digest_id>/progress.json")
@login_required
def digest_progress(digest_id: int) -> Response:
    """What the edition's page refreshes while it is sent (static/admin-progress.js)."""
    digest = db.get_or_404(Digest, digest_id)
    response = jsonify(live_report(digest))
    response.headers["Cache-Control"] = "no-store"
    return response
