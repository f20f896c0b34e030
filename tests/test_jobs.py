"""Tasks leave only after the commit that decided them, and never after a rollback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import shared_task
from flask import Flask

from newsletter.jobs import enqueue
from newsletter.models import Editor, db

RAN: list[int] = []


@shared_task(name="tests.record")
def record(value: int) -> None:
    # Runs in its own app context and session: it sees only committed data.
    RAN.append(db.session.execute(db.select(db.func.count()).select_from(Editor)).scalar_one())
    RAN.append(value)


@pytest.fixture
def ran() -> Iterator[list[int]]:
    RAN.clear()
    yield RAN
    RAN.clear()


def test_a_job_runs_after_commit_and_sees_the_committed_rows(app: Flask, ran: list[int]) -> None:
    db.session.add(Editor(email="a@example.com", password_hash="x"))
    enqueue("tests.record", 7)
    assert ran == []  # not before the commit
    db.session.commit()
    assert ran == [1, 7]


def test_a_job_is_dropped_when_the_transaction_rolls_back(app: Flask, ran: list[int]) -> None:
    db.session.add(Editor(email="a@example.com", password_hash="x"))
    enqueue("tests.record", 7)
    db.session.rollback()
    db.session.commit()
    assert ran == []
