"""Keep credentials out of log output, whatever a library decides to log."""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)[^\s'\"]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|password|accessJwt|refreshJwt|api_key|secret)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s&'\",}]+"
    ),
]
REDACTED = "[redacted]"


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
