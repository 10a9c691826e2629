"""importInventory, and POST /imports for files over the GraphQL body limit: both hand the file
to server/services/imports.py and answer the same report."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info

from server.domain import access, imports
from server.domain.access import Capability, Principal
from server.domain.errors import UserError, UserErrors
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError as UserErrorType
from server.graphql.mutations import mutation_payload
from server.graphql.permissions import CanWriteInventory, mutation_needs
from server.services.imports import ImportRequest, import_inventory

ImportFormat = imports.ImportFormat
strawberry.enum(ImportFormat, description="The formats an inventory can be imported from.")
# The most a file sent to POST /imports may hold (a 5,000-recipient workbook is about 2 MB).
IMPORT_BODY_BYTES = 20 * 1024 * 1024


@strawberry.input
class ImportInput:
    format: ImportFormat
    content: str = strawberry.field(
        description="The file: text for CSV, FIDES_YAML and IAB_GVL; base64 for XLSX."
    )
    vendor_ids: list[int] | None = strawberry.field(
        default=None, description="For IAB_GVL: the GVL ids of the vendors to import."
    )
    dry_run: bool | None = strawberry.field(
        default=False, description="Validate and report without writing anything."
    )
    default_country: str | None = strawberry.field(
        default=None,
        description=(
            "For FIDES_YAML and IAB_GVL, which give none: the country recorded for each new "
            "recipient (reviewers correct it)."
        ),
    )


@strawberry.type(
    description="One problem in an import file, located as a person would look for it."
)
class ImportProblem:
    sheet: str | None
    row: int | None = strawberry.field(
        description="1-based, counting the header row, as a spreadsheet shows it."
    )
    column: str | None
    value: str | None
    code: enums.UserErrorCode
    message: str


@strawberry.type(
    description="A value normalised on the way in (Germany -> DE), for the person to check."
)
class ImportNote:
    sheet: str | None
    row: int | None
    column: str | None
    message: str


@strawberry.type
class ImportReport:
    dry_run: bool
    applied: bool = strawberry.field(
        description=(
            "True only when every row was valid and everything was written in one transaction."
        )
    )
    created: int
    updated: int
    unchanged: int
    problems: list[ImportProblem]
    notes: list[ImportNote]

    @classmethod
    def from_domain(cls, report: imports.ImportReport) -> ImportReport:
        return cls(
            dry_run=report.dry_run,
            applied=report.applied,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            problems=[
                ImportProblem(
                    sheet=p.sheet,
                    row=p.row,
                    column=p.column,
                    value=p.value,
                    code=enums.UserErrorCode(p.code),
                    message=p.message,
                )
                for p in report.listed_problems()
            ],
            notes=[
                ImportNote(sheet=n.sheet, row=n.row, column=n.column, message=n.message)
                for n in report.listed_notes()
            ],
        )


@strawberry.type
class ImportPayload:
    report: ImportReport | None
    user_errors: list[UserErrorType]


def file_bytes(format: imports.ImportFormat, content: str) -> bytes:
    """The file a GraphQL request sends: base64 for XLSX, text for the others."""
    if format != imports.ImportFormat.XLSX:
        return content.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UserErrors(
            [UserError(["input", "content"], "An XLSX file is sent as base64: this is not base64.")]
        ) from exc


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description=(
            "Import recipients and disclosures from a file, all or nothing: every problem of every "
            "row is reported at once, and nothing is written unless every row is valid."
        ),
        extensions=mutation_needs(CanWriteInventory),
    )
    async def import_inventory(
        self, info: Info[Context, None], input: ImportInput
    ) -> ImportPayload:
        # Commit only while the answer can still be given (MAX_EXECUTION_MS), with a fifth of
        # it left for the answer; larger files go to POST /imports, which has no such limit.
        budget = info.context.settings.max_execution_ms / 1000
        deadline = time.monotonic() + budget * 0.8

        async def work() -> ImportReport:
            request = ImportRequest(
                format=input.format,
                content=file_bytes(input.format, input.content),
                dry_run=bool(input.dry_run),
                vendor_ids=list(input.vendor_ids) if input.vendor_ids is not None else None,
                default_country=input.default_country,
                deadline=deadline,
            )
            report = await import_inventory(
                request, actor=info.context.actor, role=info.context.role
            )
            return ImportReport.from_domain(report)

        return await mutation_payload(ImportPayload, "report", work)


def report_json(report: imports.ImportReport) -> dict[str, Any]:
    """The report as importInventory answers it, field for field."""
    return {
        "dryRun": report.dry_run,
        "applied": report.applied,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "problems": [
            {
                "sheet": p.sheet,
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "code": p.code.value,
                "message": p.message,
            }
            for p in report.listed_problems()
        ],
        "notes": [
            {"sheet": n.sheet, "row": n.row, "column": n.column, "message": n.message}
            for n in report.listed_notes()
        ],
    }


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _errors(message: str, field: str | None = None, code: str = "INVALID") -> dict[str, Any]:
    return {
        "report": None,
        "userErrors": [
            {"field": ["query", field] if field else None, "message": message, "code": code}
        ],
    }


async def imports_endpoint(request: Request) -> Response:
    """POST /imports: the raw file as the body, `format`, `dryRun`, `vendorIds` and
    `defaultCountry` as query parameters; the answer is importInventory's payload as JSON. The
    key, the rate limit and the body's size (IMPORT_BODY_BYTES here) are checked before, by the
    app's middleware, as for /graphql."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or not access.can(principal.role, Capability.WRITE_INVENTORY):
        roles = ", ".join(r.value for r in access.Role if access.can(r, Capability.WRITE_INVENTORY))
        return _json(
            _errors(f"Forbidden: to import you need a key of role {roles}.", code="FORBIDDEN"), 403
        )
    params = request.query_params
    unknown = sorted(set(params) - {"format", "dryRun", "vendorIds", "defaultCountry"})
    if unknown:
        return _json(_errors(f"Unknown query parameter {unknown[0][:40]!r}.", unknown[0][:40]), 400)
    format_text = params.get("format", "")
    try:
        format = imports.ImportFormat(format_text.upper())
    except ValueError:
        formats = ", ".join(f.value for f in imports.ImportFormat)
        return _json(_errors(f"format must be one of {formats}.", "format"), 400)
    dry_run_text = params.get("dryRun", "false").lower()
    if dry_run_text not in ("true", "false", "1", "0"):
        return _json(_errors("dryRun must be true or false.", "dryRun"), 400)
    vendor_ids = None
    if "vendorIds" in params:
        try:
            vendor_ids = [int(v) for v in params["vendorIds"].split(",") if v.strip()]
        except ValueError:
            return _json(_errors("vendorIds is a list of numbers: 1,2,4.", "vendorIds"), 400)
    try:
        report = await import_inventory(
            ImportRequest(
                format=format,
                content=await request.body(),
                dry_run=dry_run_text in ("true", "1"),
                vendor_ids=vendor_ids,
                default_country=params.get("defaultCountry"),
            ),
            actor=principal.name,
            role=principal.role,
        )
    except UserErrors as exc:
        # The arguments, named as this endpoint takes them (query parameters).
        errors = [
            {
                "field": ["query", *e.field[1:]] if e.field else None,
                "message": e.message,
                "code": e.code.value,
            }
            for e in exc.errors
        ]
        return _json({"report": None, "userErrors": errors}, 400)
    return _json({"report": report_json(report), "userErrors": []})
