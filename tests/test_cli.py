"""The `newsletter` command: editors, API tokens and demo data."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from newsletter.admin.accounts import editor_for_token, find_editor
from newsletter.delivery.cli import _program
from newsletter.models import ApiToken, db


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


def test_editors_list_shows_each_editor_and_whether_they_may_log_in(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["editors", "create", "chef@example.com", "--password", "long-enough"])
    runner.invoke(args=["editors", "create", "ancien@example.com", "--password", "long-enough"])
    runner.invoke(args=["editors", "deactivate", "ancien@example.com"])
    result = runner.invoke(args=["editors", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["ancien@example.com", "chef@example.com"]
    assert "inactive" in lines[0] and " active" in lines[1]
    assert "last login never" in lines[1]
    assert "long-enough" not in result.output


def test_editors_deactivate_refuses_the_editors_tokens(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["editors", "create", "chef@example.com", "--password", "long-enough"])
    token = runner.invoke(args=["tokens", "create", "chef@example.com"]).output.strip()
    result = runner.invoke(args=["editors", "deactivate", "Chef@example.com"])
    assert result.exit_code == 0, result.output
    assert "Deactivated editor chef@example.com" in result.output
    assert editor_for_token(token) is None
    again = runner.invoke(args=["editors", "deactivate", "chef@example.com"])
    assert again.exit_code == 0 and "already inactive" in again.output


def test_editors_deactivate_an_unknown_address_is_one_clear_line(app: Flask) -> None:
    for email in ("nobody@example.com", "not-an-address"):
        result = app.test_cli_runner().invoke(args=["editors", "deactivate", email])
        assert result.exit_code == 1
        assert result.output == f"Error: no editor {email}\n"


def test_tokens_list_shows_ids_and_dates_but_never_the_token(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["editors", "create", "chef@example.com", "--password", "long-enough"])
    empty = runner.invoke(args=["tokens", "list", "chef@example.com"])
    assert empty.exit_code == 0 and "No tokens for chef@example.com" in empty.output
    first = runner.invoke(args=["tokens", "create", "chef@example.com", "--name", "site"])
    second = runner.invoke(args=["tokens", "create", "chef@example.com", "--name", "cms"])
    ids = db.session.execute(db.select(ApiToken.id).order_by(ApiToken.id)).scalars().all()
    runner.invoke(args=["tokens", "revoke", str(ids[0])])
    result = runner.invoke(args=["tokens", "list", "chef@example.com"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{ids[0]}  site  created ")
    assert "last used never" in lines[0] and "revoked never" not in lines[0]
    assert "revoked no" not in lines[0] and lines[1].endswith("revoked no")
    assert lines[1].startswith(f"{ids[1]}  cms  created ")
    for token in (first.output.strip(), second.output.strip()):
        assert token not in result.output


def test_tokens_revoke_refuses_the_token_from_then_on(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["editors", "create", "chef@example.com", "--password", "long-enough"])
    token = runner.invoke(args=["tokens", "create", "chef@example.com"]).output.strip()
    token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    result = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Revoked token {token_id}\n"
    assert editor_for_token(token) is None
    again = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert again.exit_code == 0 and "already revoked" in again.output


def test_tokens_commands_with_an_unknown_editor_or_id_are_one_clear_line(app: Flask) -> None:
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["tokens", "list", "nobody@example.com"])
    assert (listed.exit_code, listed.output) == (1, "Error: no editor nobody@example.com\n")
    for token_id in ("42", "abc", "99999999999999999999999"):
        result = runner.invoke(args=["tokens", "revoke", token_id])
        assert (result.exit_code, result.output) == (1, f"Error: no token {token_id}\n")


def test_the_follow_hint_names_the_command_as_the_user_typed_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(tmp_path / ".venv" / "bin" / "newsletter"), "digest"])
    assert _program() == ".venv/bin/newsletter"
    monkeypatch.setattr("sys.argv", ["newsletter", "digest"])
    assert _program() == "newsletter"
    monkeypatch.setattr("sys.argv", ["/usr/bin/pytest"])  # run from a test: the installed name
    assert _program() == "newsletter"
