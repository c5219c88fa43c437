"""The box office's routes as pre-built request bytes, and the tokens that go in them.

Everything that does not change between two requests of a virtual user (request line, headers,
token) is built once; a reservation only appends its body.
"""

from __future__ import annotations

import time

import jwt
import orjson

_HOST = b"Host: bench\r\n"


def token(secret: str, user: str, role: str = "customer", ttl: float = 24 * 3600) -> str:
    """A JWT the servers accept for ``user`` (HS256 on the configured secret, as the API says)."""
    claims = {"sub": user, "role": role, "exp": int(time.time() + ttl)}
    return jwt.encode(claims, secret, algorithm="HS256")


def get(path: str, bearer: str | None = None, *, gzip: bool = False) -> bytes:
    """A GET; ``gzip`` sends ``Accept-Encoding: gzip``, as a browser's fetch does."""
    auth = f"Authorization: Bearer {bearer}\r\n".encode() if bearer else b""
    coding = b"Accept-Encoding: gzip\r\n" if gzip else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\n" + _HOST + auth + coding + b"\r\n"


class User:
    """One buyer's requests: the token is baked into header prefixes built once."""

    def __init__(self, name: str, bearer: str):
        self.name = name
        self.bearer = bearer
        auth = f"Authorization: Bearer {bearer}\r\n".encode()
        self._reserve = (
            b"POST /reservations HTTP/1.1\r\n"
            + _HOST
            + auth
            + b"Content-Type: application/json\r\nContent-Length: "
        )
        self._auth = auth

    def reserve(self, session_id: str, seats: list[str]) -> bytes:
        body = orjson.dumps({"session_id": session_id, "seats": seats})
        return self._reserve + str(len(body)).encode() + b"\r\n\r\n" + body

    def pay(self, reservation_id: str) -> bytes:
        return (
            b"POST /reservations/"
            + reservation_id.encode()
            + b"/payment HTTP/1.1\r\n"
            + _HOST
            + self._auth
            + b"Content-Length: 0\r\n\r\n"
        )

    def post(self, path: str) -> bytes:
        """A POST with no body (an action on the resource the path names)."""
        return (
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\n"
            + _HOST
            + self._auth
            + b"Content-Length: 0\r\n\r\n"
        )

    def post_json(self, path: str, payload: object) -> bytes:
        body = orjson.dumps(payload)
        return (
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\n"
            + _HOST
            + self._auth
            + b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    def get(self, path: str) -> bytes:
        return b"GET " + path.encode() + b" HTTP/1.1\r\n" + _HOST + self._auth + b"\r\n"


def seat_labels(rows: int, seats_per_row: int) -> list[str]:
    """Every label of a room, row by row, as the API names them (``A1`` … )."""
    return [
        f"{chr(ord('A') + row)}{number}"
        for row in range(rows)
        for number in range(1, 1 + seats_per_row)
    ]
