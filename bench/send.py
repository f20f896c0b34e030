"""Benchmark: plan and send one digest to N readers through the real path, beside smtp-source.

    .venv/bin/python bench/send.py --readers 100000

Real path: PostgreSQL, Redis as the broker, WORKERS Celery worker processes, the digests'
DigestComposer (about 20 KB of HTML per message), pipelined SMTP into Postfix's smtp-sink on
loopback. Then smtp-source sends as many messages of the same size into the same sink with
the same number of reused connections: the ceiling. Prints planning time, messages/s, CPU per
message (render / build / SMTP / database), peak RSS per worker, and the ratio to the ceiling.
Needs postfix's smtp-sink and smtp-source (apt-get install postfix), PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
CELERY = str(Path(sys.executable).with_name("celery"))
BATCH = re.compile(r"delivery\.batch .*?rows=(\d+) (.*?) seconds=([\d.]+) (cpu_.*?) rss_kb=(\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--articles-per-region", type=int, default=3)
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1:5432/newsletter_bench"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--port", type=int, default=2526)
    parser.add_argument("--group-size", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--plan-only", action="store_true", help="measure planning only (e.g. 1,000,000 rows)"
    )
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-send-"))
    url = fresh_database(args.database)
    env = worker_env(args, url, instance)
    os.environ.update(env)
    from newsletter.app import create_app

    app = create_app(instance_path=instance)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        digest_id, size = seed(args.readers, args.articles_per_region)
    print(f"readers {args.readers}, workers {args.workers}, average message {size / 1024:.1f} KB")
    if args.plan_only:
        with app.app_context():
            measure_planning(app, digest_id, args.readers)
        return

    sink = subprocess.Popen([SINK, "-u", "nobody", f"127.0.0.1:{args.port}", "1024"])
    time.sleep(0.5)
    # The ceiling is measured just before and just after our send: these machines drift.
    before = smtp_source(args.port, args.readers, size, args.workers)
    logs = [instance / f"worker{i}.log" for i in range(args.workers)]
    workers = [
        subprocess.Popen(
            [
                CELERY,
                "-A",
                "worker.celery_app:celery",
                "worker",
                "--pool=solo",
                "-l",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"b{i}@%h",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i, log in enumerate(logs)
    ]
    try:
        time.sleep(4)  # let the workers connect
        with app.app_context():
            from newsletter.delivery import digest_progress, plan_deliveries

            started = time.monotonic()
            plan_deliveries(digest_id)
            planned = time.monotonic() - started
            print(f"planning: {planned:.2f} s for {args.readers} rows (one INSERT … SELECT)")
            wait_finished(app, digest_id)
            sent_seconds = time.monotonic() - started - planned
            progress = digest_progress(digest_id)
        sent = progress["sent"]
        print(f"ledger: {', '.join(f'{k} {v}' for k, v in progress.items() if v)}")
        rate = sent / sent_seconds
        print(f"sending: {sent} messages in {sent_seconds:.1f} s = {rate:.0f} messages/s")
        report_workers(logs, sent)
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            proc.wait(timeout=30)
    after = smtp_source(args.port, args.readers, size, args.workers)
    sink.send_signal(signal.SIGTERM)
    sink.wait()
    ceiling = (before + after) / 2
    print(
        f"smtp-source -s {args.workers} -d -l {size} -m {args.readers}: {before:.0f} before, "
        f"{after:.0f} after, mean {ceiling:.0f} messages/s; ours is {rate / ceiling:.1%} of it"
    )


def measure_planning(app: object, digest_id: int, readers: int) -> None:
    from newsletter.delivery import digest_progress, plan_deliveries

    task = app.extensions["celery"].tasks["delivery.drain"]  # type: ignore[attr-defined]
    task.apply_async = lambda *a, **k: None  # planning only: no drains
    started = time.monotonic()
    plan_deliveries(digest_id)
    planned = time.monotonic() - started
    print(f"planning: {planned:.2f} s for {readers} rows (one INSERT … SELECT)")
    print(f"ledger: {', '.join(f'{k} {v}' for k, v in digest_progress(digest_id).items() if v)}")


def fresh_database(url: str) -> str:
    server = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{server.database}"'))
    admin.dispose()
    return server.render_as_string(hide_password=False)


def worker_env(args: argparse.Namespace, url: str, instance: Path) -> dict[str, str]:
    return {
        "NEWSLETTER_ENV": "production",
        "SECRET_KEY": "bench-secret-key-bench-secret-key",
        "BASE_URL": "https://www.revue-internationale.example",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis,
        "SMTP_URL": f"smtp://127.0.0.1:{args.port}",
        "INSTANCE_PATH": str(instance),
        "SEND_RATE_PER_SECOND": "0",
        "SEND_PARALLEL": str(args.workers),
        "SEND_GROUP_SIZE": str(args.group_size),
        "SEND_GROUPS_IN_FLIGHT": str(args.in_flight),
        "SEND_BATCH_SIZE": str(args.batch_size),
        "PYTHONPATH": str(ROOT),
    }


def seed(readers: int, per_region: int) -> tuple[int, int]:
    """Readers over all 127 region sets and both languages, articles, a digest; mean size."""
    from newsletter.models import Article, Digest, DigestKind, Region, db

    now = datetime.now(UTC)
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars().all()
    lead = (
        "Les pourparlers reprennent à Genève entre les délégations, sur fond de tensions "
        "à la frontière et de sanctions économiques qui pèsent sur les deux camps. "
    )
    for n, region in enumerate(regions):
        for k in range(per_region):
            db.session.add(
                Article(
                    guid=f"bench-{region.slug}-{k}",
                    url=f"https://www.revue-internationale.example/{region.slug}/article-{k}",
                    title=f"{region.name_fr} : un tournant diplomatique ({k})",
                    lead=lead * 2,
                    author="Etienne Dhuit",
                    published_at=now - timedelta(hours=n * per_region + k + 1),
                    regions=[region],
                )
            )
    digest = Digest(
        edition_key=f"bench-{int(time.time())}",
        kind=DigestKind.SPECIAL,
        window_start=now - timedelta(days=7),
        window_end=now,
    )
    db.session.add(digest)
    db.session.commit()
    db.session.execute(
        sa.text(
            """
            INSERT INTO subscribers (email, name, language, status, paused, token_nonce,
                                     hard_bounces, created_at, updated_at, confirmed_at)
            SELECT 'reader' || i || '@example.org',
                   CASE WHEN i % 3 = 0 THEN NULL ELSE 'Lecteur ' || i END,
                   CASE WHEN i % 2 = 1 THEN 'en' ELSE 'fr' END,
                   'confirmed', false, 'n' || i, 0,
                   now() - interval '30 days', now() - interval '30 days',
                   now() - interval '30 days'
            FROM generate_series(1, :n) AS i
            """
        ),
        {"n": readers},
    )
    db.session.execute(
        sa.text(
            """
            INSERT INTO subscriber_regions (subscriber_id, region_id)
            SELECT s.id, r.id
            FROM subscribers s
            JOIN (SELECT id, row_number() OVER (ORDER BY position) - 1 AS bit FROM regions) r
              ON ((s.id % 127 + 1) >> r.bit::int) & 1 = 1
            """
        )
    )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return digest.id, mean_size(digest.id)


def mean_size(digest_id: int) -> int:
    from newsletter.digests.compose import DigestComposer

    composer = DigestComposer.load(digest_id)
    slugs = [
        r
        for r in (
            "union-europeenne",
            "russie",
            "ameriques",
            "asie",
            "afrique",
            "moyen-orient",
            "monde-de-demain",
        )
    ]
    sizes = []
    for combo in range(1, 128):
        chosen = tuple(s for bit, s in enumerate(slugs) if combo & (1 << bit))
        for language in ("fr", "en"):
            body = composer.body_for(chosen, language)
            if body is not None:
                data = composer.message_for(
                    body,
                    email="reader@example.org",
                    name="Lecteur",
                    subscriber_id=1,
                    message_id="<bench@revue-internationale.example>",
                )
                sizes.append(len(data))
    return int(sum(sizes) / len(sizes))


def wait_finished(app: object, digest_id: int) -> None:
    from newsletter.delivery.reconcile import reconcile
    from newsletter.models import Digest, DigestStatus, db

    last = time.monotonic()
    while True:
        status = db.session.execute(
            sa.select(Digest.status).where(Digest.id == digest_id)
        ).scalar_one()
        db.session.rollback()
        if status is DigestStatus.FINISHED:
            return
        if time.monotonic() - last > 60:  # beat's job, in case a drain was lost
            reconcile()
            last = time.monotonic()
        time.sleep(0.2)


def report_workers(logs: list[Path], sent: int) -> None:
    cpu: dict[str, float] = defaultdict(float)
    for i, log in enumerate(logs):
        text = log.read_text(errors="replace")
        for match in BATCH.finditer(text):
            for part in match.group(4).split():
                name, value = part.split("=")
                cpu[name] += float(value)
        rss = max((int(kb) for kb in re.findall(r"rss_kb=(\d+)", text)), default=0)
        print(f"worker {i}: peak RSS {rss / 1024:.0f} MB")
    total = sum(cpu.values())
    split = "  ".join(f"{k[4:]} {1e6 * v / sent:.0f}" for k, v in cpu.items())
    print(f"CPU per message (µs): {split}  total {1e6 * total / sent:.0f}")


def smtp_source(port: int, count: int, size: int, sessions: int) -> float:
    started = time.monotonic()
    subprocess.run(
        [SOURCE, "-s", str(sessions), "-d", "-l", str(size), "-m", str(count), f"127.0.0.1:{port}"],
        check=True,
    )
    return count / (time.monotonic() - started)


if __name__ == "__main__":
    main()
