"""Events: what the box office tells the world (the envelopes), the relay that publishes them
from the store, and the consumers that act on them."""
