"""The `newsletter` command: editors, API tokens and demo data."""

from __future__ import annotations

from flask import Flask

from newsletter.admin.accounts import editor_for_token, find_editor
from newsletter.models import ApiToken, Article, Region, db


def test_editors_create_with_a_generated_password_prints_a_working_one(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["editors", "create", "Redaction@Example.COM", "--generate"]
    )
    assert result.exit_code == 0, result.output
    assert "Created editor redaction@example.com" in result.output
    password = result.output.split("Password: ")[1].strip()
    editor = find_editor("redaction@example.com")
    assert editor is not None and editor.check_password(password)
    assert password not in editor.password_hash


def test_editors_create_prompts_for_the_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["editors", "create", "chef@example.com"], input="s3cret-pass\ns3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    editor = find_editor("chef@example.com")
    assert editor is not None and editor.check_password("s3cret-pass")


def test_editors_create_rejects_a_malformed_address(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["editors", "create", "not-an-address", "--generate"]
    )
    assert result.exit_code == 2
    assert "EMAIL" in result.output


def test_tokens_create_prints_a_token_once_and_stores_only_its_hash(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["editors", "create", "chef@example.com", "--password", "long-enough"])
    result = runner.invoke(args=["tokens", "create", "chef@example.com", "--name", "site"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    stored = db.session.execute(db.select(ApiToken)).scalar_one()
    assert token not in stored.token_hash
    editor = editor_for_token(token)
    assert editor is not None and editor.email == "chef@example.com"
    assert editor_for_token(token + "x") is None


def test_tokens_create_for_an_unknown_editor_fails_clearly(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["tokens", "create", "nobody@example.com"])
    assert result.exit_code == 2
    assert "no editor nobody@example.com" in result.output


def test_demo_load_imports_the_sample_articles_and_can_run_twice(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    second = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "8 new" in first.output
    assert "0 new, 0 updated, 8 unchanged" in second.output
    assert first.output.splitlines()[-1] == second.output.splitlines()[-1]  # same login
    assert db.session.execute(db.select(db.func.count()).select_from(Article)).scalar_one() == 8
    russie = db.session.execute(db.select(Region).where(Region.slug == "russie")).scalar_one()
    titles = db.session.execute(
        db.select(Article.title).where(Article.regions.contains(russie))
    ).scalars()
    assert "Fin de la bataille d’Azovstal" in set(titles)
