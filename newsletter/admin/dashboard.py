"""The console's first page: readers over the weeks and per region, the last editions, feeds in
error, articles awaiting a region, and what the next weekly edition would send now."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from newsletter.admin import overview
from newsletter.admin.charts import Series, bar_chart, line_chart
from newsletter.admin.labels import language, region_name
from newsletter.admin.leavers import leavers_panel
from newsletter.admin.report import sent_and_failed
from newsletter.admin.views import bp, login_required
from newsletter.models import REGIONS, Article, Digest, db

LAST_EDITIONS = 10


def _count(statement: sa.Select[Any]) -> int:
    return int(db.session.execute(statement).scalar_one())


READER_STATUSES = (
    ("confirmed", _l("confirmed")),
    ("pending", _l("awaiting confirmation")),
    ("unsubscribed", _l("unsubscribed readers")),
    ("bounced", _l("bouncing addresses")),
    ("complained", _l("complaints")),
)


def _week_label(monday: date) -> str:
    """ "1/12" in French, "12/1" in English: short, for the chart's axis and the table."""
    if language() == "en":
        return f"{monday.month}/{monday.day}"
    return f"{monday.day}/{monday.month}"


@bp.get("/")
@login_required
def dashboard() -> str:
    known = {slug: region_name(slug) for slug, _fr, _en in REGIONS}
    region = request.args.get("region", "")
    region = region if region in known else ""
    flows = overview.weekly_flows(region=region or None)
    series = [Series(str(label), tuple(flows.counts[key])) for key, label, _k in overview.FLOWS]
    week_labels = [_week_label(week) for week in flows.weeks]
    per_region = overview.confirmed_per_region()
    digests = (
        db.session.execute(sa.select(Digest).order_by(Digest.id.desc()).limit(LAST_EDITIONS))
        .scalars()
        .all()
    )
    return render_template(
        "admin/dashboard.html",
        statuses=READER_STATUSES,
        readers=overview.readers_by_status(),
        articles=_count(sa.select(sa.func.count()).select_from(Article)),
        regions=list(known.items()),
        region=region,
        region_name=known.get(region),
        flows=flows,
        flow_labels=[(key, label) for key, label, _k in overview.FLOWS],
        week_labels=week_labels,
        flows_chart=line_chart(_("Readers per week"), week_labels, series),
        per_region=per_region,
        region_chart=bar_chart(
            _("Confirmed readers per region"), [(region_name(r.slug), n) for r, n in per_region]
        ),
        feeds_in_error=overview.feeds_in_error(),
        awaiting=overview.awaiting_region(),
        weekly=overview.next_weekly(),
        digests=digests,
        figures=sent_and_failed([digest.id for digest in digests]),
        **_trend(list(digests)),
        **leavers_panel(),
    )


def _trend(digests: list[Digest]) -> dict[str, Any]:
    """The last editions' readership, as two charts and their table."""
    trend = overview.edition_trend(digests)
    labels = [f"#{row.digest.id}" for row in trend]
    per_thousand = Series(
        _("Clicks per 1,000 delivered"), tuple(round(r.per_thousand) for r in trend)
    )
    left = [
        Series(_("Unsubscribes"), tuple(r.unsubscribed for r in trend)),
        Series(_("Complaints"), tuple(r.complained for r in trend)),
    ]
    return {
        "trend": trend,
        "clicks_chart": line_chart(_("Clicks per 1,000 letters delivered"), labels, [per_thousand]),
        "leavers_chart": line_chart(_("Readers who left after each edition"), labels, left),
    }
