// "My tickets": the signed-in buyer's purchases, newest first, each with its session and its
// tickets (QR codes for those still valid); while refunds are open, each seat is refunded on
// its own, after a confirmation. Refusals are said in words.

import { askToSignIn } from './account.js';
import { call, get } from './api.js';
import { identity, onIdentityChange, token } from './auth.js';
import { features } from './features.js';
import { claimItems } from './goods.js';
import { cents, money } from './money.js';
import { phrase } from './phrases.js';
import { ratingBadge } from './rating.js';
import { showTickets } from './tickets.js';
import { showTime } from './when.js';
import { refusal } from './words.js';

const $ = (id) => document.getElementById(id);
const PAGE = 10;
// A buyer may refund until this long before the start; an admin until the session ends.
const CUTOFF_MS = Number($('mine').dataset.refundCutoff) * 1000;
const sessions = new Map();
let cursor = null;
let shown = 0;
let round = 0;

function problem(text, code) {
  $('problem').textContent = text;
  $('problem').dataset.code = code;
  $('problem').hidden = false;
  $('info').textContent = '';
}

function info(text) {
  $('problem').hidden = true;
  $('info').textContent = text;
}

function session(id) {
  if (!sessions.has(id)) sessions.set(id, get(`/sessions/${id}`).catch(() => null));
  return sessions.get(id);
}

function refundsOpen(show) {
  if (!show || show.status === 'cancelled') return false;
  const until = identity()?.role === 'admin' ? Date.parse(show.ends_at) : Date.parse(show.starts_at) - CUTOFF_MS;
  return Date.now() < until;
}

function typeNamer(show) {
  return (code) => show?.ticket_types?.find((t) => t.code === code)?.name ?? code;
}

function heading(sale, show) {
  const title = document.createElement('h2');
  if (show) {
    const link = document.createElement('a');
    link.href = `/s/${show.id}`;
    link.textContent = show.movie;
    title.append(link);
  } else {
    title.textContent = phrase('session-gone');
  }
  const where = document.createElement('p');
  where.className = 'where';
  if (show) {
    const time = document.createElement('time');
    time.dateTime = show.starts_at;
    time.textContent = showTime(show.starts_at);
    where.append(ratingBadge(show.rating), ' ', `${show.room}${show.cinema ? ` · ${show.cinema}` : ''} · `, time);
  }
  return [title, where];
}

function summary(sale, show) {
  const paid = phrase('paid', { amount: money(cents(sale.amount), sale.currency), when: showTime(sale.paid_at) });
  const refunded = money(cents(sale.refunded_amount ?? '0'), sale.currency);
  const parts = [sale.status === 'paid' ? paid : `${paid} · ${phrase(`status-${sale.status}`, { refunded })}`];
  if (show?.status === 'cancelled') parts.push(phrase('cancelled'));
  else if (show && !refundsOpen(show) && sale.status !== 'refunded') parts.push(phrase('refunds-closed'));
  const line = document.createElement('p');
  line.className = 'sale-status';
  line.dataset.status = sale.status;
  line.textContent = parts.join(' ');
  return line;
}

// One purchase as a card; drawn again in place after a refund.
async function draw(item, sale) {
  const show = await session(sale.session_id);
  item.dataset.sale = sale.id;
  const list = document.createElement('ul');
  list.className = 'tickets';
  const open = refundsOpen(show);
  const addRefund = (ticket, box) => {
    if (!open || ticket.status !== 'valid') return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'quiet';
    button.dataset.action = 'refund';
    button.textContent = phrase('refund', { seat: ticket.seat });
    button.addEventListener('click', () => refund(item, sale, show, ticket.seat));
    box.append(button);
  };
  const goods = document.createElement('ul');
  goods.className = 'lines';
  goods.setAttribute('aria-label', phrase('goods'));
  goods.replaceChildren(...claimItems(sale));
  item.replaceChildren(...heading(sale, show), summary(sale, show), ...(goods.children.length ? [goods] : []), list);
  try {
    await showTickets(list, sale, typeNamer(show), (await features()).tickets, addRefund);
  } catch (error) {
    problem(refusal(error), error.code);
  }
}

async function refund(item, sale, show, seat) {
  if (!window.confirm(phrase('confirm', { seat, movie: show?.movie ?? '' }))) return;
  for (const each of item.querySelectorAll('button')) each.disabled = true;
  try {
    const { data } = await call('POST', `/sales/${sale.id}/refunds`, { body: { seats: [seat] }, idempotent: true });
    info(phrase('refunded', { seat, amount: money(cents(data.amount), data.currency) }));
  } catch (error) {
    problem(refusal(error), error.code);
    if (error.code === 'unauthorized') askToSignIn();
  }
  // Whatever the answer, the sale as the server now has it.
  try {
    await draw(item, await get(`/sales/${sale.id}`));
  } catch {
    for (const each of item.querySelectorAll('button')) each.disabled = false;
  }
}

async function load(more = false) {
  const me = identity();
  const mine = round;
  if (!more) {
    cursor = null;
    shown = 0;
    $('purchases').replaceChildren();
    $('none').hidden = true;
    $('more').hidden = true;
  }
  if (!token() || me === null) {
    problem(phrase('sign-in'), 'unauthorized');
    askToSignIn();
    return;
  }
  info(phrase('loading'));
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) params.set('cursor', cursor);
  let page;
  try {
    page = await get(`/users/${encodeURIComponent(me.user)}/purchases?${params}`);
  } catch (error) {
    problem(refusal(error), error.code);
    if (error.code === 'unauthorized') askToSignIn();
    return;
  }
  if (mine !== round) return;
  info('');
  const items = page.items.map(() => {
    const li = document.createElement('li');
    li.className = 'purchase';
    return li;
  });
  $('purchases').append(...items);
  await Promise.all(page.items.map((sale, i) => draw(items[i], sale)));
  shown += items.length;
  cursor = page.next_cursor ?? null;
  $('more').hidden = !cursor;
  $('none').hidden = shown > 0;
}

$('more').addEventListener('click', () => load(true));
onIdentityChange(() => {
  round += 1;
  load();
});
load();
