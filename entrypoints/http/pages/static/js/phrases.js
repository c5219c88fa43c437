// The words a script says, held by its page's template (``<template id="phrases">``) so that
// they are translated with the page: each ``[data-phrase="key"]`` is a text with {named} blanks.
// A phrase said of a number comes once per plural form (``data-count="one"``, ``"other"``, as
// the template's ngettext wrote them); ``{count}`` picks the form the page's language uses.

const held = new Map();
for (const each of document.getElementById('phrases')?.content.querySelectorAll('[data-phrase]') ?? []) {
  const key = each.dataset.count ? `${each.dataset.phrase}#${each.dataset.count}` : each.dataset.phrase;
  held.set(key, each.textContent.trim().replace(/\s+/g, ' '));
}
const plurals = new Intl.PluralRules(document.documentElement.lang || undefined);

export function phrase(key, values = {}) {
  const form = 'count' in values ? (held.get(`${key}#${plurals.select(values.count)}`) ?? held.get(`${key}#other`)) : undefined;
  const text = form ?? held.get(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (blank, name) => (name in values ? String(values[name]) : blank));
}
