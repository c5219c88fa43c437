// Money as the API writes it ("25.00"), counted in cents so that sums are exact.

export function cents(text) {
  const found = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(String(text ?? ''));
  if (!found) return NaN;
  const value = Number(found[2]) * 100 + Number((found[3] ?? '').padEnd(2, '0'));
  return found[1] ? -value : value;
}

import { LOCALE } from './when.js';

const formats = new Map();

export function money(amount, currency = 'BRL') {
  if (!formats.has(currency)) {
    // Reais read as Brazil writes them (R$ 25,00) in every language, as on the receipts.
    const locale = currency === 'BRL' ? 'pt-BR' : LOCALE;
    formats.set(currency, new Intl.NumberFormat(locale, { style: 'currency', currency }));
  }
  return formats.get(currency).format(amount / 100);
}

// A ticket type's share of a seat's price, rounded half up to the cent, as the server does.
export function percentOf(amount, percent) {
  return Math.floor((amount * percent + 50) / 100);
}
