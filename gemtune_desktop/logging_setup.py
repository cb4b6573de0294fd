"""Logging to a rotating file in the app's log folder, with secrets redacted.

Anything that looks like a Google API key, an OAuth token or a private key is replaced
before a record is written, so log files and the diagnostics text never hold secrets.
"""

from __future__ import annotations

import logging
import re

from gemtune_desktop import paths

_SECRET_PATTERNS = [
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"ya29\.[0-9A-Za-z_\-.]+"),  # OAuth access tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(api[_-]?key|token|authorization|private_key)(\"?\s*[:=]\s*\"?)([^\s\",]+)"),
]
_extra_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Redact this exact value from every future log line (e.g. a key the user typed)."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def redact(text: str) -> str:
    for value in _extra_secrets:
        text = text.replace(value, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_file() -> str:
    return str(paths.log_dir() / "gemtune-desktop.log")


def setup_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_gemtune", False) for h in root.handlers):
        return
    # Imported here, not at the top: logging.handlers costs start-up time (pickle, socket).
    from logging.handlers import RotatingFileHandler

    handler = RotatingFileHandler(log_file(), maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._gemtune = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "urllib3", "google", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
