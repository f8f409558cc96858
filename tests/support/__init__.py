"""What the test suite needs besides wc.testing: a PostgreSQL server, small store helpers."""
