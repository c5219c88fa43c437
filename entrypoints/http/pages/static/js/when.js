// Instants as a person reads them: in the page's language and the cinemas' time zone, both
// handed in by the server on <html lang data-time-zone>.

export const LOCALE = document.documentElement.lang || undefined;
export const ZONE = document.documentElement.dataset.timeZone || undefined;

const stamp = new Intl.DateTimeFormat(LOCALE, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: ZONE,
});

export function showTime(iso) {
  return stamp.format(new Date(iso));
}
export function clock(milliseconds) {
  const seconds = Math.max(0, Math.ceil(milliseconds / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// How far the cinemas' clock is ahead of UTC at ``instant`` (ms): their wall time read back as UTC.
const wall = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

function offset(instant) {
  const part = Object.fromEntries(wall.formatToParts(new Date(instant)).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) - Math.floor(instant / 1000) * 1000;
}

// Midnight of that calendar day in the cinemas' zone; a second pass settles a change of offset
// (summer time) between the guess and the answer.
function midnight(y, m, d) {
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offset(guess);
  return new Date(guess - offset(first));
}

// "2026-12-01" (a day in the cinemas' time zone, not the browser's) → the instants bounding it.
export function dayBounds(text) {
  const [y, m, d] = text.split('-').map(Number);
  return [midnight(y, m, d), midnight(y, m, d + 1)];
}

export function isoZ(moment) {
  return moment.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
