"""Small shared test helpers (import explicitly; fixtures live in conftest.py)."""

from __future__ import annotations

import os

import pytest

USES_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))

requires_postgres = pytest.mark.skipif(
    not USES_POSTGRES,
    reason="needs PostgreSQL row locking and real concurrent connections; "
    "run with DATABASE_URL=postgres://... (SQLite serializes every writer, so the race cannot happen)",
)
