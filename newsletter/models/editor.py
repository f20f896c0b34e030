"""Editors: people who log in to the editors' area, their sessions, API tokens and audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter.models.base import Model, utcnow

TOKEN_PREFIX = "nlt_"


def hash_token(token: str) -> str:
    """API tokens are long and random: a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


class Editor(Model):
    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="editor", cascade="all, delete-orphan"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def new_token(self, name: str = "") -> str:
        """Create a token and return it; only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.tokens.append(ApiToken(token_hash=hash_token(token), name=name))
        return token

    def __repr__(self) -> str:
        return f"<Editor {self.email}>"


def check_dummy_password(password: str) -> bool:
    """Spend what checking a real editor's password costs, and fail.

    A login for an address no editor has goes through this, so its answer takes as long as a
    wrong password's: the time of a failed login says nothing about which addresses exist.
    """
    check_password_hash(_dummy_hash(), password)
    return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made by the same call as set_password, so with the same method and cost.
    return generate_password_hash(secrets.token_urlsafe(16))


class EditorSession(Model):
    """One login: the session cookie holds a random value, this row its hash.

    A session is live while not revoked, its editor active and younger than
    EDITOR_SESSION_HOURS; logout revokes it, a new password or deactivation revokes them all.
    """

    __tablename__ = "editor_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # hash_token(cookie value)
    editor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("editors.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved on POST only: reading a page never writes to the database.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(sa.String(400))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None]


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    editor_id: Mapped[int] = mapped_column(sa.ForeignKey("editors.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved by requests that change something (POST, PUT, PATCH, DELETE) only: a GET or HEAD
    # never writes to the database, so a token used only to read shows no use here.
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    editor: Mapped[Editor] = relationship(back_populates="tokens")


class AuditEntry(Model):
    """One thing an editor did that changed readers, sent mail or changed accounts.

    The address is copied beside the id: the log still says who after the account changes,
    and an entry with neither was made from the command line.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("editors.id", ondelete="SET NULL"))
    editor_email: Mapped[str | None] = mapped_column(sa.String(320))
    # A plain string, not a CHECK'd enum: a new kind of action needs no migration.
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
