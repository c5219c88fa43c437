// What this box office offers, read once from its own OpenAPI document, so that a page shows
// only what the server can do (best available, tickets, reports, rooms). If the document
// cannot be read, everything is offered and a refusal is explained when it comes.

import { get } from './api.js';

let found = null;

function has(doc, pattern) {
  return Object.keys(doc.paths ?? {}).some((path) => pattern.test(path));
}

export function features() {
  found ??= get('/openapi.json')
    .then((doc) => ({
      best: 'count' in (doc.components?.schemas?.CreateReservation?.properties ?? {}),
      tickets: has(doc, /^\/sales\/\{[a-z_]+\}\/tickets$/),
      reports: has(doc, /^\/sessions\/\{[a-z_]+\}\/report$/),
      rooms: has(doc, /^\/rooms$/),
    }))
    .catch(() => ({ best: true, tickets: true, reports: true, rooms: true }));
  return found;
}
