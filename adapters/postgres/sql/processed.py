"""The consumers' handled event ids, read and written for every batch a consumer handles."""

from __future__ import annotations

from typing import Final

SEEN_EVENTS: Final = """
SELECT event_id FROM processed_events
WHERE consumer = %(consumer)s AND event_id = ANY(%(ids)s::uuid[])
"""
MARK_EVENTS: Final = """
INSERT INTO processed_events (consumer, event_id, processed_at)
SELECT %(consumer)s, id, now() FROM unnest(%(ids)s::uuid[]) AS id
ON CONFLICT DO NOTHING
"""
