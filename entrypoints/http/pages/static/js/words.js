// How the pages say things: seat kinds, lists of seats, and every refusal in plain words.

export const KIND = {
  standard: 'standard',
  premium: 'premium',
  couple: 'couple seat',
  accessible: 'wheelchair space',
};

export function listed(labels) {
  const items = [...labels];
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function were(seats) {
  return seats.length > 1 ? 'were' : 'was';
}

// The message for a refused request (an ApiError). ``typeName`` names a ticket type by code;
// ``together`` says whether best available was asked for adjacent seats; ``stillChosen`` how
// many seats remain chosen after the refused ones are let go.
export function refusal(error, { typeName = (code) => code, together = true, stillChosen = 0 } = {}) {
  const d = error.details ?? {};
  const seats = d.seats ?? [];
  switch (error.code) {
    case 'seats_unavailable':
      return `${listed(seats)} ${were(seats)} just taken by someone else, so nothing was held. ${
        stillChosen ? 'Your other seats are still chosen: hold them, or add another.' : 'Choose another seat.'
      }`;
    case 'single_seat_gap':
      return `That would leave ${listed(seats)} alone between taken seats, which this session does not sell. Include it, or move one seat over.`;
    case 'ticket_quota_exhausted': {
      const name = typeName(d.ticket);
      return `Only ${d.remaining ?? 0} ${name} tickets are left for this session. Choose fewer ${name} tickets.`;
    }
    case 'couple_seat_split':
      return `${listed(seats)} ${seats.length > 1 ? 'are' : 'is'} the other half of a couple seat, which is sold only as a pair.`;
    case 'not_enough_seats':
      return `Not enough seats are free${together ? ' side by side' : ''} (${d.available ?? 0} available). Ask for fewer${
        together ? ', or untick “Side by side”' : ''
      }.`;
    case 'reservation_cancelled':
      return 'This hold was cancelled, so it cannot be paid. Choose seats again.';
    case 'refund_window_closed':
      return 'Refunds for this session have closed: it starts too soon.';
    case 'already_refunded':
      return `${listed(seats)} ${were(seats)} refunded already.`;
    case 'ticket_used':
      return `${listed(seats)} ${were(seats)} already checked in at the door, so nothing was refunded.`;
    case 'unauthorized':
      return 'Your sign-in was not accepted (it may have expired). Sign in again to go on.';
    case 'rate_limited':
      return 'Too many tries in a short time. Wait a moment, then try again.';
    case 'session_not_found':
      return 'This session no longer exists.';
    default:
      return error.message;
  }
}

export function lapse(seats) {
  return `Your hold on ${listed(seats)} lapsed before payment, so the seats were released and nothing was charged. Choose seats again.`;
}
