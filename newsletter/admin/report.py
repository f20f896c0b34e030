"""An edition's report as the console shows it, and as its page polls it while sending.

The counts come from `delivery.progress.progress_of`, as on the CLI and the API, so every view
of a sending says the same numbers. Read only: nothing here writes a delivery.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from newsletter import ledger
from newsletter.admin.charts import Series, bar_chart, line_chart
from newsletter.admin.labels import moment, region_name, status_label, zone
from newsletter.clicks import figures
from newsletter.clicks.refs import TOP
from newsletter.delivery import rate_history
from newsletter.delivery.progress import progress_of
from newsletter.models import OPEN_STATES, Delivery, DeliveryState, Digest, DigestStatus, db

# (key, label) in the order of the report's table; the page's script fills the cells by key.
COUNTS = (
    ("planned", _l("Planned")),
    ("sent", _l("Sent")),
    ("skipped", _l("Nothing new")),
    ("failed", _l("Failed")),
    ("bounced", _l("of which hard bounces")),
    ("uncertain", _l("Uncertain")),
    ("pending", _l("Waiting")),
    ("sending", _l("In progress")),
    ("deferred", _l("Deferred")),
    ("expired", _l("Expired")),
    ("cancelled", _l("Cancelled")),
)
# Distinct relay replies read for the reasons: failures by the thousand share a few replies,
# and the rest is counted as "other replies" rather than read row by row at every poll.
REPLY_GROUPS = 50
_STATES = {state.value for state in DeliveryState}
_WAITING = {state.value for state in OPEN_STATES}
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


@dataclass(frozen=True)
class Reason:
    code: int | None
    reply: str
    count: int


@dataclass(frozen=True)
class Reasons:
    shown: list[Reason]
    others: int  # failures whose reply is not among the shown groups


def failure_reasons(digest_id: int) -> Reasons:
    """The relay's replies to the failed rows, grouped, most frequent first.

    A reply naming its recipient ("550 5.1.1 <lea@…>: unknown") is grouped without the
    address: the reason, not the reader, is what editors act on.
    """
    count = sa.func.count().label("n")
    rows = db.session.execute(
        sa.select(Delivery.smtp_code, Delivery.smtp_reply, count)
        .where(Delivery.digest_id == digest_id, Delivery.state == DeliveryState.FAILED)
        .group_by(Delivery.smtp_code, Delivery.smtp_reply)
        .order_by(count.desc(), Delivery.smtp_code)
        .limit(REPLY_GROUPS)
    ).all()
    merged: Counter[tuple[int | None, str]] = Counter()
    for code, reply, n in rows:
        merged[(code, _ADDRESS.sub("<…>", reply or "").strip())] += n
    total = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(Delivery.digest_id == digest_id, Delivery.state == DeliveryState.FAILED)
    ).scalar_one()
    shown = [Reason(code, reply, n) for (code, reply), n in merged.most_common()]
    return Reasons(shown, total - sum(reason.count for reason in shown))


def counts_of(digest: Digest) -> dict[str, int]:
    """Every figure of the report by key: the API's summary, and each other state apart."""
    progress = progress_of(digest)
    counts = {str(state): n for state, n in progress.counts.items()}
    counts.update(progress.summary())
    counts.pop("other", None)
    return counts


def percent_done(counts: dict[str, int], status: DigestStatus) -> int:
    """Rows no longer waiting, in whole percent of the rows planned (100 only when all are)."""
    total = sum(n for key, n in counts.items() if key in _STATES)
    waiting = sum(n for key, n in counts.items() if key in _WAITING)
    if total == 0:
        return 100 if status in (DigestStatus.FINISHED, DigestStatus.CANCELLED) else 0
    return (total - waiting) * 100 // total


def controls(status: DigestStatus) -> dict[str, bool]:
    """Which of pause, resume and cancel apply to an edition in this status."""
    return {
        "pause": status is DigestStatus.SENDING,
        "resume": status is DigestStatus.PAUSED,
        "cancel": status in (DigestStatus.PLANNED, DigestStatus.SENDING, DigestStatus.PAUSED),
    }


def live_report(digest: Digest) -> dict[str, object]:
    """What the edition's page shows and refreshes: status, counts, percent, reasons."""
    counts = counts_of(digest)
    reasons = failure_reasons(digest.id)
    return {
        "id": digest.id,
        "status": digest.status.value,
        "status_label": status_label(digest.status),
        "ended": digest.status in (DigestStatus.FINISHED, DigestStatus.CANCELLED),
        "pause_reason": digest.pause_reason,
        "counts": counts,
        "percent": percent_done(counts, digest.status),
        "reasons": [asdict(reason) for reason in reasons.shown],
        "other_reasons": reasons.others,
        "controls": controls(digest.status),
    }


def sent_and_failed(digest_ids: list[int]) -> dict[int, dict[str, int]]:
    """Sent and failed rows of these editions (a finished one's from its tally)."""
    return ledger.state_counts(digest_ids, (DeliveryState.SENT, DeliveryState.FAILED))


# Articles shown in the report's chart of the most-read; the table lists every clicked one.
TOP_ARTICLES = 10


@dataclass(frozen=True)
class SectionRow:
    name: str
    clicks: int
    delivered: int
    per_thousand: float


@dataclass(frozen=True)
class ArticleRow:
    title: str
    clicks: int
    per_thousand: float
    # (section's name, clicks, per 1,000 letters with that section) in the letter's order
    sections: list[tuple[str, int, float]]


@dataclass(frozen=True)
class ClickReport:
    """What the edition's page says after its sending: clicks, delivered, who left after it."""

    counting: bool  # CLICK_COUNTING: off, the letters carry plain links and nothing counts
    delivered: int
    clicks: int
    per_thousand: float
    leavers: figures.Leavers
    articles: list[ArticleRow]
    sections: list[SectionRow]
    articles_chart: Markup
    sections_chart: Markup
    send_rates: list[RateReport]  # the sending's adaptive rates: empty if nothing throttled


@dataclass(frozen=True)
class RateRow:
    minute: str  # "1 déc. 2026, 14:05", the newsroom's clock
    rate: float | None  # messages per second allowed; None: not limited that minute
    sent: int
    throttled: int


@dataclass(frozen=True)
class RateReport:
    """One key (the relay, or a domain) slowed down during the sending: the rate over time."""

    name: str
    chart: Markup
    rows: list[RateRow]


def rate_report(digest_id: int) -> list[RateReport]:
    reports = []
    for key, samples in rate_history.history(digest_id).items():
        name = _("the relay") if key == "relay" else key.removeprefix("domain:")
        rates = [round(s.rate) for s in samples]
        chart = line_chart(
            _("Messages per second allowed to %(name)s", name=name),
            [s.minute.astimezone(zone()).strftime("%H:%M") for s in samples],
            [Series(_("Messages per second"), tuple(rates))],
        )
        rows = [
            RateRow(moment(s.minute), round(s.rate, 1) or None, s.sent, s.throttled)
            for s in samples
        ]
        reports.append(RateReport(name, chart, rows))
    return reports


def section_name(section: str) -> str:
    return _("Top story") if section == TOP else region_name(section)


def click_report(digest: Digest) -> ClickReport:
    delivered = figures.delivered([digest.id])[digest.id]
    clicked = figures.article_clicks(digest.id)
    sections = figures.section_clicks(digest.id, clicked)
    order = [s.section for s in sections]
    letters = {s.section: s.delivered for s in sections}
    articles = [
        ArticleRow(
            title=article.title or _("(article removed)"),
            clicks=article.total,
            per_thousand=figures.per_thousand(article.total, delivered),
            sections=[
                (
                    section_name(section),
                    article.by_section[section],
                    figures.per_thousand(article.by_section[section], letters.get(section, 0)),
                )
                for section in sorted(article.by_section, key=_position(order))
            ],
        )
        for article in clicked
    ]
    section_rows = [
        SectionRow(
            section_name(s.section),
            s.clicks,
            s.delivered,
            figures.per_thousand(s.clicks, s.delivered),
        )
        for s in sections
    ]
    total = sum(article.clicks for article in articles)
    return ClickReport(
        counting=bool(current_app.config["CLICK_COUNTING"]),
        delivered=delivered,
        clicks=total,
        per_thousand=figures.per_thousand(total, delivered),
        leavers=figures.leavers([digest.id])[digest.id],
        articles=articles,
        sections=section_rows,
        articles_chart=bar_chart(
            _("Most-read articles (clicks)"),
            [(_short(a.title), a.clicks) for a in articles[:TOP_ARTICLES]],
        ),
        sections_chart=bar_chart(
            _("Clicks per section of the letter"), [(s.name, s.clicks) for s in section_rows]
        ),
        send_rates=rate_report(digest.id),
    )


def _position(order: list[str]) -> Callable[[str], int]:
    return lambda section: order.index(section) if section in order else len(order)


def _short(title: str, limit: int = 26) -> str:
    """A bar's label: the chart's left margin holds about this many characters."""
    return title if len(title) <= limit else title[: limit - 1] + "…"
