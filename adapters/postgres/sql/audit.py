"""The audit trail and the consumers' handled event ids, run for every relayed event."""

from __future__ import annotations

from typing import Final

RECORD_EVENTS: Final = """
INSERT INTO audit_events (id, type, occurred_at, session_id, data, recorded_at)
SELECT e.id, e.type, e.occurred_at, e.session_id, e.data, now()
FROM ROWS FROM (
    jsonb_to_recordset(%(events)s::jsonb)
        AS (id uuid, type text, occurred_at timestamptz, session_id text, data jsonb)
) WITH ORDINALITY AS e(id, type, occurred_at, session_id, data, position)
ORDER BY e.position
ON CONFLICT (id) DO NOTHING
"""
SEEN_EVENTS: Final = """
SELECT event_id FROM processed_events
WHERE consumer = %(consumer)s AND event_id = ANY(%(ids)s::uuid[])
"""
MARK_EVENTS: Final = """
INSERT INTO processed_events (consumer, event_id, processed_at)
SELECT %(consumer)s, id, now() FROM unnest(%(ids)s::uuid[]) AS id
ON CONFLICT DO NOTHING
"""
