// Ticket types and the price: how many seats of each type the buyer asks for, and each seat's
// line as the server will make it (the counted types go to the seats in label order, the rest
// are the session's first type; a type's price is its percent of the seat's, rounded half up).

import { money, percentOf } from './money.js';
import { phrase } from './phrases.js';
import { KIND } from './words.js';

export const FIRST_VERSION_TYPES = [{ code: 'full', name: phrase('full-price'), percent: 100 }];

export class TicketChoice {
  constructor(fieldset, onChange) {
    this.fieldset = fieldset;
    this.onChange = onChange;
    this.types = FIRST_VERSION_TYPES;
    this.wanted = {};
  }

  setTypes(types) {
    this.types = types?.length ? types : FIRST_VERSION_TYPES;
    this.wanted = {};
    const extra = this.types.slice(1);
    this.fieldset.hidden = extra.length === 0;
    const fields = extra.map((type) => {
      const field = document.createElement('div');
      field.className = 'field inline';
      const label = document.createElement('label');
      label.htmlFor = `ticket-${type.code}`;
      label.textContent = `${type.name} (${type.percent} %)`;
      const input = document.createElement('input');
      input.type = 'number';
      input.id = `ticket-${type.code}`;
      input.min = '0';
      input.value = '0';
      input.dataset.ticket = type.code;
      input.addEventListener('input', () => {
        this.wanted[type.code] = Math.max(0, Number.parseInt(input.value, 10) || 0);
        this.onChange();
      });
      field.append(label, input);
      return field;
    });
    this.rest = document.createElement('p');
    this.rest.className = 'hint';
    this.fieldset.querySelector('.ticket-fields').replaceChildren(...fields, this.rest);
  }

  // A finished order (paid or cancelled): the next one starts with no type counted.
  reset() {
    this.wanted = {};
  }

  name(code) {
    return this.types.find((t) => t.code === code)?.name ?? code;
  }

  // Seats of each type but the first, at most ``n`` in all: the request's ``tickets``.
  counts(n) {
    const out = {};
    let left = n;
    for (const type of this.types.slice(1)) {
      const wanted = Math.min(this.wanted[type.code] ?? 0, left);
      if (wanted > 0) out[type.code] = wanted;
      left -= wanted;
    }
    return out;
  }

  // Show the counts as they apply to ``n`` seats.
  show(n) {
    const counted = this.counts(n);
    for (const type of this.types.slice(1)) {
      const input = this.fieldset.querySelector(`[data-ticket="${type.code}"]`);
      input.max = String(n);
      input.value = String(counted[type.code] ?? 0);
    }
    const others = Object.values(counted).reduce((a, b) => a + b, 0);
    if (this.rest) this.rest.textContent = `${this.types[0].name}: ${n - others}`;
  }

  // The lines of these seats (already in label order), priced by ``priceOf(seat)`` in cents.
  lines(seats, priceOf) {
    const kinds = [];
    for (const [code, n] of Object.entries(this.counts(seats.length))) {
      for (let i = 0; i < n; i += 1) kinds.push(this.types.find((t) => t.code === code));
    }
    return seats.map((seat, i) => {
      const type = kinds[i] ?? this.types[0];
      return { seat: seat.label, category: seat.category, ticket: type.code, price: percentOf(priceOf(seat), type.percent) };
    });
  }

  // One line as a list item: the seat, its kind (and type), its price.
  item(line, currency) {
    const li = document.createElement('li');
    const seat = document.createElement('strong');
    seat.textContent = line.seat;
    const what = document.createElement('span');
    const kind = KIND[line.category] ?? line.category ?? '';
    what.textContent = this.types.length > 1 ? `${kind} · ${this.name(line.ticket)}` : kind;
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = money(line.price, currency);
    li.append(seat, what, price);
    return li;
  }
}
