"""Django's SQLite backend with the real parameter limit.

Django 5.2 assumes SQLite's historic limit of 999 bound parameters, so bulk_create/bulk_update split a
20,000-row catalogue sync into ~450 statements. SQLite >= 3.32 allows 32,766 (SQLITE_MAX_VARIABLE_NUMBER);
we ask the library itself and use what it says.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, features


def _variable_limit() -> int:
    try:
        return sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11 has no getlimit
        return 999


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = _variable_limit()


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
