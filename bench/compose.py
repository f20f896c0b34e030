"""Print how long DigestComposer takes: one body per (regions, language), one message per reader.

    .venv/bin/python bench/compose.py [readers] [dkim-key.pem]

Runs on a throwaway SQLite database with the sample feed; prints milliseconds per call.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from newsletter.app import create_app
from newsletter.digests.compose import DigestComposer
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Digest, DigestKind, db

ROOT = Path(__file__).resolve().parents[1]
FEED = ROOT / "tests" / "fixtures" / "revue-internationale-sample.rss"
COMBINATIONS = (
    ("russie",),
    ("afrique", "moyen-orient"),
    ("union-europeenne", "russie"),
    ("union-europeenne", "russie", "ameriques", "afrique", "moyen-orient", "monde-de-demain"),
)


def main(readers: int, dkim_key: str = "") -> None:
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "NEWSLETTER_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
            "SECRET_KEY": "bench",
            "BASE_URL": "https://lettre.example",
            "DKIM_SELECTOR": "bench" if dkim_key else "",
            "DKIM_PRIVATE_KEY_PATH": dkim_key,
        },
        instance_path=folder,
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        ingest_file(FEED)
        digest = Digest(
            edition_key="bench",
            kind=DigestKind.WEEKLY,
            window_start=datetime(2021, 12, 1, tzinfo=UTC),
            window_end=datetime(2022, 6, 1, tzinfo=UTC),
        )
        db.session.add(digest)
        db.session.commit()
        started = time.perf_counter()
        composer = DigestComposer.load(digest.id)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        bodies = [composer.body_for(c, lang) for c in COMBINATIONS for lang in ("fr", "en")]
        rendered = (time.perf_counter() - started) / len(bodies)
        body = bodies[-1]
        assert body is not None
        started = time.perf_counter()
        size = 0
        for n in range(readers):
            size = len(
                composer.message_for(
                    body,
                    email=f"reader{n}@example.org",
                    name="Zoé Dupont",
                    subscriber_id=n + 1,
                    message_id=f"<bench.{n}@lettre.example>",
                )
            )
        per_message = (time.perf_counter() - started) / readers
    print(f"load: {loaded * 1000:.1f} ms (once per digest)")
    articles = len(body.article_ids)
    print(f"body_for: {rendered * 1000:.1f} ms per (regions, language), {articles} articles")
    signed = ", DKIM-signed" if dkim_key else ""
    print(f"message_for: {per_message * 1000:.2f} ms per reader ({size} bytes{signed})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, *sys.argv[2:3])
