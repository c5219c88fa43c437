"""Sessions: create, change and cancel them (admin), list and read them, the seat map and its
live stream."""

from . import sessions, stream

OPERATIONS = (*sessions.OPERATIONS, *stream.OPERATIONS)
