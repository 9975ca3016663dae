"""Alembic environment: migrate the connection Store.open hands over.

Store.open passes its own open connection (in `config.attributes["connection"]`), so
migrations run on exactly the database and engine settings the store uses. Authoring a new
revision from the command line takes the URL as an -x argument, e.g.
`alembic -c store/alembic.ini -x url=sqlite:///scratch.db revision --autogenerate -m "..."`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from govwatch.store.schema import include_object, metadata


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("store migrations need a database: pass -x url=... or use Store.open")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            run(conn)
            conn.commit()
    finally:
        engine.dispose()
