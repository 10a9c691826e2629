"""Logs as one JSON object a line, for the server's loggers and uvicorn's alike.

Each line has `time` (UTC, ISO 8601), `level`, `logger` and `message`, then whatever the call
passed in `extra` (the access log's request_id, key, operation, duration_ms, outcome, status),
and `exc_info` with the formatted stack when there is one."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

import orjson

# What every LogRecord has: anything else on a record came from `extra`. uvicorn adds
# `color_message`, the message again with terminal colour codes.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Libraries whose INFO lines ("Tortoise-ORM shutdown" after every command) say nothing a person
# running the service needs: only their warnings, unless LOG_LEVEL=DEBUG.
QUIET_LIBRARIES = ("tortoise", "aiosqlite", "asyncpg")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(
    level: str = "INFO", stream: IO[str] | None = None, *, quiet_libraries: bool = False
) -> logging.Handler:
    """JSON lines on `stream` (stderr) from the root logger; uvicorn's loggers pass theirs up to
    it. `quiet_libraries` (the command line) keeps QUIET_LIBRARIES to their warnings unless
    `level` is DEBUG. Returns the handler (tests remove it again)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    if quiet_libraries:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(
                logging.NOTSET if level == "DEBUG" else logging.WARNING
            )
        # While PostgreSQL is down, asyncpg's pool warns with a stack at every retry ("Failed
        # to restore the pool connection floor"); server.db's one warning per interval says it.
        logging.getLogger("asyncpg.pool").setLevel(
            logging.NOTSET if level == "DEBUG" else logging.ERROR
        )
    return handler
