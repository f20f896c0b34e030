"""The declarative base, the shared column types, and the one SQLAlchemy handle."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """An enum stored as its values in a VARCHAR with a CHECK, portable and easy to migrate."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model maps one Table (never a join or a subquery): Model.__table__.update().
        __table__: ClassVar[sa.Table]

    registry = sa.orm.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

# What every model subclasses. At run time db.Model (Flask-SQLAlchemy's table names, query
# property and binds, built on Base); mypy cannot take a class from an attribute of an object,
# so to the type checker it is Base, which db.Model is made from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def execute_dml(statement: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:
    """db.session.execute for an INSERT, UPDATE or DELETE: what it returns is a CursorResult,
    whose rowcount counts the rows matched, though Session.execute is typed as a plain Result."""
    return cast(sa.CursorResult[Any], db.session.execute(statement, params))
