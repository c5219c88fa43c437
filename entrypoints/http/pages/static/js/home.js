// The coming sessions, filtered by movie, cinema and day. The filters go to the API and are
// applied here as well, so the list is right with a server that does not filter yet.

import './account.js';
import { get } from './api.js';
import { cents, money } from './money.js';
import { phrase } from './phrases.js';
import { ratingBadge } from './rating.js';
import { dayBounds, isoZ, showTime } from './when.js';

const $ = (id) => document.getElementById(id);
const form = $('filters');
const list = $('sessions');
const more = $('more');
let cursor = null;
let shown = 0;

function wanted() {
  const data = new FormData(form);
  return {
    movie: String(data.get('movie') ?? '').trim(),
    cinema: String(data.get('cinema') ?? '').trim(),
    day: String(data.get('day') ?? ''),
  };
}

function query(filters) {
  const params = new URLSearchParams({ limit: '50' });
  if (filters.movie) params.set('movie', filters.movie);
  if (filters.cinema) params.set('cinema', filters.cinema);
  const now = new Date();
  let [from, to] = [now, null];
  if (filters.day) {
    const [start, end] = dayBounds(filters.day);
    [from, to] = [start > now ? start : now, end];
  }
  params.set('from', isoZ(from));
  if (to) params.set('to', isoZ(to));
  return params;
}

function fits(session, filters, params) {
  const starts = Date.parse(session.starts_at);
  if (starts < Date.parse(params.get('from'))) return false;
  if (params.has('to') && starts >= Date.parse(params.get('to'))) return false;
  if (filters.movie && !session.movie.toLowerCase().includes(filters.movie.toLowerCase())) return false;
  return !filters.cinema || session.cinema === filters.cinema;
}

function card(session) {
  const item = document.createElement('li');
  item.className = 'card';
  const title = document.createElement('h2');
  const link = document.createElement('a');
  link.href = `/s/${session.id}`;
  link.textContent = session.movie;
  title.append(link);
  const where = document.createElement('p');
  where.className = 'where';
  const time = document.createElement('time');
  time.dateTime = session.starts_at;
  time.textContent = showTime(session.starts_at);
  where.append(ratingBadge(session.rating), ' ', time, ` · ${session.room}${session.cinema ? ` · ${session.cinema}` : ''}`);
  const seats = document.createElement('p');
  seats.className = 'seats-left';
  const bar = document.createElement('meter');
  bar.min = 0;
  bar.max = session.seat_count;
  bar.value = session.available;
  bar.setAttribute('aria-label', phrase('seats-free-label'));
  const count = document.createElement('span');
  count.textContent = phrase('seats-free', { free: session.available, count: session.seat_count });
  seats.append(bar, count);
  const price = document.createElement('p');
  price.className = 'price';
  const prices = Object.values(session.prices ?? { one: session.price }).map(cents);
  const low = Math.min(...prices);
  const amount = money(low, session.currency);
  price.textContent = prices.some((p) => p !== low) ? phrase('price-from', { amount }) : amount;
  item.append(title, where, seats, price);
  return item;
}

async function load(reset) {
  const filters = wanted();
  const params = query(filters);
  if (reset) {
    cursor = null;
    shown = 0;
    list.replaceChildren();
  }
  if (cursor) params.set('cursor', cursor);
  $('list-status').textContent = phrase('loading');
  let page;
  try {
    page = await get(`/sessions?${params}`);
  } catch (error) {
    $('list-status').textContent = error.message;
    return;
  }
  const items = page.items.filter((s) => fits(s, filters, params));
  list.append(...items.map(card));
  shown += items.length;
  cursor = page.next_cursor;
  more.hidden = !cursor;
  cinemas(page.items);
  $('list-status').textContent = shown
    ? phrase(cursor ? 'sessions-so-far' : 'sessions-shown', { count: shown })
    : phrase('no-match');
}

function cinemas(items) {
  const known = new Set([...$('cinemas').options].map((o) => o.value));
  for (const s of items) {
    if (s.cinema && !known.has(s.cinema)) {
      known.add(s.cinema);
      $('cinemas').append(new Option(s.cinema));
    }
  }
}

// The filters live in the address too, so a filtered list can be shared or reloaded.
function fromAddress() {
  const params = new URLSearchParams(location.search);
  for (const name of ['movie', 'cinema', 'day']) form.elements[name].value = params.get(name) ?? '';
}

function toAddress() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(wanted())) if (value) params.set(name, value);
  const search = params.toString();
  history.replaceState(null, '', search ? `?${search}` : location.pathname);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  toAddress();
  load(true);
});
form.addEventListener('reset', () => {
  setTimeout(() => {
    toAddress();
    load(true);
  }, 0);
});
more.addEventListener('click', () => load(false));
fromAddress();
load(true);
