"""GET /exports/{kind}.{format}: the exports of `server/services/exports.py` over HTTP, behind
the same keys as GraphQL (the inventory read permission), the rate limit included. `asOf` (an
ISO 8601 date or date-time) asks for a past or future moment where the export answers for one.
A refusal is JSON like every other (server/refusals.py): 403 FORBIDDEN, 404 NOT_FOUND, 400
BAD_USER_INPUT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from server.domain import access
from server.domain.access import Capability, Principal
from server.refusals import refusal
from server.services import clock, exports
from server.services.exports import ExportProblem, ExportRequest
from server.settings import Settings

BAD_USER_INPUT = "BAD_USER_INPUT"
# Routed for every method, so that any but GET is refused as JSON (405) like other refusals.
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _refused(request: Request, status: int, code: str, message: str) -> Response:
    request.state.outcome = "forbidden" if code == "FORBIDDEN" else "rejected"
    return refusal(status, code, message)


def exports_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        request.state.operation = f"export {name[:60]}"
        if request.method not in ("GET", "HEAD"):
            response = _refused(request, 405, "METHOD_NOT_ALLOWED", "An export is read with GET.")
            response.headers["Allow"] = "GET, HEAD"
            return response
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None or not access.can(principal.role, Capability.READ_INVENTORY):
            roles = ", ".join(
                r.value for r in access.Role if access.can(r, Capability.READ_INVENTORY)
            )
            return _refused(
                request, 403, "FORBIDDEN", f"Forbidden: exports need a key of role {roles}."
            )
        export = exports.served(name)
        if export is None:
            files = ", ".join(e.file_name for e in exports.EXPORTS if e.served)
            return _refused(
                request, 404, "NOT_FOUND", f"No export {name[:60]!r}: there are {files}."
            )
        params = request.query_params
        allowed = {"asOf"} if export.dated else set()
        unknown = sorted(set(params) - allowed)
        if unknown:
            return _refused(
                request,
                400,
                BAD_USER_INPUT,
                f"{export.file_name} takes no query parameter {unknown[0][:40]!r}"
                + (" (only asOf)." if export.dated else "."),
            )
        as_of = None
        if "asOf" in params:
            try:
                as_of = exports.moment_from_text(params["asOf"])
            except ExportProblem as problem:
                return _refused(request, 400, BAD_USER_INPUT, str(problem))
        content = await export.produce(ExportRequest.from_settings(settings, as_of))
        file_name = exports.file_name_for(export, as_of or clock.now())
        return Response(
            content,
            media_type=export.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{file_name}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    return endpoint
