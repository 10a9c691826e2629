"""Every export, in one table: its kind and format, its media type, and the function that writes
it. GET /exports/{kind}.{format} (server/exports_http.py) and `python -m server export KIND
--format F` (server/export_commands.py) both serve from here, so an export added to `EXPORTS`
is on both at once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from server.domain import ropa as record_rules
from server.domain import validation
from server.domain.history import as_utc
from server.services import fides_export, notice, ropa
from server.settings import Settings


class ExportProblem(ValueError):
    """A request for an export that cannot be answered as asked; the message says why."""


@dataclass(frozen=True)
class ExportRequest:
    """What an export is asked for: the moment (None: now), and what the organisation says of
    itself in its settings."""

    as_of: datetime | None
    contact: record_rules.ControllerContact
    names_recipients: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, as_of: datetime | None) -> ExportRequest:
        return cls(
            as_of,
            record_rules.ControllerContact(
                settings.controller_name,
                settings.controller_contact,
                settings.dpo_contact,
                settings.representative_contact,
            ),
            settings.notice_names_recipients,
        )


@dataclass(frozen=True)
class Export:
    """One file an export writes. `dated`: it answers for a moment (`asOf`, `--as-of`);
    `served`: over HTTP as well as the command line; `binary`: not text, so never written to a
    terminal."""

    kind: str
    format: str
    media_type: str
    produce: Callable[[ExportRequest], Awaitable[bytes]]
    dated: bool = True
    served: bool = True
    binary: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.kind}.{self.format}"


async def _ropa_xlsx(request: ExportRequest) -> bytes:
    record = await ropa.record_of_processing(request.as_of, request.contact)
    return await asyncio.to_thread(ropa.record_xlsx, record)


async def _ropa_csv(request: ExportRequest) -> bytes:
    return ropa.record_csv(await ropa.record_of_processing(request.as_of, request.contact))


async def _notice(request: ExportRequest, *, markdown: bool) -> bytes:
    section = await notice.notice_section(request.as_of, named=request.names_recipients)
    return notice.render(section, markdown=markdown).encode("utf-8")


async def _notice_md(request: ExportRequest) -> bytes:
    return await _notice(request, markdown=True)


async def _notice_html(request: ExportRequest) -> bytes:
    return await _notice(request, markdown=False)


async def _fides(request: ExportRequest) -> bytes:
    return await fides_export.fides_manifest(as_of=request.as_of)


# A kind's first format is its default on the command line.
EXPORTS: tuple[Export, ...] = (
    Export("ropa", "xlsx", ropa.XLSX, _ropa_xlsx, binary=True),
    Export("ropa", "csv", "text/csv; charset=utf-8", _ropa_csv),
    Export("notice", "md", "text/markdown; charset=utf-8", _notice_md),
    Export("notice", "html", "text/html; charset=utf-8", _notice_html),
    Export("fides", "yaml", "application/yaml", _fides),
)


def kinds() -> list[str]:
    return list(dict.fromkeys(e.kind for e in EXPORTS))


def formats_of(kind: str) -> list[str]:
    return [e.format for e in EXPORTS if e.kind == kind]


def export_for(kind: str, format: str | None) -> Export:
    """The export of that kind in that format (its first format when none is given)."""
    found = [e for e in EXPORTS if e.kind == kind]
    if not found:
        raise ExportProblem(f"No export {kind!r}: there are {', '.join(kinds())}.")
    if format is None:
        return found[0]
    for export in found:
        if export.format == format.lower():
            return export
    raise ExportProblem(
        f"{kind} is written as {', '.join(e.format for e in found)}, not {format!r}."
    )


def served(file_name: str) -> Export | None:
    """The export GET /exports/{file_name} serves, if any."""
    return next((e for e in EXPORTS if e.served and e.file_name == file_name), None)


_SPACED_OFFSET = re.compile(r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}(:?\d{2})?$")


def moment_from_text(text: str, name: str = "asOf") -> datetime:
    """A moment as a caller writes it: an ISO 8601 date (midnight UTC) or date-time (UTC when
    it names no offset), within the years the service answers for."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        # A time, a space, then what reads as an offset: a URL's query reads an unencoded
        # "+" as a space.
        plus = " A + in a URL's query reads as a space: write it %2B, or use Z for UTC."
        spaced = _SPACED_OFFSET.search(text.strip())
        raise ExportProblem(
            f"{name} must be an ISO 8601 date or date-time, like 2025-01-01 or "
            f"2025-01-01T12:00:00Z; got {text[:40]!r}.{plus if spaced else ''}"
        ) from None
    if problem := validation.moment_error(moment):
        raise ExportProblem(f"{name}: {problem}")
    return as_utc(moment)


def file_name_for(export: Export, at: datetime) -> str:
    """The name a download is saved under: the kind, the day it answers for, the format."""
    if not export.dated:
        return export.file_name
    return f"{export.kind}-{at.date().isoformat()}.{export.format}"
