"""The console's first page: readers and articles in figures, and the last editions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import render_template

from newsletter.admin.report import sent_and_failed
from newsletter.admin.views import bp, login_required
from newsletter.models import Article, Digest, Subscriber, SubscriberStatus, db

LAST_EDITIONS = 10


def _count(statement: sa.Select[Any]) -> int:
    return int(db.session.execute(statement).scalar_one())


def _readers(status: SubscriberStatus) -> int:
    return _count(
        sa.select(sa.func.count()).select_from(Subscriber).where(Subscriber.status == status)
    )


@bp.get("/")
@login_required
def dashboard() -> str:
    stats = {
        "confirmed": _readers(SubscriberStatus.CONFIRMED),
        "pending": _readers(SubscriberStatus.PENDING),
        "articles": _count(sa.select(sa.func.count()).select_from(Article)),
    }
    digests = (
        db.session.execute(sa.select(Digest).order_by(Digest.id.desc()).limit(LAST_EDITIONS))
        .scalars()
        .all()
    )
    return render_template(
        "admin/dashboard.html",
        stats=stats,
        digests=digests,
        figures=sent_and_failed([digest.id for digest in digests]),
    )
