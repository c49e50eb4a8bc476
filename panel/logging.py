"""Log filter that masks credentials wherever they appear in a message (URLs, forms, JSON)."""

from __future__ import annotations

import logging
import re

_SECRET_NAMES = r"(?:api_key|apikey|key|password|passwd|username|user_id|sign|token|secret)"
# name=value in URLs and forms, "name": "value" in JSON, Authorization: Bearer xyz in headers, and the
# token in a provider's callback path /callbacks/<id>/<token>/ (access lines, "Bad Request: <path>").
_PATTERNS = [
    re.compile(rf"(?i)\b({_SECRET_NAMES})=([^&\s'\"]+)"),
    re.compile(rf"(?i)(\"{_SECRET_NAMES}\"\s*:\s*\")([^\"]*)"),
    re.compile(r"(?i)(bearer\s+)(\S+)"),
    re.compile(r"(/callbacks/\d+/)([^/\s?\"']+)"),
]


def mask_secrets(text: str) -> str:
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}=***", text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    return text


class MaskSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is rather than dropped
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
