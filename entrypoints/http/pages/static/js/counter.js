// The counter: a staff member opens a shift with a float, sells seats of a session chosen on
// the live seat map (or the best ones available) for cash, card or Pix with the change shown
// before confirming, prints the sale, and closes the shift with the cash counted to see its
// statement. The map is the picker's own module (seatmap.js), fed by the same seat stream; the
// combos are the picker's own steppers (goods.js), sold with the seats with a promo code.

import { askToSignIn } from './account.js';
import { ApiError, call, get, html } from './api.js';
import { identity, onIdentityChange } from './auth.js';
import { ProductPicker, claimItems, productItem } from './goods.js';
import { cents, money } from './money.js';
import { TicketChoice } from './order.js';
import { phrase } from './phrases.js';
import { SeatMapView, byLabelOrder } from './seatmap.js';
import { follow } from './stream.js';
import { isoZ, showTime } from './when.js';
import { KIND, listed, refusal } from './words.js';

const $ = (id) => document.getElementById(id);
const MAX_SEATS = 10;
// The counter sells what is on today and tomorrow.
const AHEAD_MS = 48 * 3600 * 1000;
const WORD = Object.fromEntries(
  ['available', 'chosen', 'held', 'sold', 'blocked'].map((name) => [name, phrase(`state-${name}`)]),
);

const state = { shift: null, session: null, chosen: new Set(), stream: null, sale: null, busy: false };
const view = new SeatMapView($('seat-map'), { look, onChoose: choose });
const tickets = new TicketChoice($('ticket-types'), () => order());
const goods = new ProductPicker($('product-list'), () => order());
const button = (action) => document.querySelector(`[data-action="${action}"]`);

// -- money typed by a person: 100 · 100,00 · 100.00 ----------------------------------------------

function typed(text) {
  const clean = String(text ?? '').trim().replace(/\s/g, '').replace(/^R\$/, '').replace(',', '.');
  return clean === '' ? NaN : cents(clean);
}

function decimal(amount) {
  return `${Math.floor(amount / 100)}.${String(amount % 100).padStart(2, '0')}`;
}

function currency() {
  return state.session?.currency ?? state.shift?.currency ?? 'BRL';
}

// -- messages ----------------------------------------------------------------------------------

function problem(text, code = '') {
  $('problem').textContent = text;
  $('problem').dataset.code = code;
  $('problem').hidden = false;
  $('info').textContent = '';
}

function info(text) {
  $('problem').hidden = true;
  $('info').textContent = text;
}

function refused(error) {
  if (error.code === 'unauthorized') askToSignIn();
  if (error.code === 'product_sold_out') goods.soldOut(error.details.product, error.details.left ?? 0);
  if (error.code === 'promo_code_invalid') $('promo-code').setAttribute('aria-invalid', 'true');
  const own = ['no_open_shift', 'shift_open', 'shift_closed', 'sales_closed', 'session_cancelled'];
  if (own.includes(error.code)) problem(phrase(error.code), error.code);
  else problem(refusal(error, { typeName: (c) => tickets.name(c), productName: (c) => goods.name(c) }), error.code);
}

// -- who may use the screen --------------------------------------------------------------------

function allowed() {
  const me = identity();
  return me !== null && !me.expired && (me.role === 'staff' || me.role === 'admin');
}

function guard() {
  const ok = allowed();
  $('counter-guard').hidden = ok;
  $('counter-guard').textContent = ok ? '' : phrase('guard');
  $('counter').hidden = !ok;
  if (ok) loadShift();
}

// -- the shift ---------------------------------------------------------------------------------

async function loadShift() {
  try {
    const open = await get('/shifts');
    showShift(open.items[0] ?? null);
  } catch (error) {
    refused(error);
  }
}

function showShift(shift) {
  state.shift = shift;
  const open = shift !== null && shift.status === 'open';
  $('open-shift').hidden = open;
  $('shift-open').hidden = !open;
  $('sell-panel').hidden = !open;
  if (open) {
    $('shift-summary').textContent = phrase('shift-summary', {
      time: showTime(shift.opened_at),
      float: money(cents(shift.float), shift.currency),
      sales: shift.sales,
      cash: money(cents(shift.expected_cash), shift.currency),
    });
    loadSessions();
    goods.load(get);
  }
}

function showStatement(shift) {
  const figure = (name, value) => {
    document.querySelector(`[data-statement="${name}"]`).textContent = value;
  };
  const brl = (amount) => money(cents(amount), shift.currency);
  figure('sales', String(shift.sales));
  figure('cash', brl(shift.by_method.cash));
  figure('card', brl(shift.by_method.card));
  figure('pix', brl(shift.by_method.pix));
  figure('expected', brl(shift.expected_cash));
  figure('counted', brl(shift.counted_cash));
  figure('difference', brl(shift.difference));
  $('statement').hidden = false;
}

async function openShift(event) {
  event.preventDefault();
  const amount = typed($('float').value);
  if (Number.isNaN(amount) || amount < 0) return problem(phrase('bad-money'), 'validation_error');
  try {
    const { data } = await call('POST', '/shifts', { body: { float: decimal(amount) } });
    $('statement').hidden = true;
    showShift(data);
    info(phrase('shift-opened'));
  } catch (error) {
    if (error.code === 'shift_open') await loadShift();
    refused(error);
  }
  return undefined;
}

async function closeShift(event) {
  event.preventDefault();
  const amount = typed($('counted').value);
  if (Number.isNaN(amount) || amount < 0) return problem(phrase('bad-money'), 'validation_error');
  try {
    const { data } = await call('POST', `/shifts/${state.shift.id}/close`, {
      body: { counted_cash: decimal(amount) },
    });
    leaveSession();
    $('session-area').hidden = true;
    $('sold').hidden = true;
    $('counter-session').value = '';
    $('counted').value = '';
    showShift(null);
    showStatement(data);
    info(phrase('shift-closed'));
  } catch (error) {
    refused(error);
  }
  return undefined;
}

async function refreshShift() {
  try {
    showShift(await get(`/shifts/${state.shift.id}`));
  } catch {
    // The figures catch up on the next sale.
  }
}

// -- the sessions on sale ----------------------------------------------------------------------

async function loadSessions() {
  const now = new Date();
  let page;
  try {
    page = await get(`/sessions?limit=200&from=${isoZ(now)}&to=${isoZ(new Date(now.getTime() + AHEAD_MS))}`);
  } catch (error) {
    refused(error);
    return;
  }
  const select = $('counter-session');
  const current = select.value;
  const items = page.items.filter((s) => s.status === 'on_sale');
  const named = (s) => `${s.movie} · ${showTime(s.starts_at)} · ${s.room}`;
  select.replaceChildren(select.options[0], ...items.map((s) => new Option(named(s), s.id)));
  select.value = items.some((s) => s.id === current) ? current : '';
}

function leaveSession() {
  state.stream?.close();
  state.stream = null;
  state.session = null;
  state.chosen.clear();
}

async function chooseSession() {
  leaveSession();
  $('sold').hidden = true;
  const id = $('counter-session').value;
  $('session-area').hidden = !id;
  if (!id) return;
  try {
    state.session = await get(`/sessions/${id}`);
  } catch (error) {
    refused(error);
    return;
  }
  tickets.setTypes(state.session.ticket_types);
  live(false);
  state.stream = follow(id, {
    snapshot(map) {
      live(true);
      drawMap(map);
    },
    seats: changed,
    down() {
      live(false);
    },
  });
  order();
}

function live(on) {
  $('live').dataset.live = on ? 'on' : 'off';
  $('live').textContent = on ? phrase('live') : phrase('reconnecting');
}

function drawMap(map) {
  view.draw(map);
  for (const label of [...state.chosen]) if (view.seat(label)?.status !== 'available') state.chosen.delete(label);
  order();
}

function changed(changes) {
  for (const { label, status } of changes) {
    if (view.update(label, status) && status !== 'available') state.chosen.delete(label);
  }
  order();
}

// -- seats chosen, what they cost, the change --------------------------------------------------

function priceOf(seat) {
  const s = state.session;
  return cents(s?.prices?.[seat.category] ?? s?.price ?? '0');
}

function stateOf(seat) {
  if (seat.status === 'blocked') return 'blocked';
  if (state.chosen.has(seat.label)) return 'chosen';
  return seat.status;
}

function look(seat) {
  const now = stateOf(seat);
  const kind = KIND[seat.category] ?? seat.category;
  const pair = seat.pair ? ` ${phrase('with-pair', { pair: seat.pair })}` : '';
  const price = now === 'available' || now === 'chosen' ? `, ${money(priceOf(seat), currency())}` : '';
  return { state: WORD[now] ? now : 'held', name: `${seat.label}, ${kind}${pair}, ${WORD[now] ?? now}${price}` };
}

function choose(seat) {
  if (!seat || state.busy) return;
  if (state.chosen.has(seat.label)) {
    state.chosen.delete(seat.label);
    if (seat.pair) state.chosen.delete(seat.pair);
  } else if (seat.status === 'available') {
    const adding = seat.pair && view.seat(seat.pair)?.status === 'available' ? [seat.label, seat.pair] : [seat.label];
    if (state.chosen.size + adding.length > MAX_SEATS) {
      problem(phrase('at-most', { count: MAX_SEATS }));
      return;
    }
    for (const label of adding) state.chosen.add(label);
  }
  view.paint(seat.label, ...(seat.pair ? [seat.pair] : []));
  $('sold').hidden = true;
  order();
}

function chosenSeats() {
  return byLabelOrder(state.chosen, (label) => view.seat(label)).map((label) => view.seat(label));
}

function bestCount() {
  const n = Number.parseInt($('best-count').value, 10);
  return Number.isInteger(n) && n >= 1 && n <= MAX_SEATS ? n : 0;
}

function method() {
  return document.querySelector('input[name="method"]:checked').value;
}

// The seats' total in cents, or null when the server alone can price it (best available over
// categories of different prices).
function seatsTotal() {
  const seats = chosenSeats();
  if (seats.length) return tickets.lines(seats, priceOf).reduce((sum, line) => sum + line.price, 0);
  const n = bestCount();
  if (!n) return 0;
  const prices = new Set(Object.values(state.session?.prices ?? {}));
  if (prices.size > 1) return null;
  const price = cents([...prices][0] ?? state.session?.price ?? '0');
  return tickets.lines(Array.from({ length: n }, () => ({ label: '', category: 'standard' })), () => price)
    .reduce((sum, line) => sum + line.price, 0);
}

// Seats and combos, before any discount: the server alone judges a promo code.
function total() {
  const seats = seatsTotal();
  return seats === null ? null : seats + goods.lines().reduce((sum, p) => sum + p.amount, 0);
}

function promoCode() {
  return $('promo-code').value.trim();
}

function order() {
  const seats = chosenSeats();
  const n = seats.length || bestCount();
  tickets.show(n);
  $('chosen-lines').replaceChildren(...tickets.lines(seats, priceOf).map((line) => tickets.item(line, currency())));
  $('chosen-products').replaceChildren(...goods.lines().map((p) => productItem(p, currency())));
  const amount = total();
  const discounted = promoCode() !== '';
  const shown = (cash) => (discounted ? phrase('before-discount', { amount: money(cash, currency()) }) : money(cash, currency()));
  $('total').textContent = amount === null ? phrase('unpriced') : shown(amount);
  const cash = method() === 'cash';
  $('tendered-field').hidden = !cash;
  $('change-line').hidden = !cash;
  const tendered = typed($('tendered').value);
  let change = '';
  let enough = !cash;
  if (cash && !Number.isNaN(tendered) && amount !== null && discounted) {
    // The discount can only lower the amount: the change is at least this, and cash short of
    // the full price may still cover it (the sale's answer says).
    enough = true;
    change = tendered >= amount
      ? phrase('change-at-least', { amount: money(tendered - amount, currency()) })
      : phrase('short-before-discount', { amount: money(amount - tendered, currency()) });
  } else if (cash && !Number.isNaN(tendered) && amount !== null) {
    enough = tendered >= amount;
    change = enough ? money(tendered - amount, currency()) : phrase('short', { amount: money(amount - tendered, currency()) });
  } else if (cash && !Number.isNaN(tendered)) {
    enough = true;
  }
  $('change').textContent = change;
  $('change').dataset.enough = String(enough);
  button('sell').disabled = state.busy || n === 0 || !enough;
}

// -- the sale ----------------------------------------------------------------------------------

async function sell(event) {
  event.preventDefault();
  const seats = chosenSeats().map((s) => s.label);
  const n = seats.length || bestCount();
  if (!n || state.busy) return;
  const body = { session_id: state.session.id, payment_method: method(), tickets: tickets.counts(n) };
  if (seats.length) body.seats = seats;
  else body.count = n;
  if (body.payment_method === 'cash') body.tendered = decimal(typed($('tendered').value));
  const products = goods.asked();
  if (Object.keys(products).length) body.products = products;
  if (promoCode()) body.promo_code = promoCode();
  state.busy = true;
  order();
  try {
    const { data } = await call('POST', '/counter/sales', { body, idempotent: true });
    $('promo-code').removeAttribute('aria-invalid');
    sold(data);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'seats_unavailable') {
      for (const label of error.details.seats ?? seats) {
        state.chosen.delete(label);
        if (view.seat(label)?.status === 'available') view.update(label, 'held');
      }
    }
    refused(error);
  } finally {
    state.busy = false;
    order();
  }
}

function sold(sale) {
  state.sale = sale;
  for (const label of sale.seats) {
    state.chosen.delete(label);
    view.update(label, 'sold');
  }
  $('best-count').value = '0';
  $('tendered').value = '';
  tickets.reset();
  $('promo-code').value = '';
  $('sold-goods').replaceChildren(...claimItems(sale));
  // What is left of each product comes with the shift's figures, read again below.
  goods.reset();
  const amount = money(cents(sale.amount), sale.currency);
  const seats = listed(sale.seats);
  $('sold-summary').textContent =
    sale.payment_method === 'cash'
      ? phrase('sold-cash', {
          seats,
          amount,
          tendered: money(cents(sale.tendered), sale.currency),
          change: money(cents(sale.change), sale.currency),
        })
      : phrase('sold-other', { seats, amount, method: phrase(`method-${sale.payment_method}`) });
  $('sold').hidden = false;
  $('problem').hidden = true;
  $('info').textContent = '';
  button('print').focus();
  refreshShift();
}

// The print page needs the token, which a plain link cannot carry: it is fetched with it and
// written into a window opened at once (a window opened after the wait would be blocked).
async function print(paper) {
  const sheet = window.open('', '_blank');
  if (!sheet) return problem(phrase('print-failed'));
  try {
    const page = await html(`/sales/${state.sale.id}/print?paper=${paper}`);
    sheet.document.open();
    sheet.document.write(page);
    sheet.document.close();
  } catch (error) {
    sheet.close();
    refused(error);
  }
  return undefined;
}

$('open-shift').addEventListener('submit', openShift);
$('close-shift').addEventListener('submit', closeShift);
$('counter-session').addEventListener('change', chooseSession);
$('sale').addEventListener('submit', sell);
$('sale').addEventListener('input', order);
button('print').addEventListener('click', () => print('a4'));
button('print-receipt').addEventListener('click', () => print('receipt'));
button('next').addEventListener('click', () => {
  $('sold').hidden = true;
  $('info').textContent = '';
});
onIdentityChange(guard);
guard();
