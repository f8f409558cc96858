"""One redactor for every string wc stores, prints or raises.

API keys must never reach the store, a log, the terminal or an exception message, whatever a
server echoes back ("Incorrect API key provided: sk-…"). wc masks the secrets it was configured
with (registered here when settings are read or a client is made) and anything shaped like one:
`sk-…` keys, bearer tokens, passwords in URLs and `api_key=…` pairs. Imports nothing of wc.
"""
from __future__ import annotations

import re
import threading
from typing import Any

MASK = "[redacted]"
_known: set[str] = set()
_lock = threading.Lock()

_SHAPES: list[tuple[re.Pattern[str], str]] = [
    # OpenAI-style keys (sk-…, sk-proj-…, sk-ant-…), at least a few characters after the prefix
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{6,}"), MASK),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/\-]{6,}=*"), rf"\1\2{MASK}"),
    # scheme://user:password@host
    (re.compile(r"""(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@"'<>,{}]*:)[^@\s/"'<>,{}]+@"""), rf"\1{MASK}@"),
    # api_key=…, "api-key": "…", x-api-key: …
    (re.compile(r"""(?i)\b((?:x-)?api[_-]?key["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""), rf"\1{MASK}"),
]


MIN_SECRET = 8  # shorter values ("bridge", "sk-test") are placeholders, and masking them would mangle text


def register(secret: str | None) -> None:
    """Mask this exact value from now on (a configured API key, a database password)."""
    if secret and len(secret) >= MIN_SECRET:
        with _lock:
            _known.add(secret)


def redact(text: str) -> str:
    """`text` with every known secret and everything shaped like one masked."""
    if not text or not isinstance(text, str):
        return text
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """`redact` through JSON-like data: strings in dicts, lists and tuples."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value
