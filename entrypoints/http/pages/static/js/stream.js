// A session's seat stream: the snapshot, then each change. While the stream is down, ``down``
// is called (so the page can draw the map as it is now); the browser reconnects by itself, and
// a stream the server ended for good is opened again.

export function follow(sessionId, { snapshot, seats, down }) {
  const source = new EventSource(`/sessions/${sessionId}/seats/stream`);
  source.addEventListener('snapshot', (event) => snapshot(JSON.parse(event.data)));
  source.addEventListener('seats', (event) => seats(JSON.parse(event.data).changes));
  source.addEventListener('error', () => {
    down();
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => follow(sessionId, { snapshot, seats, down }), 3000);
    }
  });
}
