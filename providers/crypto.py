"""Provider credentials at rest: Fernet with the key(s) in FIELD_ENCRYPTION_KEY.

Several comma-separated keys rotate: the first encrypts, all decrypt (MultiFernet).
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def encrypt_json(data: dict[str, str]) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise ValueError("provider credentials cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc
