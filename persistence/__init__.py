"""The application database: SQLModel tables, the engine, Alembic migrations."""
