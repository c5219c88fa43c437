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

// "2026-12-01" (a day in the browser's zone) → the instants bounding it, for the API.
export function dayBounds(text) {
  const [y, m, d] = text.split('-').map(Number);
  const start = new Date(y, m - 1, d);
  const end = new Date(y, m - 1, d + 1);
  return [start, end];
}

export function isoZ(moment) {
  return moment.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
