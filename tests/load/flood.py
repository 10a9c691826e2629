"""A flood of requests without a valid key, run as its own process so that its work does not
share an event loop (or a GIL) with the client being measured:

    python -m tests.load.flood PORT CONNECTIONS RATE

Each connection sends one request at a time over keep-alive, paced so that all of them together
send about RATE a second (0: as fast as answered): a GET without a key, a POST without a key, or
a POST with a bogus key, by connection. It stops when its stdin closes and prints the number of
answers by status, and how many seconds it flooded, as JSON."""

from __future__ import annotations

import asyncio
import sys
import time

import orjson

BODY = b'{"query": "{ __typename }"}'


def request(connection: int) -> bytes:
    kind = connection % 3
    if kind == 0:
        return b"GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: flood\r\n\r\n"
    key = f"Authorization: Bearer ri_bogus-{connection:04d}\r\n" if kind == 1 else ""
    head = (
        "POST /graphql HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
        f"{key}Content-Length: {len(BODY)}\r\n\r\n"
    )
    return head.encode() + BODY


async def flood(
    port: int, connection: int, gap: float, stop: asyncio.Event, counts: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    message = request(connection)
    due = time.monotonic()
    try:
        while not stop.is_set():
            if gap:
                due += gap
                if (delay := due - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
            writer.write(message)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def main(port: int, connections: int, rate: float) -> None:
    stop = asyncio.Event()
    counts: dict[int, int] = {}
    gap = connections / rate if rate > 0 else 0.0
    started = time.monotonic()
    tasks = [asyncio.create_task(flood(port, i, gap, stop, counts)) for i in range(connections)]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    await asyncio.gather(*tasks)
    seconds = time.monotonic() - started
    report = {"counts": counts, "seconds": seconds}
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
