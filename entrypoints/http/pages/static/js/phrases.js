// The words a script says, held by its page's template (``<template id="phrases">``) so that
// they are translated with the page: each ``[data-phrase="key"]`` is a text with {named} blanks.

const held = new Map();
for (const each of document.getElementById('phrases')?.content.querySelectorAll('[data-phrase]') ?? []) {
  held.set(each.dataset.phrase, each.textContent.trim().replace(/\s+/g, ' '));
}

export function phrase(key, values = {}) {
  const text = held.get(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (blank, name) => (name in values ? String(values[name]) : blank));
}
