// The tickets of a sale, each with its QR code (fetched with the token, shown from memory).
// A box office that issues no tickets yet shows the sale's seats, with the sale as the proof.
// A refunded ticket shows no code at all: nothing on it may still scan at the door.

import { phrase } from './phrases.js';
import { blob, get, unsupported } from './api.js';

function ticket(item, typeName) {
  const li = document.createElement('li');
  li.className = 'ticket';
  li.dataset.ticket = item.seat;
  const figure = document.createElement('div');
  figure.className = 'qr';
  const text = document.createElement('div');
  const seat = document.createElement('strong');
  seat.textContent = phrase('ticket-seat', { seat: item.seat });
  const type = document.createElement('span');
  const used = { used: phrase('ticket-used'), refunded: phrase('ticket-refunded') }[item.status] ?? '';
  type.textContent = `${item.ticket ? typeName(item.ticket) : ''}${used}`;
  text.append(seat, type);
  if (item.status === 'refunded') {
    figure.classList.add('void');
  } else {
    const code = document.createElement('code');
    code.textContent = item.code;
    text.append(code);
  }
  li.append(figure, text);
  return [li, figure];
}

async function qr(item, figure) {
  try {
    const image = new Image(128, 128);
    image.alt = phrase('ticket-qr', { seat: item.seat });
    image.src = URL.createObjectURL(await blob(`/tickets/${item.id}/qr.svg`, 'image/svg+xml'));
    figure.replaceChildren(image);
  } catch {
    figure.textContent = phrase('qr-unavailable');
  }
}

// Fill ``list`` with the sale's tickets (``issued``: whether the box office makes tickets);
// ``more(item, box)`` may add to each ticket's text. Throws the API's error if they cannot be read.
export async function showTickets(list, sale, typeName, issued = true, more = null) {
  const receipt = () => sale.seats.map((seat) => ({ id: null, seat, ticket: null, code: sale.id }));
  let items;
  try {
    items = issued ? (await get(`/sales/${sale.id}/tickets`)).items : receipt();
  } catch (error) {
    if (!unsupported(error)) throw error;
    items = receipt();
  }
  const made = items.map((item) => ticket(item, typeName));
  if (more) items.forEach((item, i) => more(item, made[i][0].lastChild));
  list.replaceChildren(...made.map(([li]) => li));
  await Promise.all(items.map((item, i) => (item.id && item.status !== 'refunded' ? qr(item, made[i][1]) : null)));
}
