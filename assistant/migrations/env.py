"""Alembic environment for the conversation store.

At runtime `SqlStore.migrate()` builds the Alembic config in code and hands over an open connection that is
already inside a (locked) transaction, so no alembic.ini is needed and several instances can start at once.
For development, `alembic -c assistant/alembic.ini revision -m "…"` and `… upgrade head` also work; the
URL then comes from `-x url=…`, PA_DATABASE_URL, or the default SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from assistant.sql_store import normalize_database_url
from assistant.tables import metadata
from assistant.wechat_users import wechat_users_table  # noqa: F401 - puts its table on `metadata`

config = context.config
target_metadata = metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from assistant.settings import get_settings

        url = get_settings().resolved_database_url
    return normalize_database_url(url).render_as_string(hide_password=False)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs need table rebuilds
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, dialect_opts={"paramstyle": "named"}
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # SqlStore.migrate(): the caller owns the transaction
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
