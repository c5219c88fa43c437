"""Sessions: one screening of a movie in a room, its prices and ticket types, and its life (on
sale until sales close, changed or cancelled by an admin)."""
