// The admin screen: rooms from a text layout with a live preview, sessions in a room (or in a
// plain room made for them), every coming session's report, refreshed as sales come in, and,
// when the box office takes money through the sandbox, the bank's approve and decline; the
// webhooks' section is webhooks.js.

import './account.js';
import { loadProducts } from './admin_goods.js';
import { ApiError, blob, call, get, post, unsupported } from './api.js';
import { identity, onIdentityChange } from './auth.js';
import { features } from './features.js';
import { readLayout } from './layout.js';
import { cents, money } from './money.js';
import { phrase } from './phrases.js';
import { ratingBadge } from './rating.js';
import { SeatMapView } from './seatmap.js';
import { startWebhooks } from './webhooks.js';
import { LOCALE, ZONE, isoZ, showTime } from './when.js';

const $ = (id) => document.getElementById(id);
const KIND = Object.fromEntries(['standard', 'premium', 'couple', 'accessible'].map((k) => [k, phrase(`label-${k}`)]));
const REFRESH_MS = 2000;
const WATCHED = 20;
let rooms = [];
let polling = 0;
let coming = [];
// Every session an admin may still change or cancel (not ended, not cancelled), for the panel:
// sessions whose sales closed included, and more than the watched ones.
let changeable = [];

// -- who may use this page --------------------------------------------------------------------

function guard() {
  const me = identity();
  const ok = me !== null && me.role === 'admin' && !me.expired;
  const box = $('admin-guard');
  box.hidden = ok;
  box.textContent = ok
    ? ''
    : phrase('needs-admin');
  $('admin').hidden = !ok;
  if (ok) {
    features().then((offered) => {
      $('rooms-panel').hidden = !offered.rooms;
      if (offered.rooms) loadRooms();
    });
    startWebhooks();
    loadProducts();
    watch();
  }
}

function say(where, text, code = '') {
  const problem = $(`${where}-problem`);
  problem.hidden = !code;
  problem.textContent = code ? text : '';
  if (code) problem.dataset.code = code;
  $(`${where}-info`).textContent = code ? '' : text;
}

function fieldProblems(error) {
  const fields = error.details?.fields ?? {};
  const named = Object.entries(fields).map(([name, why]) => `${name} ${why}`);
  return named.length ? `${error.message} ${named.join('; ')}.` : error.message;
}

// -- rooms ------------------------------------------------------------------------------------

const preview = new SeatMapView($('layout-preview'), {
  interactive: false,
  look: (seat) => ({ state: seat.status === 'blocked' ? 'blocked' : 'available', name: '' }),
});

function previewLayout() {
  const read = readLayout($('room-layout').value);
  preview.draw(read.map);
  const parts = Object.entries(read.categories).map(([k, n]) => phrase(`count-${k}`, { count: n }));
  const blocked = read.blocked ? phrase('layout-blocked', { count: read.blocked }) : '';
  const summary = phrase(blocked ? 'layout-summary-blocked' : 'layout-summary', {
    rows: phrase('layout-rows', { count: read.map.rows }),
    seats: phrase('layout-seats', { count: read.seatCount }),
    parts: parts.join(', ') || phrase('layout-none'),
    blocked,
  });
  $('layout-summary').textContent = read.errors.length ? `${summary} ${read.errors[0]}` : summary;
  $('layout-summary').dataset.valid = String(!read.errors.length);
  $('room-layout').setAttribute('aria-invalid', String(read.errors.length > 0));
  $('layout-preview').setAttribute('aria-label', phrase('layout-preview', { summary }));
  return read;
}

async function createRoom(event) {
  event.preventDefault();
  const read = previewLayout();
  if (read.errors.length) {
    say('room', read.errors.join(' '), 'validation_error');
    return;
  }
  const body = { cinema: $('room-cinema').value.trim(), name: $('room-name').value.trim(), layout: read.rows };
  try {
    const room = await post('/rooms', body);
    say('room', phrase('room-created', { name: room.name, cinema: room.cinema, count: room.seat_count }));
    await loadRooms(room.id);
  } catch (error) {
    if (error.code === 'room_exists') say('room', phrase('room_exists', { cinema: body.cinema, name: body.name }), error.code);
    else if (unsupported(error)) say('room', phrase('rooms-unsupported'), 'rooms_unsupported');
    else say('room', fieldProblems(error), error.code);
  }
}

async function loadRooms(select) {
  let data;
  try {
    data = await get('/rooms');
  } catch {
    data = [];
  }
  rooms = Array.isArray(data) ? data : (data.items ?? []);
  $('rooms').replaceChildren(
    ...(rooms.length ? rooms : [null]).map((room) => {
      const li = document.createElement('li');
      li.textContent = room ? phrase('room-line', { cinema: room.cinema, name: room.name, count: room.seat_count }) : phrase('no-rooms');
      return li;
    }),
  );
  const options = rooms.map((r) => new Option(phrase('room-option', { cinema: r.cinema, name: r.name, count: r.seat_count }), r.id));
  const current = select ?? $('s-room').value;
  $('s-room').replaceChildren(new Option(phrase('plain-room'), ''), ...options);
  $('s-room').value = rooms.some((r) => r.id === current) ? current : '';
  priceFields();
}

// -- sessions ---------------------------------------------------------------------------------

function priceFields() {
  const room = rooms.find((r) => r.id === $('s-room').value);
  $('plain-room').hidden = Boolean(room);
  const kinds = room ? Object.keys(room.categories ?? {}).filter((k) => room.categories[k] > 0) : [null];
  const old = Object.fromEntries([...$('price-fields').querySelectorAll('input')].map((i) => [i.name, i.value]));
  $('price-fields').replaceChildren(
    ...kinds.map((kind) => {
      const field = document.createElement('div');
      field.className = 'field inline';
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.name = kind ?? 'price';
      input.id = `price-${input.name}`;
      input.inputMode = 'decimal';
      input.required = true;
      input.value = old[input.name] ?? ({ premium: '40.00', couple: '30.00' }[kind] ?? '25.00');
      label.htmlFor = input.id;
      label.textContent = kind ? (kind === 'couple' ? phrase('label-couple-half') : (KIND[kind] ?? kind)) : phrase('label-every');
      field.append(label, input);
      return field;
    }),
  );
}

function sessionBody() {
  const body = {
    movie: $('s-movie').value.trim(),
    starts_at: $('s-starts').value ? isoZ(new Date($('s-starts').value)) : '',
    duration_minutes: Number($('s-duration').value),
    forbid_single_gaps: $('s-gaps').checked,
    rating: $('s-rating').value,
  };
  const prices = Object.fromEntries([...$('price-fields').querySelectorAll('input')].map((i) => [i.name, i.value.trim().replace(',', '.')]));
  if ($('s-room').value) {
    body.room_id = $('s-room').value;
    body.prices = prices;
  } else {
    body.room = $('s-room-name').value.trim();
    body.rows = Number($('s-rows').value);
    body.seats_per_row = Number($('s-seats').value);
    body.price = prices.price;
  }
  return body;
}

async function createSession(event) {
  event.preventDefault();
  const body = sessionBody();
  try {
    const session = await post('/sessions', body);
    say('session', '');
    const info = $('session-info');
    const link = document.createElement('a');
    link.href = `/s/${session.id}`;
    link.textContent = phrase('open-picker');
    const [before, after] = phrase('session-created', { movie: session.movie, when: showTime(session.starts_at) }).split('{link}');
    info.replaceChildren(before ?? '', link, after ?? '');
    watch();
  } catch (error) {
    if (error.code === 'room_busy') say('session', phrase('room_busy'), error.code);
    else say('session', fieldProblems(error), error.code);
  }
}

// -- changing and cancelling a session --------------------------------------------------------

function localInput(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

// The longest session (minutes): one that started this long ago may still be running.
const LONGEST = 600;
const PAGES = 5;

async function loadChangeable() {
  const found = [];
  const from = isoZ(new Date(Date.now() - LONGEST * 60000));
  let cursor = null;
  for (let i = 0; i < PAGES; i += 1) {
    const next = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await get(`/sessions?past=true&limit=200&from=${from}${next}`);
    found.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  changeable = found.filter((s) => Date.parse(s.ends_at) > Date.now() && s.status !== 'cancelled');
}

function sessionOptions() {
  for (const id of ['c-session', 'w-session']) {
    const select = $(id);
    const current = select.value;
    const options = changeable.map((s) => new Option(`${s.movie} · ${showTime(s.starts_at)} · ${s.room}`, s.id));
    select.replaceChildren(select.options[0], ...options);
    select.value = changeable.some((s) => s.id === current) ? current : '';
  }
}

// -- waiting rooms ------------------------------------------------------------------------------

function showWaiting(room) {
  const now = $('waiting-now');
  now.dataset.waiting = room?.enabled ? String(room.waiting) : '';
  now.textContent = room?.enabled
    ? phrase('waiting-now', { waiting: room.waiting, active: room.active, rate: room.admit_per_minute })
    : phrase('waiting-off');
}

async function readWaiting(fill = false) {
  const id = $('w-session').value;
  if (!id) {
    $('waiting-now').textContent = '';
    return;
  }
  const room = await get(`/sessions/${id}/waiting-room`);
  if (fill && room.admit_per_minute) {
    $('w-rate').value = String(room.admit_per_minute);
    $('w-active').value = String(room.max_active);
    $('w-enabled').checked = room.enabled;
  }
  showWaiting(room);
}

async function saveWaiting(event) {
  event.preventDefault();
  const id = $('w-session').value;
  if (!id) return say('waiting', phrase('choose-session'), 'validation_error');
  const body = {
    enabled: $('w-enabled').checked,
    admit_per_minute: Number($('w-rate').value),
    max_active: Number($('w-active').value),
  };
  try {
    const { data } = await call('PUT', `/sessions/${id}/waiting-room`, { body });
    say('waiting', phrase('waiting-saved'));
    showWaiting(data);
  } catch (error) {
    say('waiting', fieldProblems(error), error.code);
  }
  return undefined;
}

function chosenSession() {
  return changeable.find((s) => s.id === $('c-session').value) ?? null;
}

function fillChange() {
  const s = chosenSession();
  $('c-movie').value = s?.movie ?? '';
  $('c-starts').value = s ? localInput(s.starts_at) : '';
  $('c-duration').value = s ? String(s.duration_minutes) : '';
  $('c-rating').value = s?.rating ?? 'L';
}

function named(s) {
  return { movie: s.movie, when: showTime(s.starts_at) };
}

async function changeSession(event) {
  event.preventDefault();
  const s = chosenSession();
  if (!s) return say('change', phrase('choose-session'), 'validation_error');
  const body = {};
  const movie = $('c-movie').value.trim();
  if (movie !== s.movie) body.movie = movie;
  if ($('c-starts').value && $('c-starts').value !== localInput(s.starts_at)) body.starts_at = isoZ(new Date($('c-starts').value));
  if (Number($('c-duration').value) !== s.duration_minutes) body.duration_minutes = Number($('c-duration').value);
  if ($('c-rating').value !== (s.rating ?? 'L')) body.rating = $('c-rating').value;
  if (!Object.keys(body).length) return say('change', phrase('nothing-changed'));
  try {
    const { data } = await call('PATCH', `/sessions/${s.id}`, { body });
    say('change', phrase('changed', named(data)));
    coming = coming.map((each) => (each.id === data.id ? data : each));
    changeable = changeable.map((each) => (each.id === data.id ? data : each));
    sessionOptions();
    fillChange();
    watch();
  } catch (error) {
    if (['room_busy', 'session_cancelled'].includes(error.code)) say('change', phrase(error.code), error.code);
    else say('change', fieldProblems(error), error.code);
  }
  return undefined;
}

async function cancelSession() {
  const s = chosenSession();
  if (!s) return say('change', phrase('choose-session'), 'validation_error');
  if (!window.confirm(phrase('confirm-cancel', named(s)))) return undefined;
  try {
    const { data } = await call('DELETE', `/sessions/${s.id}`);
    say('change', phrase('cancelled', named(data)));
    coming = coming.filter((each) => each.id !== data.id);
    changeable = changeable.filter((each) => each.id !== data.id);
    sessionOptions();
    fillChange();
    watch();
  } catch (error) {
    say('change', error.code === 'session_cancelled' ? phrase(error.code) : fieldProblems(error), error.code);
  }
  return undefined;
}

function tomorrowEvening() {
  const at = new Date();
  at.setDate(at.getDate() + 1);
  at.setHours(19, 0, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T19:00`;
}

// -- reports ----------------------------------------------------------------------------------

async function report(session) {
  if (!(await features()).reports) return counted(session);
  try {
    const r = await get(`/sessions/${session.id}/report`);
    return { sold: r.sold, held: r.held, available: r.available, revenue: money(cents(r.revenue), session.currency) };
  } catch (error) {
    if (!unsupported(error)) throw error;
  }
  return counted(session);
}

// A box office without reports yet: the seat map has the counts, not the money.
async function counted(session) {
  const map = await get(`/sessions/${session.id}/seats`);
  return { sold: map.sold, held: map.held, available: map.available, revenue: '—' };
}

// Each figure carries its column's heading, which a phone shows beside it (the table reflows).
const HEADINGS = [...$('reports').tHead.rows[0].cells].map((cell) => cell.textContent.trim());

function reportRow(session, figures) {
  const tr = document.createElement('tr');
  tr.dataset.session = session.id;
  const title = document.createElement('th');
  title.scope = 'row';
  const link = document.createElement('a');
  link.href = `/s/${session.id}`;
  link.textContent = session.movie;
  title.append(link, ` · ${session.room}${session.cinema ? ` · ${session.cinema}` : ''}`, ' ', ratingBadge(session.rating), ' ', statementLink(session));
  const cells = [showTime(session.starts_at), figures.sold, figures.held, figures.available, figures.revenue];
  tr.append(title, ...cells.map((value, i) => {
    const td = document.createElement('td');
    td.textContent = String(value);
    td.dataset.figure = ['starts', 'sold', 'held', 'available', 'revenue'][i];
    td.dataset.label = HEADINGS[i + 1];
    if (i === 4) td.className = 'revenue';
    return td;
  }));
  return tr;
}

// The borderô as CSV: fetched with the tab's token (a plain link would go without it, 401) and
// handed to the browser as a download named after the session.
function statementLink(session) {
  const link = document.createElement('a');
  link.href = `/sessions/${session.id}/statement`;
  link.className = 'statement';
  link.dataset.statement = session.id;
  link.textContent = phrase('statement-link');
  link.addEventListener('click', async (event) => {
    event.preventDefault();
    const file = document.createElement('a');
    file.href = URL.createObjectURL(await blob(link.getAttribute('href'), 'text/csv'));
    file.download = `bordero-${session.id}.csv`;
    file.click();
    URL.revokeObjectURL(file.href);
  });
  return link;
}

// -- the sandbox's bank ------------------------------------------------------------------------

// The ids listed, so that a refresh that finds the same payments leaves the buttons (and the
// focus on them) alone.
let sandboxShown = null;

async function sandboxPayments() {
  let items;
  try {
    items = (await get('/sandbox/payments')).items;
  } catch (error) {
    // No sandbox here (the box office takes money at once, or through Mercado Pago).
    if (unsupported(error)) {
      $('sandbox-panel').hidden = true;
      return;
    }
    throw error;
  }
  $('sandbox-panel').hidden = false;
  const shown = items.map((p) => p.id).join(',');
  if (shown === sandboxShown) return;
  sandboxShown = shown;
  $('sandbox-empty').hidden = items.length > 0;
  $('sandbox-payments').replaceChildren(...items.map(sandboxItem));
}

function sandboxItem(payment) {
  const item = document.createElement('li');
  item.dataset.payment = payment.id;
  const text = document.createElement('span');
  const until = new Date(payment.expires_at).toLocaleTimeString(LOCALE, { hour: '2-digit', minute: '2-digit', timeZone: ZONE });
  text.textContent = phrase('sandbox-item', {
    amount: money(cents(payment.amount), payment.currency),
    user: payment.user_id,
    until,
  });
  const buttons = document.createElement('span');
  buttons.className = 'buttons';
  for (const [act, label, look] of [
    ['approve', phrase('sandbox-approve'), 'primary'],
    ['decline', phrase('sandbox-decline'), 'quiet'],
  ]) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = look;
    button.dataset.sandbox = act;
    button.textContent = label;
    button.setAttribute('aria-label', `${label}: ${text.textContent}`);
    button.addEventListener('click', () => playBank(payment, act));
    buttons.append(button);
  }
  item.append(text, buttons);
  return item;
}

async function playBank(payment, act) {
  const amount = money(cents(payment.amount), payment.currency);
  try {
    const decided = await post(`/sandbox/payments/${payment.id}/${act}`);
    say('sandbox', phrase(`sandbox-${decided.status}`, { amount, user: payment.user_id }));
  } catch (error) {
    say('sandbox', error.message, error.code);
  }
  sandboxShown = null;
  await sandboxPayments();
}

async function refresh() {
  await sandboxPayments();
  $('reports').dataset.revenue = (await features()).reports ? 'on' : 'off';
  const page = await get(`/sessions?limit=${WATCHED}&from=${isoZ(new Date())}`);
  coming = page.items
    .filter((s) => Date.parse(s.starts_at) > Date.now() && (s.status ?? 'on_sale') !== 'cancelled')
    .slice(0, WATCHED);
  await loadChangeable();
  sessionOptions();
  const rows = [];
  for (const session of coming) rows.push(reportRow(session, await report(session)));
  await readWaiting();
  const body = $('reports').tBodies[0];
  if (!rows.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 6;
    td.textContent = phrase('no-sessions');
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function watch() {
  clearTimeout(polling);
  const round = async () => {
    try {
      await refresh();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthorized') return guard();
    }
    polling = setTimeout(round, REFRESH_MS);
  };
  round();
}

$('room-layout').addEventListener('input', previewLayout);
$('room-form').addEventListener('submit', createRoom);
$('s-room').addEventListener('change', priceFields);
$('session-form').addEventListener('submit', createSession);
$('change-form').addEventListener('submit', changeSession);
$('c-session').addEventListener('change', () => {
  say('change', '');
  fillChange();
});
$('cancel-session').addEventListener('click', cancelSession);
$('waiting-form').addEventListener('submit', saveWaiting);
$('w-session').addEventListener('change', () => {
  say('waiting', '');
  readWaiting(true);
});
$('s-starts').value = tomorrowEvening();
onIdentityChange(guard);
previewLayout();
priceFields();
guard();
