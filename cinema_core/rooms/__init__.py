"""Rooms: a cinema's screens, their layouts of seats by category, and seat labels."""
