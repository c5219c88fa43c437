"""Every SQL text the PostgreSQL adapters send, one module per thing it reads or writes.

- ``seats``: a session's seats, locked by label, saved, inserted, and read for the seat map
  and the availability counts;
- ``quotas``: the session's quota lock and the count of seats per ticket type;
- ``sessions``: a session read, locked (alone or with its seats), inserted, changed;
- ``rooms``: a room inserted;
- ``reservations``: a reservation inserted, locked (alone, with its seats, with its session),
  saved, and the lapsed or pending ones locked;
- ``lines``: the columns a reservation and a sale share (their lines as parallel arrays);
- ``sales``: a sale inserted with its seats' live-sale rows, undone, read;
- ``shifts``: an operator's shift inserted, locked (shared by its sales, exclusively by its close),
  closed, read;
- ``tickets``: tickets inserted, locked, read, checked in;
- ``refunds``: a refund with its tickets marked, and its undoing;
- ``reports``: the session tally and the sales by day;
- ``outbox``: events recorded (the audit trail is its published rows), and the relay's lock,
  read and mark;
- ``processed``: the consumers' handled event ids.

Each statement is one fixed text whatever the number of seats: lists travel as array
parameters (``unnest(%(rows)s, %(numbers)s)``), so psycopg prepares a statement on the server
after a few uses on a connection (its cache is keyed by the exact text) and no statement is
built per call. ``executor.Executor`` sends every one of them. Parameters use psycopg's
``%(name)s`` style. Arrays are cast explicitly: a list of ``None`` (every hold released) would
otherwise have no type, and ``"row"`` is ``char(1)`` so that comparisons with the column stay on
its index. Where a statement's lock is a parameter of a builder (``seats.by_label``,
``sessions.session_and_seats``, ``reservations.reservation_and_seats``), the module's constants
are the texts the adapter runs. The ``Table`` objects in ``tables.py`` stay the schema's
description and build the cold paths' queries.
"""
