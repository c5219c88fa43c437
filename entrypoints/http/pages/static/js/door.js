// The door screen: staff scan (a USB or Bluetooth scanner types into the code field and
// presses Enter) or type a ticket's code; POST /checkins lets the holder in once, and the
// screen says in large type the seat, the ticket type, the session and what to check of the
// holder (the type's document, the session's age), or why not to let them in.

import { askToSignIn } from './account.js';
import { ApiError, call, get } from './api.js';
import { identity, onIdentityChange } from './auth.js';
import { phrase } from './phrases.js';
import { ratingBadge } from './rating.js';
import { LOCALE, ZONE, isoZ, showTime } from './when.js';
import { refusal } from './words.js';

const $ = (id) => document.getElementById(id);
// A session that started this long ago (minutes) may still be letting people in; the door
// lists those, and every session starting within the day ahead (tonight's late ones too).
const LONGEST = 600;
const AHEAD_MS = 24 * 3600 * 1000;
const sessions = new Map();
const hour = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', timeZone: ZONE });

function allowed() {
  const me = identity();
  return me !== null && !me.expired && (me.role === 'staff' || me.role === 'admin');
}

function guard() {
  const ok = allowed();
  $('door-guard').hidden = ok;
  $('door-guard').textContent = ok ? '' : phrase('guard');
  $('door').hidden = !ok;
  if (ok) {
    todays();
    $('code').focus();
  }
}

function session(id) {
  if (!sessions.has(id)) sessions.set(id, get(`/sessions/${id}`).catch(() => null));
  return sessions.get(id);
}

function named(show) {
  return show ? `${show.movie} · ${showTime(show.starts_at)} · ${show.room}` : '';
}

// The day's sessions (starting within a day; for an admin, who may list past ones, those
// still running too), for the door to pick its own.
async function todays() {
  const admin = identity()?.role === 'admin';
  const from = new Date(admin ? Date.now() - LONGEST * 60000 : Date.now());
  const end = new Date(Date.now() + AHEAD_MS);
  let page;
  try {
    page = await get(`/sessions?${admin ? 'past=true&' : ''}limit=200&from=${isoZ(from)}&to=${isoZ(end)}`);
  } catch {
    return;
  }
  const select = $('door-session');
  const current = select.value;
  const items = page.items.filter((s) => Date.parse(s.ends_at) > Date.now() && s.status !== 'cancelled');
  for (const s of items) sessions.set(s.id, Promise.resolve(s));
  select.replaceChildren(select.options[0], ...items.map((s) => new Option(named(s), s.id)));
  select.value = items.some((s) => s.id === current) ? current : '';
}

function fact(id, value) {
  $(id).replaceChildren(...(Array.isArray(value) ? value : [value ?? '']));
  $(id).parentElement.hidden = !value || (Array.isArray(value) && !value.length);
}

function sessionFact(show) {
  if (!show) return null;
  return [`${show.movie} · ${showTime(show.starts_at)} `, ratingBadge(show.rating)];
}

// verdict: 'ok' (let in), 'check' (let in after checking), 'refused'.
function say(verdict, { title, why = '', seat = null, ticket = null, show = null, checks = [] }) {
  $('verdict').hidden = false;
  $('verdict').dataset.verdict = verdict;
  $('verdict-title').textContent = title;
  $('verdict-why').textContent = why;
  $('verdict-why').hidden = !why;
  fact('verdict-seat', seat);
  fact('verdict-ticket', ticket);
  fact('verdict-session', sessionFact(show));
  $('verdict-facts').hidden = !seat && !ticket && !show;
  $('verdict-checks').replaceChildren(
    ...checks.map(([kind, text]) => {
      const item = document.createElement('li');
      item.dataset.check = kind;
      item.textContent = text;
      return item;
    }),
  );
  $('verdict-checks').hidden = !checks.length;
}

async function admitted(data) {
  const show = await session(data.session_id);
  const type = show?.ticket_types?.find((t) => t.code === data.ticket);
  const checks = [];
  if (data.checks?.document) checks.push(['document', phrase('check-document', { document: data.checks.document })]);
  if (data.checks?.age) checks.push(['age', phrase('check-age', { age: data.checks.age })]);
  say(checks.length ? 'check' : 'ok', {
    title: phrase(checks.length ? 'check-first' : 'let-in'),
    why: checks.length ? '' : phrase('nothing-to-check'),
    seat: data.seat,
    ticket: type?.name ?? data.ticket ?? '',
    show,
    checks,
  });
}

async function refused(error) {
  const d = error.details ?? {};
  if (error.code === 'unauthorized' || error.code === 'forbidden') {
    if (error.code === 'unauthorized') askToSignIn();
    say('refused', { title: phrase('refused'), why: error.code === 'forbidden' ? phrase('guard') : refusal(error) });
    return;
  }
  let why;
  let show = null;
  if (error.code === 'already_checked_in') {
    why = phrase('already_checked_in', { time: d.checked_in_at ? hour.format(new Date(d.checked_in_at)) : '?' });
  } else if (error.code === 'wrong_session') {
    show = d.session_id ? await session(d.session_id) : null;
    why = phrase('wrong_session', { session: named(show) || d.session_id || '' });
  } else if (['ticket_refunded', 'ticket_not_found'].includes(error.code)) {
    why = phrase(error.code);
  } else if (error.code === 'validation_error') {
    why = phrase('empty-code');
  } else {
    why = refusal(error);
  }
  say('refused', { title: phrase('refused'), why, show });
}

async function scan(event) {
  event.preventDefault();
  const input = $('code');
  const code = input.value.trim();
  // Ready for the next ticket at once: the scanner types into the same field.
  input.value = '';
  input.focus();
  if (!code) {
    say('refused', { title: phrase('refused'), why: phrase('empty-code') });
    return;
  }
  const body = { code };
  if ($('door-session').value) body.session_id = $('door-session').value;
  $('verdict').dataset.verdict = 'busy';
  $('verdict-title').textContent = phrase('checking');
  try {
    const { data } = await call('POST', '/checkins', { body });
    await admitted(data);
  } catch (error) {
    await refused(error instanceof ApiError ? error : new ApiError(0, 'unreachable', phrase('unreachable')));
  }
}

$('scan').addEventListener('submit', scan);
onIdentityChange(guard);
guard();
