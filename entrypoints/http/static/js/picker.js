// The seat picker: the room drawn live from the seat stream; seats chosen by click (or keys) or
// picked by the box office; the price adding up by ticket type; a hold with its countdown;
// payment, cancellation, and the tickets with their QR codes. Every refusal is explained.

import { askToSignIn } from './account.js';
import { blob, call, get, unsupported } from './api.js';
import { onIdentityChange, token } from './auth.js';
import { cents, money, percentOf } from './money.js';
import { SeatMapView, byLabelOrder } from './seatmap.js';
import { clock, showTime } from './when.js';

const $ = (id) => document.getElementById(id);
const sessionId = $('picker').dataset.sessionId;
const MAX_SEATS = 10;
const WARN_AT = 10_000;
const FIRST_VERSION_TYPES = [{ code: 'full', name: 'Full price', percent: 100 }];
const KIND = {
  standard: 'standard',
  premium: 'premium',
  couple: 'couple seat',
  accessible: 'wheelchair space',
};
const WORD = {
  available: 'available',
  chosen: 'chosen',
  mine: 'held for you',
  held: 'held by someone else',
  sold: 'sold',
  blocked: 'not for sale',
};
const PRICED = new Set(['available', 'chosen', 'mine']);

const state = {
  session: null,
  types: FIRST_VERSION_TYPES,
  chosen: new Set(),
  counts: {}, // ticket type code → how many seats of that type (every type but the first)
  reservation: null,
  deadline: 0,
  timer: 0,
  warned: false,
  busy: false,
  refreshed: -Infinity,
};

const view = new SeatMapView($('seat-map'), { look, onChoose: choose });

// -- what each seat looks like ---------------------------------------------------------------

function held() {
  return state.reservation?.status === 'pending' ? new Set(state.reservation.seats) : new Set();
}

function stateOf(seat) {
  if (seat.status === 'blocked') return 'blocked';
  if (seat.status !== 'sold' && held().has(seat.label)) return 'mine';
  if (state.chosen.has(seat.label)) return 'chosen';
  return seat.status;
}

function priceOf(seat) {
  const prices = state.session?.prices;
  return cents(prices?.[seat.category] ?? state.session?.price ?? '0');
}

function currency() {
  return state.session?.currency ?? 'BRL';
}

function look(seat) {
  const now = stateOf(seat);
  const kind = KIND[seat.category] ?? seat.category;
  const pair = seat.pair ? ` with ${seat.pair}` : '';
  const price = PRICED.has(now) ? `, ${money(priceOf(seat), currency())}` : '';
  return { state: now, name: `${seat.label}, ${kind}${pair}, ${WORD[now]}${price}` };
}

function listed(labels) {
  const items = [...labels];
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

// -- messages ---------------------------------------------------------------------------------

function problem(text, code) {
  const box = $('problem');
  box.textContent = text;
  box.dataset.code = code;
  box.hidden = false;
  $('info').textContent = '';
}

function info(text) {
  $('info').textContent = text;
}

function clearMessages() {
  $('problem').hidden = true;
  $('problem').textContent = '';
  delete $('problem').dataset.code;
  info('');
}

function typeName(code) {
  return state.types.find((t) => t.code === code)?.name ?? code;
}

function explain(error, { seats = [], together = true } = {}) {
  const d = error.details ?? {};
  switch (error.code) {
    case 'seats_unavailable': {
      const taken = d.seats ?? seats;
      for (const label of taken) {
        if (view.seat(label)?.status === 'available') view.update(label, 'held');
        unchoose(label);
      }
      const rest = state.chosen.size
        ? ' Your other seats are still chosen: hold them, or add another.'
        : ' Choose another seat.';
      problem(`${listed(taken)} ${taken.length > 1 ? 'were' : 'was'} just taken by someone else, so nothing was held.${rest}`, error.code);
      refreshMap();
      break;
    }
    case 'single_seat_gap':
      problem(`That would leave ${listed(d.seats ?? [])} alone between taken seats, which this session does not sell. Include it, or move one seat over.`, error.code);
      break;
    case 'ticket_quota_exhausted': {
      const name = typeName(d.ticket);
      problem(`Only ${d.remaining ?? 0} ${name} tickets are left for this session. Choose fewer ${name} tickets.`, error.code);
      break;
    }
    case 'couple_seat_split':
      problem(`${listed(d.seats ?? [])} ${(d.seats ?? []).length > 1 ? 'are' : 'is'} the other half of a couple seat, which is sold only as a pair.`, error.code);
      break;
    case 'not_enough_seats':
      problem(`Not enough seats are free${together ? ' side by side' : ''} (${d.available ?? 0} available). Ask for fewer${together ? ', or untick “Side by side”' : ''}.`, error.code);
      break;
    case 'reservation_expired':
      lapsed();
      break;
    case 'reservation_cancelled':
      problem('This hold was cancelled, so it cannot be paid. Choose seats again.', error.code);
      released();
      break;
    case 'unauthorized':
      problem('Your sign-in was not accepted (it may have expired). Sign in again to go on.', error.code);
      askToSignIn();
      break;
    case 'rate_limited':
      problem('Too many tries in a short time. Wait a moment, then try again.', error.code);
      break;
    case 'session_not_found':
      problem('This session no longer exists.', error.code);
      break;
    default:
      problem(error.message, error.code);
  }
}

// -- the session and its map ------------------------------------------------------------------

async function loadSession() {
  try {
    state.session = await get(`/sessions/${sessionId}`);
  } catch (error) {
    explain(error);
    return;
  }
  const s = state.session;
  state.types = s.ticket_types?.length ? s.ticket_types : FIRST_VERSION_TYPES;
  $('starts').textContent = showTime(s.starts_at);
  if (s.cinema) $('room').textContent = `${s.room} · ${s.cinema}`;
  ticketFields();
  bestCategories();
  if (view.seats.size) {
    view.paint();
    legend();
    order();
  }
}

function drawMap(map) {
  const first = view.seats.size === 0;
  view.draw(map);
  if (first) {
    // A room wider than the screen opens on its middle, where the best seats are.
    const box = $('seat-map').parentElement;
    box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2;
  }
  for (const label of [...state.chosen]) if (view.seat(label)?.status !== 'available') unchoose(label);
  legend();
  order();
  free();
}

async function refreshMap() {
  if (performance.now() - state.refreshed < 1000) return;
  state.refreshed = performance.now();
  try {
    drawMap(await get(`/sessions/${sessionId}/seats`));
  } catch {
    // The stream's reconnection will bring the map back.
  }
}

function live(on) {
  const mark = $('live');
  mark.dataset.live = on ? 'on' : 'off';
  mark.textContent = on ? 'live' : 'reconnecting…';
}

function listen() {
  const source = new EventSource(`/sessions/${sessionId}/seats/stream`);
  source.addEventListener('snapshot', (event) => {
    live(true);
    drawMap(JSON.parse(event.data));
  });
  source.addEventListener('seats', (event) => {
    for (const change of JSON.parse(event.data).changes) changed(change.label, change.status);
    free();
  });
  source.addEventListener('error', () => {
    live(false);
    // Meanwhile, draw the map as it is now; the stream sends a fresh snapshot when it is back.
    refreshMap();
    if (source.readyState === EventSource.CLOSED) setTimeout(listen, 3000);
  });
}

function changed(label, status) {
  const seat = view.update(label, status);
  if (!seat) return;
  if (state.chosen.has(label) && status !== 'available') {
    unchoose(label);
    view.paint(label);
    info(`${label} was just taken by someone else.`);
    order();
  }
}

function free() {
  const open = view.count((s) => s.status === 'available');
  const all = view.count((s) => s.status !== 'blocked');
  $('live').title = `${open} of ${all} seats free`;
}

function legend() {
  const items = [];
  const present = new Set([...view.seats.values()].map((s) => s.category));
  for (const category of Object.keys(KIND)) {
    if (!present.has(category)) continue;
    const sample = [...view.seats.values()].find((s) => s.category === category);
    const each = category === 'couple' ? ' each' : '';
    items.push([category, 'available', `${KIND[category]} ${money(priceOf(sample), currency())}${each}`]);
  }
  items.push(['standard', 'chosen', 'chosen'], ['standard', 'mine', 'held for you']);
  items.push(['standard', 'held', 'held'], ['standard', 'sold', 'sold']);
  if (view.count((s) => s.status === 'blocked')) items.push(['standard', 'blocked', 'not for sale']);
  $('legend').replaceChildren(
    ...items.map(([category, look, text]) => {
      const item = document.createElement('li');
      const mark = document.createElement('span');
      mark.className = `seat mini cat-${category}`;
      mark.dataset.state = look;
      mark.setAttribute('aria-hidden', 'true');
      item.append(mark, text);
      return item;
    }),
  );
}

// -- choosing ---------------------------------------------------------------------------------

function group(seat) {
  return seat.pair ? [seat.label, seat.pair] : [seat.label];
}

function unchoose(label) {
  const seat = view.seat(label);
  for (const each of seat ? group(seat) : [label]) {
    state.chosen.delete(each);
    view.paint(each);
  }
}

function choose(seat) {
  if (state.reservation) {
    info('Your seats are held: pay, or cancel to choose others.');
    return;
  }
  if (state.busy) return;
  const now = stateOf(seat);
  const seats = group(seat);
  clearMessages();
  if (now === 'chosen') {
    unchoose(seat.label);
  } else if (now === 'available') {
    if (seats.some((label) => view.seat(label)?.status !== 'available')) {
      problem(`${listed(seats)} form one couple seat, and its other half is taken.`, 'couple_seat_split');
      return;
    }
    if (state.chosen.size + seats.length > MAX_SEATS) {
      info(`At most ${MAX_SEATS} seats in one hold.`);
      return;
    }
    for (const label of seats) state.chosen.add(label);
    view.paint(...seats);
    if (seats.length > 1) info(`${listed(seats)} form one couple seat: both are chosen.`);
  } else {
    info(`${seat.label} is ${WORD[now]}.`);
    return;
  }
  order();
}

// -- ticket types and the price ---------------------------------------------------------------

function ticketFields() {
  const extra = state.types.slice(1);
  $('ticket-types').hidden = extra.length === 0;
  const rows = extra.map((type) => {
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
      state.counts[type.code] = Math.max(0, Number.parseInt(input.value, 10) || 0);
      order();
    });
    field.append(label, input);
    return field;
  });
  const first = document.createElement('p');
  first.className = 'hint';
  first.id = 'ticket-rest';
  $('ticket-fields').replaceChildren(...rows, first);
}

// How many seats of each type, at most ``n`` in all: the rest are the session's first type.
function counts(n) {
  const out = {};
  let left = n;
  for (const type of state.types.slice(1)) {
    const wanted = Math.min(state.counts[type.code] ?? 0, left);
    if (wanted > 0) out[type.code] = wanted;
    left -= wanted;
  }
  return out;
}

// The server's way: the counted types go to the seats in label order, the rest are the first.
function lines(labels) {
  const kinds = [];
  for (const [code, n] of Object.entries(counts(labels.length))) {
    const type = state.types.find((t) => t.code === code);
    for (let i = 0; i < n; i += 1) kinds.push(type);
  }
  return byLabelOrder(labels, (l) => view.seat(l)).map((label, i) => {
    const seat = view.seat(label);
    const type = kinds[i] ?? state.types[0];
    return { seat: label, category: seat.category, ticket: type.code, price: percentOf(priceOf(seat), type.percent) };
  });
}

function line(item) {
  const li = document.createElement('li');
  const seat = document.createElement('strong');
  seat.textContent = item.seat;
  const what = document.createElement('span');
  what.textContent = `${KIND[item.category] ?? item.category ?? ''}${state.types.length > 1 ? ` · ${typeName(item.ticket)}` : ''}`;
  const price = document.createElement('span');
  price.className = 'price';
  price.textContent = money(item.price, currency());
  li.append(seat, what, price);
  return li;
}

function order() {
  const chosen = [...state.chosen];
  const n = chosen.length || Number($('best-count').value) || 0;
  const picked = counts(n);
  for (const type of state.types.slice(1)) {
    const input = $(`ticket-${type.code}`);
    if (!input) continue;
    input.max = String(n);
    input.value = String(picked[type.code] ?? 0);
  }
  const rest = $('ticket-rest');
  if (rest) rest.textContent = `${state.types[0].name}: ${n - Object.values(picked).reduce((a, b) => a + b, 0)}`;
  const items = lines(chosen);
  $('chosen-lines').replaceChildren(...items.map(line));
  $('chosen-empty').hidden = items.length > 0;
  $('total').textContent = money(items.reduce((sum, item) => sum + item.price, 0), currency());
  const button = document.querySelector('[data-action="hold"]');
  button.disabled = state.busy || items.length === 0;
  button.textContent = items.length > 1 ? `Hold ${items.length} seats` : 'Hold seat';
}

function bestCategories() {
  const select = $('best-category');
  const kinds = Object.keys(state.session?.prices ?? {});
  $('best-category-field').hidden = kinds.length < 2;
  select.replaceChildren(
    new Option('Any', ''),
    ...kinds.map((k) => new Option(KIND[k] ?? k, k)),
  );
}

// -- holding, paying, cancelling --------------------------------------------------------------

function busy(on) {
  state.busy = on;
  for (const button of document.querySelectorAll('[data-action]')) button.disabled = on;
  if (!on) order();
}

function remember(kind, id, until = null) {
  sessionStorage.setItem(`cinema.order.${sessionId}`, JSON.stringify({ [kind]: id, until }));
}

function forget() {
  sessionStorage.removeItem(`cinema.order.${sessionId}`);
}

function needSignIn() {
  problem('Sign in to hold seats: paste your token in the form above.', 'unauthorized');
  askToSignIn();
}

async function hold() {
  if (!token()) return needSignIn();
  const seats = byLabelOrder(state.chosen, (l) => view.seat(l));
  clearMessages();
  busy(true);
  try {
    const body = { session_id: sessionId, seats };
    const tickets = counts(seats.length);
    if (Object.keys(tickets).length) body.tickets = tickets;
    const { data, served } = await call('POST', '/reservations', { body, idempotent: true });
    holding(data, null);
  } catch (error) {
    explain(error, { seats });
  } finally {
    busy(false);
  }
}

async function best(event) {
  event.preventDefault();
  if (!token()) return needSignIn();
  const count = Number($('best-count').value);
  const together = $('best-together').checked;
  if (!(count >= 1 && count <= MAX_SEATS)) {
    problem(`Ask for 1 to ${MAX_SEATS} seats.`, 'validation_error');
    return;
  }
  clearMessages();
  busy(true);
  try {
    const body = { session_id: sessionId, count, together };
    const category = $('best-category').value;
    if (category) body.category = category;
    const tickets = counts(count);
    if (Object.keys(tickets).length) body.tickets = tickets;
    const { data, served } = await call('POST', '/reservations', { body, idempotent: true });
    state.chosen.clear();
    holding(data, null);
  } catch (error) {
    if (error.code === 'validation_error' && 'seats' in (error.details?.fields ?? {})) {
      problem('This box office does not pick seats yet: choose them on the map.', 'best_unsupported');
    } else {
      explain(error, { together });
    }
  } finally {
    busy(false);
  }
}

// A pending hold. A new one runs for expires_at - created_at from now, whatever this
// computer's clock says; a restored one until the instant noted when it was made, or else by
// the server's clock (``served``, from its Date header).
function holding(reservation, served, until = null) {
  state.reservation = reservation;
  state.chosen.clear();
  const expires = Date.parse(reservation.expires_at);
  let left = expires - Date.parse(reservation.created_at);
  if (until !== null) left = until - Date.now();
  else if (served !== null) left = expires - served;
  remember('reservation', reservation.id, Date.now() + left);
  state.deadline = performance.now() + left;
  state.warned = false;
  for (const label of reservation.seats) if (view.seat(label)?.status === 'available') view.update(label, 'held');
  view.paint();
  const items = reservation.lines
    ? reservation.lines.map((l) => ({ ...l, price: cents(l.price) }))
    : reservation.seats.map((label) => ({ seat: label, category: view.seat(label)?.category, ticket: state.types[0].code, price: priceOf(view.seat(label)) }));
  $('held-lines').replaceChildren(...items.map(line));
  const amount = money(cents(reservation.amount), reservation.currency);
  $('held-total').textContent = amount;
  document.querySelector('[data-action="pay"]').textContent = `Pay ${amount}`;
  show('hold');
  info(`${listed(reservation.seats)} ${reservation.seats.length > 1 ? 'are' : 'is'} held for you. Pay before the time runs out.`);
  clearInterval(state.timer);
  state.timer = setInterval(tick, 200);
  tick();
  // After the request's buttons are enabled again.
  setTimeout(() => document.querySelector('[data-action="pay"]').focus(), 0);
}

function tick() {
  const left = state.deadline - performance.now();
  const timer = $('countdown');
  timer.textContent = clock(left);
  timer.classList.toggle('urgent', left <= WARN_AT);
  if (left <= WARN_AT && !state.warned && left > 0) {
    state.warned = true;
    info(`${Math.ceil(left / 1000)} seconds left to pay.`);
  }
  if (left <= 0) lapsed();
}

function released() {
  clearInterval(state.timer);
  const seats = state.reservation?.seats ?? [];
  state.reservation = null;
  forget();
  show('choose');
  view.paint(...seats);
  order();
  return seats;
}

function lapsed() {
  const hadFocus = $('hold-panel').contains(document.activeElement);
  const seats = released();
  if (hadFocus) view.focus();
  problem(`Your hold on ${listed(seats)} lapsed before payment, so the seats were released and nothing was charged. Choose seats again.`, 'hold_lapsed');
  state.refreshed = -Infinity;
  refreshMap();
}

async function pay() {
  const reservation = state.reservation;
  if (!reservation) return;
  clearMessages();
  busy(true);
  try {
    const { data } = await call('POST', `/reservations/${reservation.id}/payment`, { idempotent: true });
    await paid(data);
  } catch (error) {
    explain(error);
  } finally {
    busy(false);
  }
}

async function cancel() {
  const reservation = state.reservation;
  if (!reservation) return;
  clearMessages();
  busy(true);
  try {
    await call('DELETE', `/reservations/${reservation.id}`);
    for (const label of released()) if (view.seat(label)?.status === 'held') view.update(label, 'available');
    info('Hold cancelled: the seats are free again.');
    view.focus();
  } catch (error) {
    explain(error);
  } finally {
    busy(false);
  }
}

async function paid(sale) {
  clearInterval(state.timer);
  state.reservation = null;
  remember('sale', sale.id);
  for (const label of sale.seats) view.update(label, 'sold');
  view.paint();
  $('paid').textContent = `Paid ${money(cents(sale.amount), sale.currency)} for ${listed(sale.seats)}. Show these at the door.`;
  show('tickets');
  info('Payment confirmed.');
  $('paid').setAttribute('tabindex', '-1');
  $('paid').focus();
  await tickets(sale);
}

async function tickets(sale) {
  let items;
  try {
    items = (await get(`/sales/${sale.id}/tickets`)).items;
  } catch (error) {
    if (!unsupported(error)) {
      explain(error);
      return;
    }
    // A box office without tickets yet: the sale itself is the proof of purchase.
    items = sale.seats.map((seat) => ({ id: null, seat, ticket: null, code: sale.id }));
  }
  $('tickets').replaceChildren(...items.map(ticket));
  for (const item of items) if (item.id) qr(item);
}

function ticket(item) {
  const li = document.createElement('li');
  li.className = 'ticket';
  li.dataset.ticket = item.seat;
  const figure = document.createElement('div');
  figure.className = 'qr';
  figure.id = `qr-${item.seat}`;
  const text = document.createElement('div');
  const seat = document.createElement('strong');
  seat.textContent = `Seat ${item.seat}`;
  const type = document.createElement('span');
  type.textContent = item.ticket ? typeName(item.ticket) : '';
  const code = document.createElement('code');
  code.textContent = item.code;
  text.append(seat, type, code);
  li.append(figure, text);
  return li;
}

async function qr(item) {
  try {
    const image = new Image();
    image.src = URL.createObjectURL(await blob(`/tickets/${item.id}/qr.svg`, 'image/svg+xml'));
    image.alt = `QR code of the ticket for seat ${item.seat}`;
    image.width = 128;
    image.height = 128;
    $(`qr-${item.seat}`).replaceChildren(image);
  } catch {
    $(`qr-${item.seat}`).textContent = 'QR code unavailable';
  }
}

function show(panel) {
  $('choose-panel').hidden = panel !== 'choose';
  $('hold-panel').hidden = panel !== 'hold';
  $('tickets-panel').hidden = panel !== 'tickets';
}

// A hold or a sale made in this tab before a reload.
async function restore() {
  const saved = JSON.parse(sessionStorage.getItem(`cinema.order.${sessionId}`) ?? 'null');
  if (!saved || !token()) return;
  try {
    if (saved.reservation) {
      const { data, served } = await call('GET', `/reservations/${saved.reservation}`);
      if (data.status === 'pending') holding(data, served, saved.until ?? null);
      else if (data.status === 'confirmed' && data.sale_id) await paid(await get(`/sales/${data.sale_id}`));
      else forget();
    } else if (saved.sale) {
      await paid(await get(`/sales/${saved.sale}`));
    }
  } catch {
    forget();
  }
}

document.querySelector('[data-action="hold"]').addEventListener('click', hold);
document.querySelector('[data-action="pay"]').addEventListener('click', pay);
document.querySelector('[data-action="cancel"]').addEventListener('click', cancel);
$('best').addEventListener('submit', best);
$('best-count').addEventListener('input', order);
$('again').addEventListener('click', () => {
  forget();
  clearMessages();
  show('choose');
  order();
});
onIdentityChange(() => clearMessages());

listen();
await loadSession();
await restore();
