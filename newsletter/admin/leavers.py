"""The dashboard's "why readers leave": answers per reason over twelve months, as a chart and
its table, and the latest comments.

Comments are shown to admins only: readers write what they like in them, and some write their
name, their address or their health. Counts are for every editor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from flask import g
from flask_babel import gettext as _

from newsletter.admin import overview
from newsletter.admin.charts import Series, line_chart
from newsletter.admin.labels import language, zone
from newsletter.subscriptions.leaving import REASONS


def month_label(month: date) -> str:
    """ "déc. 2026" / "Dec 2026"."""
    return format_date(month, "MMM y", locale=language())


def leavers_panel() -> dict[str, Any]:
    """What dashboard.html's reasons section needs."""
    this_month = datetime.now(zone()).date().replace(day=1)
    figures = overview.leave_reasons(this_month=this_month)
    labels = [month_label(month) for month in figures.months]
    series = [Series(str(label), tuple(figures.counts[reason])) for reason, label in REASONS]
    editor = g.get("editor")
    return {
        "leave_reasons": figures,
        "leave_reason_labels": [(reason.value, label) for reason, label in REASONS],
        "leave_month_labels": labels,
        "leave_chart": line_chart(_("Why readers leave, month by month"), labels, series),
        "leave_comments": overview.leave_comments() if editor and editor.is_admin else None,
        "reason_names": dict(REASONS),
        "month_label": month_label,
    }
