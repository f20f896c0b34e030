"""The rendered French and English digests, compared byte for byte with saved snapshots.

To regenerate after a deliberate change of the templates, run
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/digests/test_snapshots.py
and review the diff of tests/digests/snapshots/ before committing it.

Frozen: the window (fixed dates, so the week number and article dates are fixed), the reader's
links and name (fixed strings), and the view-in-browser link (it signs the digest's id).
The Date header is not part of a snapshot: only the subject and the two parts are.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from newsletter.digests.compose import DigestComposer
from newsletter.models import Article, Digest, DigestKind, db

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
REGIONS = ("union-europeenne", "russie", "afrique", "moyen-orient")


def weekly(**extra: object) -> Digest:
    digest = Digest(
        edition_key="weekly-2022-W20",
        kind=DigestKind.WEEKLY,
        window_start=datetime(2022, 4, 25, 5, 0, tzinfo=UTC),
        window_end=datetime(2022, 5, 23, 5, 0, tzinfo=UTC),
        **extra,
    )
    db.session.add(digest)
    db.session.commit()
    return digest


def rendered(digest: Digest, language: str, name: str | None) -> str:
    composer = DigestComposer.load(digest.id)
    body = composer.body_for(REGIONS, language)
    assert body is not None
    text, html = composer.personalise(
        body,
        unsubscribe_url="https://lettre.example/unsubscribe/TOKEN",
        manage_url="https://lettre.example/manage/TOKEN",
        name=name,
    )
    frozen = lambda part: part.replace(body.view_url, "https://lettre.example/view/TOKEN")  # noqa: E731
    return f"Subject: {body.subject}\n\n{frozen(text)}\n{'=' * 72}\n{frozen(html)}\n"


def check(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it"
    assert actual == path.read_bytes().decode("utf-8"), (
        f"{name} differs from its snapshot; if the change is intended, regenerate it "
        "with UPDATE_SNAPSHOTS=1 and review the diff"
    )


@pytest.mark.parametrize(("language", "name"), [("fr", "Zoé"), ("en", None)])
def test_the_weekly_digest_renders_as_its_snapshot(
    app: Flask, sample_articles: None, language: str, name: str | None
) -> None:
    check(f"weekly-{language}.txt", rendered(weekly(), language, name))


def test_a_special_edition_with_an_intro_and_a_top_story_renders_as_its_snapshot(
    app: Flask, sample_articles: None
) -> None:
    pinned = db.session.execute(
        db.select(Article).where(Article.title.like("Otages en Iran%"))
    ).scalar_one()
    digest = weekly(
        intro="Une édition consacrée à la guerre en Ukraine.\n\nBonne lecture.",
        pinned_article_id=pinned.id,
    )
    digest.kind = DigestKind.SPECIAL
    db.session.commit()

    check("special-fr.txt", rendered(digest, "fr", "Zoé"))
