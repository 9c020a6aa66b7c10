"""Extension objects, created unbound here and bound once in create_app()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones; without this, values read back naive and comparisons with
    aware datetimes fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC. Use as a callable column default."""
    return datetime.now(UTC)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, honouring an explicit `bind`, with the engine cached.

    Tests bind the session to one connection with an outer transaction that is rolled
    back after each test; Flask-SQLAlchemy's own get_bind would ignore that bind.

    get_bind runs for every statement and every table a flush touches (dozens of times
    per request). Trygg has one engine and no bind keys, so Flask-SQLAlchemy's answer is
    always the app's default engine: it is looked up once per session (a session lives
    in one app context, so one app). With SQLALCHEMY_BINDS set, its rules apply as before.
    """

    _engine: Engine | None = None

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        if bind is not None:
            return bind
        if self.bind is not None:
            return self.bind
        if self._engine is not None:
            return self._engine
        engines = self._db.engines
        if len(engines) == 1 and None in engines:
            self._engine = engines[None]
            return self._engine
        return super().get_bind(mapper, clause, bind, **kwargs)


db = SQLAlchemy(
    model_class=Base,
    session_options={"expire_on_commit": False, "class_": Session},
)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
