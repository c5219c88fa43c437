// The admin screen's goods: every product with what is left of it and a restock field (units
// are added, never set: PATCH /products/{code} {add}), and small forms for a new product and a
// new promo code (a percentage off). Refusals are the server's words, in the page's language.

import { call, get, post } from './api.js';
import { cents, money } from './money.js';
import { phrase } from './phrases.js';

const $ = (id) => document.getElementById(id);

function say(text, code = '') {
  const problem = $('goods-problem');
  problem.hidden = !code;
  problem.textContent = code ? text : '';
  if (code) problem.dataset.code = code;
  $('goods-info').textContent = code ? '' : text;
}

function refused(error) {
  const fields = Object.entries(error.details?.fields ?? {}).map(([name, why]) => `${name} ${why}`);
  say(fields.length ? `${error.message} ${fields.join('; ')}.` : error.message, error.code);
}

function item(product) {
  const li = document.createElement('li');
  li.dataset.product = product.code;
  const what = document.createElement('span');
  const values = { name: product.name, code: product.code, price: money(cents(product.price), product.currency), left: product.left };
  what.textContent = phrase(product.left === null ? 'product-unlimited' : 'product-left', values);
  li.append(what);
  if (product.left === null) return li;
  const form = document.createElement('form');
  form.className = 'restock';
  const input = document.createElement('input');
  input.type = 'number';
  input.min = '1';
  input.max = '1000000';
  input.required = true;
  input.id = `restock-${product.code}`;
  const label = document.createElement('label');
  label.htmlFor = input.id;
  label.className = 'sr-only';
  label.textContent = phrase('restock-label', { name: product.name });
  const button = document.createElement('button');
  button.type = 'submit';
  button.textContent = phrase('restock');
  form.append(label, input, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { data } = await call('PATCH', `/products/${encodeURIComponent(product.code)}`, { body: { add: Number(input.value) } });
      say(phrase('restocked', { name: data.name, left: data.left }));
      await loadProducts();
    } catch (error) {
      refused(error);
    }
  });
  li.append(form);
  return li;
}

export async function loadProducts() {
  try {
    const { items } = await get('/products');
    $('admin-products').replaceChildren(...items.map(item));
  } catch (error) {
    refused(error);
  }
}

$('product-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const stock = form.stock.value.trim();
  const body = { code: form.code.value.trim(), name: form.name.value.trim(), price: form.price.value.trim().replace(',', '.') };
  if (stock) body.stock = Number(stock);
  try {
    const made = await post('/products', body);
    say(phrase('product-added', { name: made.name }));
    form.reset();
    await loadProducts();
  } catch (error) {
    refused(error);
  }
});

$('promo-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { code: form.code.value.trim(), percent_off: Number(form.percent_off.value) };
  if (form.max_uses.value.trim()) body.max_uses = Number(form.max_uses.value);
  try {
    const made = await post('/promo-codes', body);
    say(phrase('promo-added', { code: made.code }));
    form.reset();
  } catch (error) {
    refused(error);
  }
});
