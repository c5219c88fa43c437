// How the pages say things: seat kinds, lists of seats, and every refusal in plain words (the
// words themselves are the page's phrases, in its language).

import { phrase } from './phrases.js';

export const KIND = {
  standard: phrase('kind-standard'),
  premium: phrase('kind-premium'),
  couple: phrase('kind-couple'),
  accessible: phrase('kind-accessible'),
};

const lists = new Intl.ListFormat(document.documentElement.lang || undefined, { type: 'conjunction' });

export function listed(labels) {
  return lists.format([...labels].map(String));
}

// ``key-one`` or ``key-many`` as the seats are one or more.
function counted(key, seats) {
  return phrase(`${key}-${seats.length > 1 ? 'many' : 'one'}`, { seats: listed(seats) });
}

// The message for a refused request (an ApiError). ``typeName`` names a ticket type by code;
// ``together`` says whether best available was asked for adjacent seats; ``stillChosen`` how
// many seats remain chosen after the refused ones are let go.
export function refusal(
  error,
  { typeName = (code) => code, productName = (code) => code, together = true, stillChosen = 0 } = {},
) {
  const d = error.details ?? {};
  const seats = d.seats ?? [];
  switch (error.code) {
    case 'seats_unavailable':
      return `${counted('taken', seats)} ${phrase(stillChosen ? 'others-chosen' : 'choose-another')}`;
    case 'single_seat_gap':
      return phrase('single_seat_gap', { seats: listed(seats) });
    case 'ticket_quota_exhausted':
      return phrase('ticket_quota_exhausted', { remaining: d.remaining ?? 0, name: typeName(d.ticket) });
    case 'couple_seat_split':
      return counted('couple', seats);
    case 'not_enough_seats':
      return phrase(together ? 'not-enough-together' : 'not-enough', { available: d.available ?? 0 });
    case 'already_refunded':
      return counted('refunded', seats);
    case 'ticket_used':
      return counted('used', seats);
    case 'promo_code_invalid':
      return phrase(`promo-${d.reason ?? 'unknown'}`, { code: d.promo_code ?? '' });
    case 'product_sold_out':
      return phrase('product_sold_out', { name: productName(d.product), left: d.left ?? 0 });
    case 'unknown_product':
      return phrase('unknown_product', { names: listed((d.products ?? []).map(productName)) });
    case 'reservation_cancelled':
    case 'refund_window_closed':
    case 'unauthorized':
    case 'rate_limited':
    case 'session_not_found':
      return phrase(error.code);
    default:
      return error.message;
  }
}

export function lapse(seats) {
  return phrase('lapse', { seats: listed(seats) });
}
