"""The dashboard's "why readers leave": answers per reason over twelve months as a chart and a
table; the latest comments, escaped, for admins only."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.overview import leave_reasons
from newsletter.models import Editor, LeaveComment, LeaveReason, LeaveReasonCount, db
from tests.support.editors import log_in_editor


def this_month() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date().replace(day=1)


def months_ago(n: int) -> date:
    month = this_month()
    total = month.year * 12 + month.month - 1 - n
    return date(total // 12, total % 12 + 1, 1)


def seed() -> None:
    db.session.add_all(
        [
            LeaveReasonCount(month=this_month(), reason=LeaveReason.TOO_MANY, count=7),
            LeaveReasonCount(month=this_month(), reason=LeaveReason.NOT_MY_REGIONS, count=3),
            LeaveReasonCount(month=months_ago(11), reason=LeaveReason.OTHER, count=2),
            LeaveReasonCount(month=months_ago(12), reason=LeaveReason.TOO_MANY, count=99),
            LeaveComment(
                month=this_month(),
                reason=LeaveReason.OTHER,
                comment='<script>alert("x")</script> trop de mails',
            ),
        ]
    )
    db.session.commit()


def rows(page: str) -> list[tuple[str, list[int]]]:
    start = page.index('class="list leave-reasons"')
    table = page[start : page.index("</table>", start)]
    found = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table)
    return [(month, [int(n) for n in re.findall(r">(\d+)<", cells)]) for month, cells in found]


def test_editors_see_answers_per_reason_over_the_last_twelve_months(
    app: Flask, client: FlaskClient
) -> None:
    seed()
    log_in_editor(client)
    page = client.get("/admin/").get_data(as_text=True)

    table = rows(page)
    assert len(table) == 12
    # Columns: too many, not my regions, not interesting, another reason.
    assert table[-1][1] == [7, 3, 0, 0]
    assert table[0][1] == [0, 0, 0, 2]
    assert all(counts != [99, 0, 0, 0] for _, counts in table)  # thirteen months ago: out
    assert "Pourquoi les lecteurs partent" in page and "Trop d'e-mails" in page
    assert page.count('<svg class="chart"') >= 3 and "style=" not in page
    assert "trop de mails" not in page  # comments are for admins


def test_admins_see_the_latest_comments_escaped(app: Flask, client: FlaskClient) -> None:
    seed()
    log_in_editor(client)
    editor = db.session.execute(db.select(Editor)).scalar_one()
    editor.is_admin = True
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)

    assert "Derniers commentaires" in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; trop de mails" in page
    assert '<script>alert("x")' not in page


def test_the_twelve_months_end_with_this_month_across_a_new_year(app: Flask) -> None:
    figures = leave_reasons(this_month=date(2027, 2, 1))
    assert figures.months[0] == date(2026, 3, 1)
    assert figures.months[-1] == date(2027, 2, 1)
    assert len(set(figures.months)) == 12
