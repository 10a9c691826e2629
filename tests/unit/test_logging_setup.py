"""JSON log lines: the formatter, and the set-up `python -m server serve` applies."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from server.logging_setup import JsonFormatter, configure_logging


def record(**extra: object) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"name": "server.test", "levelno": logging.INFO, "levelname": "INFO", "msg": "hello %s",
         "args": ("there",), **extra}
    )  # fmt: skip


def test_a_record_is_one_json_object_with_its_extras() -> None:
    line = JsonFormatter().format(record(request_id="r1", key=None, duration_ms=1.5))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello there"
    assert entry["level"] == "INFO" and entry["logger"] == "server.test"
    assert (entry["request_id"], entry["key"], entry["duration_ms"]) == ("r1", None, 1.5)
    assert "args" not in entry and "msg" not in entry and "exc_info" not in entry


def test_the_stack_goes_in_the_same_line() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(record(exc_info=exc_info, request_id="r2"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "r2"
    assert entry["exc_info"].startswith("Traceback")
    assert "ValueError: bad\nthing" in entry["exc_info"]


def test_values_json_cannot_hold_are_written_as_text() -> None:
    entry = json.loads(JsonFormatter().format(record(thing=object(), path=["a", 1])))
    assert entry["thing"].startswith("<object")
    assert entry["path"] == ["a", 1]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    uvicorn = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_makes_every_logger_write_json_lines() -> None:
    # uvicorn configures its own loggers with plain-text handlers; ours replace them.
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(io.StringIO()))
    logging.getLogger("uvicorn.error").propagate = False
    stream = io.StringIO()
    configure_logging("INFO", stream)
    logging.getLogger("uvicorn.error").info(
        "Started server process", extra={"color_message": "Started \x1b[36mserver\x1b[0m"}
    )
    logging.getLogger("server.access").info("request", extra={"request_id": "abc"})
    logging.getLogger("strawberry.execution").warning("careful")
    logging.getLogger("server").debug("not at INFO")
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["logger"] for e in entries] == [
        "uvicorn.error",
        "server.access",
        "strawberry.execution",
    ]
    assert entries[1]["request_id"] == "abc"
    assert "color_message" not in entries[0]
