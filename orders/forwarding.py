"""Forwarding SMS delivery reports to resellers' own callback URLs (RajaSMS-compatible API).

Filled in with the downstream API; orders.delivery calls `delivery_forward` after recipients change.
"""

from __future__ import annotations

from collections.abc import Sequence


def delivery_forward(recipient_ids: Sequence[int]) -> None:
    """Queue a RajaSMS-shaped callback for each changed recipient whose order has a client_callback_url."""
