"""The migrations are the schema: models and the migrated database must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.models import Base


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add an Alembic revision: {diff}"


def test_migrations_have_one_head():
    from alembic.script import ScriptDirectory

    from tests.helpers import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"
