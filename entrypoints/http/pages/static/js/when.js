// Instants as a person reads them, in the browser's own time zone.

const day = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const hour = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function showTime(iso) {
  const moment = new Date(iso);
  return `${day.format(moment)}, ${hour.format(moment)}`;
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
