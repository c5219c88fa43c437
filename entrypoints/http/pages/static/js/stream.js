// A session's seat stream: the snapshot, then each change. While the stream is down, ``down``
// is called (so the page can draw the map as it is now); the browser reconnects by itself, and
// a stream the server ended for good is opened again. ``close()`` on what it returns stops it
// for good (a page that moves on to another session).

export function follow(sessionId, { snapshot, seats, down }) {
  let source = null;
  let stopped = false;
  function open() {
    source = new EventSource(`/sessions/${sessionId}/seats/stream`);
    source.addEventListener('snapshot', (event) => snapshot(JSON.parse(event.data)));
    source.addEventListener('seats', (event) => seats(JSON.parse(event.data).changes));
    source.addEventListener('error', () => {
      if (stopped) return;
      down();
      if (source.readyState === EventSource.CLOSED) setTimeout(() => stopped || open(), 3000);
    });
  }
  open();
  return {
    close() {
      stopped = true;
      source.close();
    },
  };
}
