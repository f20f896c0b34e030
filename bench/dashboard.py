"""Benchmark: the editors' dashboard with N confirmed readers on PostgreSQL.

    .venv/bin/python bench/dashboard.py --readers 100000
    .venv/bin/python bench/dashboard.py --readers 100000 --editions 12

With --editions E, E finished weekly editions are seeded first, each with one `sent` letter
per reader (its sections recorded), clicks, and 0.2 % of readers leaving from it (half by its
link, a tenth of those by complaint): then the pages that count an edition's letters are timed
too (the editions list, an edition's page and its readership figures, the dashboard's trend).

Seeds readers over all 127 region sets (bench/send.py's seed), logs an admin in, then times
GET /admin/ (the whole page) and its heaviest parts one by one: the next weekly edition as it
would leave now (a dry run over every confirmed reader), readers week by week, confirmed readers
per region. Prints the median and the worst of --rounds runs of each.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _send_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_send", ROOT / "bench" / "send.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(rounds: int, call: Callable[[], object]) -> tuple[float, float]:
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), max(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--editions", type=int, default=0)
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1:5432/newsletter_bench_dash"
    )
    args = parser.parse_args()
    send = _send_module()
    instance = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    os.environ.update(
        {
            "SECRET_KEY": "bench-secret-key-bench-secret-key",
            "DATABASE_URL": send.fresh_database(args.database),
            "INSTANCE_PATH": str(instance),
            "BASE_URL": "https://www.revue-internationale.example",
        }
    )
    from flask_migrate import upgrade

    from newsletter.admin import overview
    from newsletter.app import create_app
    from newsletter.models import Editor, db

    app = create_app(instance_path=instance)
    with app.app_context():
        upgrade()
        send.seed(args.readers, 3)
        if args.editions:
            started = time.perf_counter()
            seed_editions(args.editions)
            print(f"seeded {args.editions} editions in {time.perf_counter() - started:.1f} s")
        editor = Editor(email="chef@revue-internationale.example", is_admin=True)
        editor.set_password("a long enough password")
        db.session.add(editor)
        db.session.commit()

        client = app.test_client()
        login = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
        assert token, "no CSRF token on the login page"
        client.post(
            "/admin/login",
            data={
                "csrf_token": token.group(1),
                "email": editor.email,
                "password": "a long enough password",
            },
        )
        assert client.get("/admin/").status_code == 200

        print(f"readers {args.readers}, rounds {args.rounds}, PostgreSQL")
        parts: list[tuple[str, Callable[[], object]]] = [
            ("GET /admin/ (whole page)", lambda: _page(client, "/admin/")),
            ("next weekly (dry run)", overview.next_weekly),
            ("readers week by week", overview.weekly_flows),
            ("confirmed per region", overview.confirmed_per_region),
        ]
        if args.editions:
            parts += edition_parts(client)
        for name, call in parts:
            median, worst = timed(args.rounds, call)
            print(f"{name:28} median {median * 1000:8.1f} ms   worst {worst * 1000:8.1f} ms")


def seed_editions(count: int) -> None:
    """`count` finished weekly editions, one week apart, each sent to every reader."""
    import sqlalchemy as sa

    from newsletter import ledger
    from newsletter.models import Digest, DigestKind, DigestStatus, db

    now = datetime.now(UTC)
    for week in range(count, 0, -1):
        end = now - timedelta(days=7 * week)
        digest = Digest(
            edition_key=f"weekly-bench-{week}",
            kind=DigestKind.WEEKLY,
            window_start=end - timedelta(days=7),
            window_end=end,
            status=DigestStatus.FINISHED,
            started_at=end,
            finished_at=end + timedelta(hours=1),
        )
        db.session.add(digest)
        db.session.commit()
        sent = {"d": digest.id, "at": end + timedelta(minutes=30)}
        db.session.execute(
            sa.text(
                """
                INSERT INTO deliveries (digest_id, subscriber_id, state, attempts,
                                        next_attempt_at, created_at, sent_at, finished_at,
                                        sections)
                SELECT :d, s.id, 'sent', 1, :at, :at, :at, :at,
                       (SELECT coalesce(sum(CAST(1 AS bigint) << sr.region_id), 0) + 1
                        FROM subscriber_regions AS sr WHERE sr.subscriber_id = s.id)
                FROM subscribers AS s
                """
            ),
            sent,
        )
        db.session.execute(
            sa.text(
                """
                INSERT INTO click_counts (digest_id, article_id, section, clicks)
                SELECT :d, a.id, r.slug, 50 + a.id
                FROM articles AS a JOIN article_regions AS ar ON ar.article_id = a.id
                JOIN regions AS r ON r.id = ar.region_id
                """
            ),
            {"d": digest.id},
        )
        db.session.execute(
            sa.text(
                """
                INSERT INTO consent_events (subscriber_id, kind, at, source, detail, digest_id)
                SELECT s.id, CASE WHEN s.id % 10 = 0 THEN 'complaint' ELSE 'unsubscribe' END,
                       CAST(:at AS timestamptz) + interval '1 day', 'one-click', '{}',
                       CASE WHEN s.id % 2 = 0 THEN :d END
                FROM subscribers AS s WHERE s.id % 500 = :w
                """
            ),
            {**sent, "w": week},
        )
        db.session.commit()
        with db.engine.begin() as conn:  # as the ledger does when it finishes an edition
            ledger.tally.store(conn, digest.id)
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _page(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)


def edition_parts(client: Any) -> list[tuple[str, Callable[[], object]]]:
    """The pages and figures that count an edition's letters."""
    import sqlalchemy as sa

    from newsletter.admin import overview
    from newsletter.clicks import figures
    from newsletter.models import Digest, db

    latest = db.session.execute(sa.select(sa.func.max(Digest.id))).scalar_one()
    recent = list(
        db.session.execute(sa.select(Digest).order_by(Digest.id.desc()).limit(12)).scalars()
    )
    ids = [d.id for d in recent]
    return [
        ("GET /admin/digests (list)", lambda: _page(client, "/admin/digests")),
        (f"GET /admin/digests/{latest}", lambda: _page(client, f"/admin/digests/{latest}")),
        ("edition trend (12)", lambda: overview.edition_trend(recent)),
        ("  delivered (12)", lambda: figures.delivered(ids)),
        ("  leavers (12)", lambda: figures.leavers(ids)),
        ("letters per section (1)", lambda: figures.section_clicks(latest, [])),
    ]


if __name__ == "__main__":
    main()
