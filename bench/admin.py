"""The bench's own calls to the API, outside any measurement: setting up sessions and reading
back what was sold for the invariant checks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from .api import User, token
from .client import Pool


class ApiError(RuntimeError):
    """The API answered a set-up or check request with something unexpected."""


class Admin:
    """An admin's connection pool to the servers under test."""

    def __init__(self, host: str, port: int, secret: str, connections: int = 8):
        self.pool = Pool(host, port, connections)
        self.secret = secret
        self.user = User("bench-admin", token(secret, "bench-admin", "admin"))

    async def __aenter__(self) -> Admin:
        await self.pool.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.pool.close()

    async def call(self, raw: bytes, expect: int = 200) -> Any:
        status, body, _ = await self.pool.request(raw)
        if status != expect:
            raise ApiError(f"expected {expect}, got {status}: {body[:300]!r}")
        return orjson.loads(body)

    async def create_session(self, rows: int, seats_per_row: int, price: str, name: str) -> str:
        """A new session starting tomorrow; answers its id."""
        starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        payload = {
            "movie": name,
            "room": "Sala bench",
            "starts_at": starts.isoformat().replace("+00:00", "Z"),
            "price": price,
            "rows": rows,
            "seats_per_row": seats_per_row,
        }
        created = await self.call(self.user.post_json("/sessions", payload), expect=201)
        return str(created["id"])

    async def create_room(self, cinema: str, name: str, layout: list[str]) -> str:
        """A new room of the chain; answers its id."""
        payload = {"cinema": cinema, "name": name, "layout": layout}
        created = await self.call(self.user.post_json("/rooms", payload), expect=201)
        return str(created["id"])

    async def create_session_in(self, room_id: str, prices: dict[str, str], name: str) -> str:
        """A new session in a room of the chain, starting tomorrow; answers its id."""
        starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        payload = {
            "movie": name,
            "room_id": room_id,
            "starts_at": starts.isoformat().replace("+00:00", "Z"),
            "prices": prices,
        }
        created = await self.call(self.user.post_json("/sessions", payload), expect=201)
        return str(created["id"])

    async def create_sessions(
        self, count: int, rows: int, seats_per_row: int, price: str, name: str
    ) -> list[str]:
        return list(
            await asyncio.gather(
                *(
                    self.create_session(rows, seats_per_row, price, f"{name} {i}")
                    for i in range(count)
                )
            )
        )

    async def seat_map(self, session_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(self.user.get(f"/sessions/{session_id}/seats"))
        return found

    async def purchases(self, user: str) -> list[dict[str, Any]]:
        """Every sale of ``user``, following the cursor to the end."""
        sales: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            path = f"/users/{user}/purchases?limit=200"
            if cursor:
                path += f"&cursor={quote(cursor, safe='')}"
            page = await self.call(self.user.get(path))
            sales.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return sales

    async def purchases_of(self, users: list[str]) -> dict[str, list[dict[str, Any]]]:
        found = await asyncio.gather(*(self.purchases(user) for user in users))
        return dict(zip(users, found, strict=True))
