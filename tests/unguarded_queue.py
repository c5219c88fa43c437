"""TEST-ONLY: the Redis waiting room with its atomic steps split into round trips, for the
queue race tests' control runs.

``SplitStepWaitingLines`` reads a queue, decides in Python (with the same rule,
``admissions_due``) and writes back in separate commands, as a client without scripts would:
everything else is the production adapter's. Never used outside those control runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from adapters.redis.waiting import RedisWaitingLines
from cinema_core.waiting.room import Place, admissions_due, ms


class SplitStepWaitingLines(RedisWaitingLines):
    """Joins check for the user's place and add one in separate commands; polls read the
    schedule and the counts, then pop and write back, each a round trip of its own."""

    def join(
        self, session_id: UUID, user_id: str, ticket: str, now: datetime, lasts: timedelta
    ) -> Place | None:
        room, waiting, _active, users, tickets = self._keys(session_id)
        client = self._client
        known = client.hget(users, user_id)
        if known is None:
            seq = client.hincrby(room, "seq", 1)
            client.zadd(waiting, {ticket: seq})
            client.hset(users, user_id, ticket)
            client.hset(tickets, ticket, user_id)
        return super().join(session_id, user_id, ticket, now, lasts)

    def look(self, session_id: UUID, ticket: str, now: datetime, lasts: timedelta) -> Place | None:
        room, waiting, active, _users, _tickets = self._keys(session_id)
        client = self._client
        settings = self.settings(session_id)
        assert settings is not None
        next_at = float(client.hget(room, "next") or ms(now))
        count, next_at = admissions_due(
            settings, next_at, ms(now), client.zcard(waiting), client.zcard(active)
        )
        if count:
            lapses = ms(now) + lasts.total_seconds() * 1000
            for member, _score in client.zpopmin(waiting, count):
                client.zadd(active, {member: lapses})
        client.hset(room, "next", repr(next_at))
        return super().look(session_id, ticket, now, lasts)
