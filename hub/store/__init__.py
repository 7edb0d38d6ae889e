"""The PostgreSQL index: pool, named SQL queries, migrations and repositories."""
