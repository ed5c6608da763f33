"""Alembic environment for the registry schema.

The server calls ``database.upgrade`` with an open connection in ``config.attributes``; a
developer generating a migration runs ``make migration MESSAGE="..."`` which passes a URL.
"""

from alembic import context
from sqlalchemy import create_engine

from jupyter_modelhub.store.orm import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run_with(conn)
