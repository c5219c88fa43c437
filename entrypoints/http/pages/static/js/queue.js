// A session's waiting room as the seat picker shows it: a place in the queue, asked after every
// few seconds until the buyer is admitted, with the position, the estimated wait and a progress
// bar; then the admission that POST /reservations wants in X-Admission.

import { ApiError, call } from './api.js';
import { phrase } from './phrases.js';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class WaitingRoom {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.admission = null;
  }

  // Resolves true once admitted, false when the session has no waiting room on.
  async enter() {
    this.admission = null;
    let place;
    try {
      place = (await call('POST', `/sessions/${this.sessionId}/queue`)).data;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'waiting_room_off') return false;
      throw error;
    }
    // The bar fills from where the buyer joined to the front.
    const from = Math.max(place.position, 1);
    while (place.status !== 'admitted') {
      this.show(place, from);
      await pause(POLL_MS);
      try {
        place = (await call('GET', `/queue/${place.ticket}`)).data;
      } catch (error) {
        // Redis away for a moment: the place is kept; ask again.
        if (error instanceof ApiError && (error.status === 503 || error.status === 0)) continue;
        if (error instanceof ApiError && error.code === 'queue_ticket_not_found') return this.enter();
        throw error;
      }
      if (place.status === 'lapsed') return this.enter();
    }
    this.admission = place.admission;
    return true;
  }

  show(place, from) {
    $('queue-place').textContent = phrase('queue-place', {
      position: place.position,
      wait: place.estimated_wait_seconds,
    });
    const bar = $('queue-progress');
    bar.value = Math.round((100 * (from - place.position + 1)) / (from + 1));
  }

  headers() {
    return this.admission ? { 'X-Admission': this.admission } : {};
  }
}
