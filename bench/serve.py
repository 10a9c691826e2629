"""The application as `make bench` serves it: the real app, plus one plain starlette endpoint that
returns the same JSON as `recipient(slug:)` from the same SQL, as a yardstick for throughput."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from bench import floor
from server.app import create_app
from server.settings import Settings


def build(database_url: str, max_query_cost: int | None = None):  # type: ignore[no-untyped-def]
    settings = Settings(database_url=database_url)
    if max_query_cost is not None:
        settings = Settings(database_url=database_url, max_query_cost=max_query_cost)
    app = create_app(settings)

    async def plain_recipient(request: Request) -> Response:
        body = await floor.recipient_by_slug(request.query_params["slug"])
        return Response(body, media_type="application/json")

    app.add_route("/plain/recipient", plain_recipient, methods=["GET"])
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-query-cost", type=int, default=None)
    args = parser.parse_args()
    uvicorn.run(
        build(args.database_url, args.max_query_cost),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
