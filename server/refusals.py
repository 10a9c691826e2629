"""The JSON of a refusal answered outside GraphQL (the key, the rate limit, the body's size, an
export's parameters): GraphQL-shaped, so that a client reads every refusal the same way."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response


def refusal(
    status: int, code: str, message: str, *, close: bool = False, **extensions: str
) -> Response:
    """A GraphQL-shaped error answered before GraphQL runs. `close` ends the connection after
    it, for refusals that leave part of a body unread."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    headers = {"Connection": "close"} if close else None
    return JSONResponse(body, status_code=status, headers=headers)
