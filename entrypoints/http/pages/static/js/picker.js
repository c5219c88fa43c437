// The seat picker: the room drawn live from the seat stream; seats chosen by click (or keys) or
// picked by the box office; the price adding up by ticket type; a hold with its countdown;
// payment (at once, or by Pix through a provider: its QR code, copy-paste code and countdown,
// until the money is in), cancellation, and the tickets with their QR codes. Every refusal, and
// every way a payment can end, is explained.

import { askToSignIn } from './account.js';
import { blob, call, get, post } from './api.js';
import { onIdentityChange, token } from './auth.js';
import { features } from './features.js';
import { ProductPicker, claimItems, productItem } from './goods.js';
import { cents, money } from './money.js';
import { TicketChoice } from './order.js';
import { SeatMapView, byLabelOrder } from './seatmap.js';
import { phrase } from './phrases.js';
import { WaitingRoom } from './queue.js';
import { follow } from './stream.js';
import { showTickets } from './tickets.js';
import { clock, showTime } from './when.js';
import { KIND, lapse, listed, refusal } from './words.js';

const $ = (id) => document.getElementById(id);
const sessionId = $('picker').dataset.sessionId;
const MAX_SEATS = 10;
const WARN_AT = 10_000;
// The slow poll of a pending payment, in case the seat stream's word that the seats turned
// sold never comes (it is the fast path): and how often at most the payment is re-read.
const POLL_MS = 5000;
const RECHECK_MS = 500;
const WORD = Object.fromEntries(
  ['available', 'chosen', 'mine', 'held', 'sold', 'blocked'].map((state) => [state, phrase(`state-${state}`)]),
);
const PRICED = new Set(['available', 'chosen', 'mine']);
// After the stream says seats changed, the quotas are read again at most this often (a burst
// of changes is one read).
const QUOTAS_MS = 300;

const room = new WaitingRoom(sessionId);
const state = {
  session: null,
  chosen: new Set(),
  reservation: null,
  sale: null,
  // A Pix payment under way for the hold: GET /payments/{id}.
  payment: null,
  payDeadline: 0,
  payTimer: 0,
  poll: 0,
  checked: -Infinity,
  deadline: 0,
  timer: 0,
  warned: false,
  busy: false,
  refreshed: -Infinity,
  // 'sales_closed' or 'cancelled' once the session sells no more.
  closed: null,
};

const view = new SeatMapView($('seat-map'), { look, onChoose: choose });
let drawn;
const mapDrawn = new Promise((resolve) => {
  drawn = resolve;
});
const tickets = new TicketChoice($('ticket-types'), () => order());
const goods = new ProductPicker($('product-list'), () => order());
const button = (action) => document.querySelector(`[data-action="${action}"]`);

// -- what each seat looks like ---------------------------------------------------------------

function stateOf(seat) {
  if (seat.status === 'blocked') return 'blocked';
  const mine = state.reservation?.status === 'pending' && state.reservation.seats.includes(seat.label);
  if (mine && seat.status !== 'sold') return 'mine';
  if (state.chosen.has(seat.label)) return 'chosen';
  return seat.status;
}

function priceOf(seat) {
  const s = state.session;
  return cents(s?.prices?.[seat.category] ?? s?.price ?? '0');
}

function currency() {
  return state.session?.currency ?? 'BRL';
}

function look(seat) {
  const now = stateOf(seat);
  const kind = KIND[seat.category] ?? seat.category;
  const pair = seat.pair ? ` ${phrase('with-pair', { pair: seat.pair })}` : '';
  const price = PRICED.has(now) ? `, ${money(priceOf(seat), currency())}` : '';
  return { state: now, name: `${seat.label}, ${kind}${pair}, ${WORD[now]}${price}` };
}

// -- messages ---------------------------------------------------------------------------------

function problem(text, code) {
  const box = $('problem');
  box.textContent = text;
  box.dataset.code = code;
  box.hidden = false;
  info('');
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

// Say why a request was refused, and put the page right where the refusal tells us something.
function refused(error, { seats = [], together = true } = {}) {
  if (error.code === 'reservation_expired') return lapsed();
  if (error.code === 'seats_unavailable') {
    error.details.seats ??= seats;
    for (const label of error.details.seats) {
      if (view.seat(label)?.status === 'available') view.update(label, 'held');
      unchoose(label);
    }
    order();
    refreshMap();
  }
  if (error.code === 'reservation_cancelled') released();
  if (error.code === 'product_sold_out') goods.soldOut(error.details.product, error.details.left ?? 0);
  if (error.code === 'promo_code_invalid') $('promo-code').setAttribute('aria-invalid', 'true');
  if (error.code === 'sales_closed' || error.code === 'session_cancelled') {
    closeSales(error.code === 'session_cancelled' ? 'cancelled' : 'sales_closed');
    problem(phrase(error.code), error.code);
    return undefined;
  }
  const words = { typeName: (c) => tickets.name(c), productName: (c) => goods.name(c), together, stillChosen: state.chosen.size };
  problem(refusal(error, words), error.code);
  if (error.code === 'unauthorized') askToSignIn();
  return undefined;
}

// -- the session and its map ------------------------------------------------------------------

async function loadSession() {
  try {
    state.session = await get(`/sessions/${sessionId}`);
  } catch (error) {
    refused(error);
    return;
  }
  const s = state.session;
  $('starts').textContent = showTime(s.starts_at);
  if (s.cinema) $('room').textContent = `${s.room} · ${s.cinema}`;
  if (s.status && s.status !== 'on_sale') closeSales(s.status);
  tickets.setTypes(s.ticket_types);
  await goods.load(get);
  showQuotas(s.quotas);
  bestCategories();
  $('best').hidden = !(await features()).best;
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
  showQuotas(map.quotas);
  drawn();
}

// -- what is left of each quota group ---------------------------------------------------------

let quotasDue = 0;
let quotasRead = 0;

// "12 meias-entradas left": each group's ``left`` as the seat map (or the session) tells it.
function showQuotas(quotas) {
  if (!quotas) return;
  const types = state.session?.ticket_types ?? [];
  const items = Object.entries(quotas).map(([group, quota]) => {
    const item = document.createElement('span');
    item.dataset.quota = group;
    item.dataset.left = String(quota.left);
    if (group === 'meia') {
      const count = quota.left === 0 ? 'none' : quota.left === 1 ? 'one' : 'many';
      item.textContent = phrase(`quota-meia-${count}`, { left: quota.left });
    } else {
      const names = types.filter((t) => (t.quota_group ?? t.code) === group).map((t) => t.name);
      item.textContent = phrase('quota-other', { names: listed(names.length ? names : [group]), left: quota.left });
    }
    return item;
  });
  $('quotas').replaceChildren(...items.flatMap((item, i) => (i ? [' · ', item] : [item])));
}

// Seats changed somewhere: a hold or a sale may have used (or freed) a quota. The seat map says.
function quotasChanged() {
  if (quotasDue) return;
  quotasDue = setTimeout(async () => {
    quotasDue = 0;
    const round = ++quotasRead;
    try {
      const map = await get(`/sessions/${sessionId}/seats`);
      if (round === quotasRead) showQuotas(map.quotas);
    } catch {
      // The next change, or the stream's next snapshot, brings them.
    }
  }, QUOTAS_MS);
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
  mark.textContent = on ? phrase('live') : phrase('reconnecting');
}

function changed(changes) {
  let lost = [];
  for (const { label, status } of changes) {
    if (!view.update(label, status)) continue;
    if (state.chosen.has(label) && status !== 'available') {
      lost = [...lost, label];
      unchoose(label);
    }
  }
  if (lost.length) {
    info(phrase('lost', { count: lost.length, seats: listed(lost) }));
    order();
  }
  free();
  quotasChanged();
  // The hold's seats turning sold (or free) means the payment was decided, in whichever
  // process heard of the money: read it now.
  const held = state.reservation?.seats ?? [];
  if (state.payment && changes.some(({ label }) => held.includes(label))) checkPayment(true);
}

function free() {
  const open = view.count((s) => s.status === 'available');
  const all = view.count((s) => s.status !== 'blocked');
  $('live').title = phrase('seats-free', { free: open, count: all });
}

function legend() {
  const items = [];
  const seats = [...view.seats.values()];
  for (const category of Object.keys(KIND)) {
    const sample = seats.find((s) => s.category === category && s.status !== 'blocked');
    if (!sample) continue;
    const price = { kind: KIND[category], price: money(priceOf(sample), currency()) };
    items.push([category, 'available', phrase(category === 'couple' ? 'legend-each' : 'legend-price', price)]);
  }
  items.push(['standard', 'chosen', WORD.chosen], ['standard', 'mine', WORD.mine]);
  items.push(['standard', 'held', phrase('legend-held')], ['standard', 'sold', WORD.sold]);
  if (seats.some((s) => s.status === 'blocked')) items.push(['standard', 'blocked', WORD.blocked]);
  $('legend').replaceChildren(
    ...items.map(([category, shown, text]) => {
      const item = document.createElement('li');
      const mark = document.createElement('span');
      mark.className = `seat mini cat-${category}`;
      mark.dataset.state = shown;
      mark.setAttribute('aria-hidden', 'true');
      item.append(mark, text);
      return item;
    }),
  );
}

// -- choosing and the price -------------------------------------------------------------------

function group(seat) {
  if (!seat.pair) return [seat.label];
  return byLabelOrder([seat.label, seat.pair], (l) => view.seat(l) ?? seat);
}

function unchoose(label) {
  const seat = view.seat(label);
  for (const each of seat ? group(seat) : [label]) {
    state.chosen.delete(each);
    view.paint(each);
  }
}

function choose(seat) {
  if (state.closed) return;
  if (state.reservation) {
    info(phrase('already-held'));
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
      problem(phrase('couple-taken', { seats: listed(seats) }), 'couple_seat_split');
      return;
    }
    if (state.chosen.size + seats.length > MAX_SEATS) {
      info(phrase('at-most', { count: MAX_SEATS }));
      return;
    }
    for (const label of seats) state.chosen.add(label);
    view.paint(...seats);
    if (seats.length > 1) info(phrase('couple-chosen', { seats: listed(seats) }));
  } else {
    info(phrase('seat-is', { seat: seat.label, state: WORD[now] }));
    return;
  }
  order();
}

function chosenSeats() {
  return byLabelOrder(state.chosen, (l) => view.seat(l)).map((l) => view.seat(l));
}

function order() {
  const seats = chosenSeats();
  tickets.show(seats.length || Number($('best-count').value) || 0);
  const lines = tickets.lines(seats, priceOf);
  $('chosen-lines').replaceChildren(...lines.map((line) => tickets.item(line, currency())));
  $('chosen-empty').hidden = lines.length > 0;
  const products = goods.lines();
  $('chosen-products').replaceChildren(...products.map((p) => productItem(p, currency())));
  const sum = lines.reduce((all, line) => all + line.price, 0) + products.reduce((all, p) => all + p.amount, 0);
  $('total').textContent = money(sum, currency());
  const hold = button('hold');
  hold.disabled = state.busy || lines.length === 0;
  hold.textContent = phrase('hold-seats', { count: Math.max(1, lines.length) });
}

function bestCategories() {
  const kinds = Object.keys(state.session?.prices ?? {});
  $('best-category-field').hidden = kinds.length < 2;
  $('best-category').replaceChildren(new Option(phrase('any-category'), ''), ...kinds.map((k) => new Option(KIND[k] ?? k, k)));
}

// -- holding, paying, cancelling --------------------------------------------------------------

function busy(on) {
  state.busy = on;
  for (const each of document.querySelectorAll('[data-action]')) each.disabled = on;
  if (!on) order();
}

function remember(kind, id, until = null) {
  sessionStorage.setItem(`cinema.order.${sessionId}`, JSON.stringify({ [kind]: id, until }));
}

function forget() {
  sessionStorage.removeItem(`cinema.order.${sessionId}`);
}

// The products and the promo code the buyer added, for the hold's body.
function extras() {
  const out = {};
  const products = goods.asked();
  if (Object.keys(products).length) out.products = products;
  const code = $('promo-code').value.trim();
  if (code) out.promo_code = code;
  return out;
}

// POST /reservations with this body (seats, or best available), then the hold.
async function reserve(body, context) {
  if (!token()) {
    problem(phrase('sign-in-to-hold'), 'unauthorized');
    askToSignIn();
    return;
  }
  clearMessages();
  busy(true);
  try {
    const { data } = await call('POST', '/reservations', {
      body: { session_id: sessionId, ...body, ...extras() },
      idempotent: true,
      headers: room.headers(),
    });
    $('promo-code').removeAttribute('aria-invalid');
    holding(data, null);
  } catch (error) {
    if (['admission_required', 'admission_expired', 'admission_invalid'].includes(error.code)) {
      queueUp();
    } else if (error.code === 'validation_error' && 'count' in body && 'seats' in (error.details?.fields ?? {})) {
      problem(phrase('best-unsupported'), 'best_unsupported');
    } else {
      refused(error, context);
    }
  } finally {
    busy(false);
  }
}

function hold() {
  const seats = chosenSeats().map((s) => s.label);
  const counted = tickets.counts(seats.length);
  reserve(Object.keys(counted).length ? { seats, tickets: counted } : { seats }, { seats });
}

function best(event) {
  event.preventDefault();
  const count = Number($('best-count').value);
  const together = $('best-together').checked;
  if (!(count >= 1 && count <= MAX_SEATS)) {
    problem(phrase('ask-for', { count: MAX_SEATS }), 'validation_error');
    return;
  }
  const body = { count, together };
  if ($('best-category').value) body.category = $('best-category').value;
  const counted = tickets.counts(count);
  if (Object.keys(counted).length) body.tickets = counted;
  state.chosen.clear();
  reserve(body, { together });
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
  const lines = reservation.lines
    ? reservation.lines.map((line) => ({ ...line, price: cents(line.price) }))
    : tickets.lines(reservation.seats.map((l) => view.seat(l) ?? { label: l, category: 'standard' }), priceOf);
  $('held-lines').replaceChildren(...lines.map((line) => tickets.item(line, currency())));
  $('held-goods').replaceChildren(...claimItems(reservation));
  const amount = money(cents(reservation.amount), reservation.currency);
  $('held-total').textContent = amount;
  button('pay').textContent = phrase('pay', { amount });
  show('hold');
  info(phrase('held-for-you', { count: reservation.seats.length, seats: listed(reservation.seats) }));
  clearInterval(state.timer);
  state.timer = setInterval(tick, 200);
  tick();
  // After the request's buttons are enabled again.
  setTimeout(() => button('pay').focus(), 0);
}

function tick() {
  const left = state.deadline - performance.now();
  const timer = $('countdown');
  timer.textContent = clock(left);
  timer.classList.toggle('urgent', left <= WARN_AT);
  if (left <= WARN_AT && !state.warned && left > 0) {
    state.warned = true;
    info(phrase('seconds-left', { count: Math.ceil(left / 1000) }));
  }
  if (left <= 0) lapsed();
}

function released() {
  clearInterval(state.timer);
  stopPaying();
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
  problem(lapse(seats), 'hold_lapsed');
  state.refreshed = -Infinity;
  refreshMap();
}

async function pay() {
  const reservation = state.reservation;
  if (!reservation) return;
  clearMessages();
  busy(true);
  try {
    const { data, served } = await call('POST', `/reservations/${reservation.id}/payment`, { idempotent: true });
    // 201 a sale (the instant provider); 202 a payment to make at the buyer's bank.
    if (data.payment) paying(data.payment, served);
    else await paid(data);
  } catch (error) {
    refused(error);
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
    tickets.reset();
    await goods.load(get);
    for (const label of released()) if (view.seat(label)?.status === 'held') view.update(label, 'available');
    info(phrase('hold-cancelled'));
    view.focus();
  } catch (error) {
    refused(error);
  } finally {
    busy(false);
  }
}

async function paid(sale, note = null) {
  clearInterval(state.timer);
  stopPaying();
  state.reservation = null;
  state.sale = sale;
  tickets.reset();
  goods.reset();
  // The stock moved with this sale (and maybe others'): what is left now.
  goods.load(get);
  $('promo-code').value = '';
  $('sale-goods').replaceChildren(...claimItems(sale));
  button('refund').hidden = sale.refunded_seats.length === sale.seats.length;
  remember('sale', sale.id);
  for (const label of sale.seats) view.update(label, 'sold');
  view.paint();
  const paidNote = $('paid');
  paidNote.textContent = note ?? phrase('paid-for', { amount: money(cents(sale.amount), sale.currency), seats: listed(sale.seats) });
  show('tickets');
  info('');
  paidNote.setAttribute('tabindex', '-1');
  paidNote.focus();
  try {
    await drawTickets(sale);
  } catch (error) {
    refused(error);
  }
}

async function drawTickets(sale) {
  await showTickets($('tickets'), sale, (code) => tickets.name(code), (await features()).tickets);
}

// -- a Pix payment through a provider ---------------------------------------------------------

const payKey = `cinema.payment.${sessionId}`;

function stopPaying() {
  clearInterval(state.payTimer);
  clearInterval(state.poll);
  state.payment = null;
  sessionStorage.removeItem(payKey);
  const qr = $('pix-qr');
  if (qr.src) URL.revokeObjectURL(qr.src);
  qr.removeAttribute('src');
  qr.hidden = true;
}

// A pending payment: its QR code, its code to copy, a countdown to the charge's expiry by the
// server's clock (``served``), and a watch for the money (the seat stream, and a slow poll).
function paying(payment, served) {
  const fresh = state.payment?.id !== payment.id;
  if (fresh) stopPaying();
  state.payment = payment;
  sessionStorage.setItem(payKey, payment.id);
  // The hold is the payment's now: its own countdown gives way to the charge's.
  clearInterval(state.timer);
  const amount = money(cents(payment.amount), payment.currency);
  $('pix-amount').textContent = phrase('pix-amount', { amount });
  $('pix-code').value = payment.pix?.qr_code ?? '';
  $('sandbox').hidden = payment.provider !== 'sandbox';
  $('sandbox-admin').hidden = true;
  state.payDeadline = performance.now() + (Date.parse(payment.expires_at) - served);
  show('paying');
  info(phrase('paying', { amount }));
  if (fresh) {
    drawQr(payment);
    clearInterval(state.payTimer);
    state.payTimer = setInterval(payTick, 200);
    clearInterval(state.poll);
    state.poll = setInterval(() => checkPayment(), POLL_MS);
    setTimeout(() => button('copy').focus(), 0);
  }
  payTick();
}

async function drawQr(payment) {
  try {
    const image = await blob(`/payments/${payment.id}/qr.svg`, 'image/svg+xml');
    if (state.payment?.id !== payment.id) return;
    const qr = $('pix-qr');
    qr.src = URL.createObjectURL(image);
    qr.hidden = false;
  } catch {
    // The copy-paste code pays as well as the picture does.
  }
}

function payTick() {
  const left = state.payDeadline - performance.now();
  const timer = $('pay-countdown');
  timer.textContent = clock(left);
  timer.classList.toggle('urgent', left <= WARN_AT);
  // The charge ran out: the server says how it ended (the bank may have paid in time).
  if (left <= 0) checkPayment(true);
}

async function resumePayment(paymentId) {
  try {
    const { data, served } = await call('GET', `/payments/${paymentId}`);
    if (data.status === 'pending') paying(data, served);
    else await settled(data);
  } catch {
    sessionStorage.removeItem(payKey);
  }
}

// Read the payment again (at most every RECHECK_MS unless ``now``) and act on how it stands.
async function checkPayment(now = false, asked = false) {
  const payment = state.payment;
  if (!payment) return;
  if (!now && performance.now() - state.checked < RECHECK_MS) return;
  state.checked = performance.now();
  try {
    const { data, served } = await call('GET', `/payments/${payment.id}`);
    if (state.payment?.id !== payment.id) return;
    if (data.status === 'pending') {
      paying(data, served);
      if (asked) info(phrase('still-pending'));
      return;
    }
    await settled(data);
  } catch (error) {
    // A poll that fails is tried again by the next one; a check asked for says why.
    if (asked) refused(error);
  }
}

// The payment is decided: tickets, or words saying what happened to the money and what next.
async function settled(payment) {
  const amount = money(cents(payment.amount), payment.currency);
  const seats = state.reservation?.seats ?? [];
  // At once, before any wait: another check racing this one then finds nothing to do.
  stopPaying();
  if (payment.status === 'approved' && payment.sale_id) {
    const sale = await get(`/sales/${payment.sale_id}`);
    const note = payment.late ? phrase('late-paid', { amount, seats: listed(sale.seats) }) : null;
    await paid(sale, note);
    return;
  }
  if (payment.status === 'declined') {
    // The hold is still there to pay again, if its time has not run out.
    const reservation = state.reservation;
    if (reservation) {
      try {
        const { data, served } = await call('GET', `/reservations/${reservation.id}`);
        if (data.status === 'pending') {
          holding(data, served);
          problem(phrase('declined'), 'payment_declined');
          return;
        }
      } catch {
        // Gone meanwhile: said below as a hold let go.
      }
    }
  }
  const words = {
    declined: phrase('expired'),
    expired: phrase('expired'),
    refunded: phrase('refunded', { amount, seats: seats.length ? listed(seats) : phrase('a-seat') }),
    review: phrase('review', { amount }),
  };
  released();
  tickets.reset();
  state.refreshed = -Infinity;
  refreshMap();
  problem(words[payment.status] ?? phrase('expired'), `payment_${payment.status}`);
}

async function copyCode() {
  const code = $('pix-code');
  try {
    await navigator.clipboard.writeText(code.value);
    info(phrase('copied'));
  } catch {
    // No clipboard API (an insecure context): the selected text is the next best thing.
    code.select();
    info(document.execCommand?.('copy') ? phrase('copied') : phrase('copy-failed'));
  }
}

// Sandbox only: the buyer's bank, played from the page (an admin's right in the contract).
async function playBank(act) {
  const payment = state.payment;
  if (!payment) return;
  clearMessages();
  try {
    const decided = await post(`/sandbox/payments/${payment.id}/${act}`);
    info(phrase(act === 'approve' ? 'bank-approved' : 'bank-declined'));
    if (decided.status !== 'pending' && state.payment?.id === payment.id) await settled(decided);
  } catch (error) {
    if (error.code === 'forbidden' || error.status === 403) {
      $('sandbox-admin').hidden = false;
      return;
    }
    refused(error);
  }
}

// Every seat of the sale not refunded yet, after the buyer says so; they are for sale again.
async function refund() {
  const sale = state.sale;
  const left = sale ? sale.seats.filter((label) => !sale.refunded_seats.includes(label)) : [];
  if (!left.length || !window.confirm(phrase('refund-confirm', { count: left.length, seats: listed(left) }))) return;
  clearMessages();
  busy(true);
  try {
    const { data } = await call('POST', `/sales/${sale.id}/refunds`, { idempotent: true });
    for (const label of data.seats) if (view.seat(label)) view.update(label, 'available');
    view.paint();
    button('refund').hidden = true;
    $('paid').textContent = phrase('refund-done', { count: data.seats.length, amount: money(cents(data.amount), data.currency), seats: listed(data.seats) });
    await drawTickets(await get(`/sales/${sale.id}`));
  } catch (error) {
    refused(error);
  } finally {
    busy(false);
  }
}

// The session sells no more (its sales closed, or it was cancelled): a hold of this tab is
// let go, and the page says so instead of offering seats.
function closeSales(status) {
  state.closed = status;
  $('closed').dataset.status = status;
  if (state.reservation) {
    clearInterval(state.timer);
    stopPaying();
    state.reservation = null;
    forget();
    view.paint();
  }
  state.chosen.clear();
  view.paint();
  if (!state.sale) show('closed');
}

function show(wanted) {
  const panel = wanted === 'choose' && state.closed ? 'closed' : wanted;
  $('order-title').textContent =
    panel === 'closed'
      ? phrase('title-closed')
      : phrase(`title-${panel}`);
  $('closed-panel').hidden = panel !== 'closed';
  $('choose-panel').hidden = panel !== 'choose';
  $('hold-panel').hidden = panel !== 'hold';
  $('paying-panel').hidden = panel !== 'paying';
  $('tickets-panel').hidden = panel !== 'tickets';
  $('queue-panel').hidden = panel !== 'queue';
}

// Behind a waiting room the buyer queues first; the picker opens by itself once admitted.
async function queueUp() {
  if (!token() || state.closed) return;
  show('queue');
  try {
    await room.enter();
  } catch (error) {
    refused(error);
  }
  show('choose');
  order();
}

// A hold or a sale made in this tab before a reload.
async function restore() {
  const saved = JSON.parse(sessionStorage.getItem(`cinema.order.${sessionId}`) ?? 'null');
  if (!saved || !token()) return;
  try {
    if (saved.reservation) {
      const { data, served } = await call('GET', `/reservations/${saved.reservation}`);
      if (data.status === 'pending') {
        holding(data, served, saved.until ?? null);
        const payment = sessionStorage.getItem(payKey);
        if (payment) await resumePayment(payment);
      }
      else if (data.status === 'confirmed' && data.sale_id) await paid(await get(`/sales/${data.sale_id}`));
      else forget();
    } else if (saved.sale) {
      await paid(await get(`/sales/${saved.sale}`));
    }
  } catch {
    forget();
  }
}

button('hold').addEventListener('click', hold);
button('pay').addEventListener('click', pay);
button('cancel').addEventListener('click', cancel);
button('refund').addEventListener('click', refund);
button('copy').addEventListener('click', copyCode);
button('check').addEventListener('click', () => checkPayment(false, true));
button('approve').addEventListener('click', () => playBank('approve'));
button('decline').addEventListener('click', () => playBank('decline'));
$('best').addEventListener('submit', best);
$('best-count').addEventListener('input', order);
$('again').addEventListener('click', () => {
  state.sale = null;
  forget();
  clearMessages();
  show('choose');
  order();
});
onIdentityChange(() => {
  clearMessages();
  if (!room.admission && !state.reservation && !state.sale) queueUp();
});

follow(sessionId, {
  snapshot(map) {
    live(true);
    drawMap(map);
    // Back after a cut: the payment may have been decided meanwhile.
    if (state.payment) checkPayment(true);
  },
  seats: changed,
  down() {
    live(false);
    // Meanwhile, draw the map as it is now; the stream sends a fresh snapshot when it is back.
    refreshMap();
  },
});
await loadSession();
// A hold is shown on the map, with its seats' kinds and prices: the map comes first.
await mapDrawn;
await restore();
if (!state.reservation && !state.sale) await queueUp();
