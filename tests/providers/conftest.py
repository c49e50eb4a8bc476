"""Provider fixtures live in tests/conftest.py (shared with tests/orders)."""
