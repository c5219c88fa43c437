// Goods beside the seats: the products (combos, snacks) a buyer adds to a hold with steppers,
// each as far as its stock goes, and the summary lines of a hold or a sale (its products, its
// promo code's discount, its total) as the server priced them.

import { cents, money } from './money.js';
import { phrase } from './phrases.js';

// Units of one product on one hold, as the server allows.
const MOST = 20;

export class ProductPicker {
  constructor(list, onChange) {
    this.list = list;
    this.onChange = onChange;
    this.products = [];
    this.wanted = {};
  }

  async load(read) {
    try {
      this.products = (await read('/products')).items ?? [];
    } catch {
      // No products to offer: the seats sell alone.
      this.products = [];
    }
    this.draw();
  }

  name(code) {
    return this.products.find((p) => p.code === code)?.name ?? code;
  }

  // What is left of a product after another buyer's hold took the last units (a refusal).
  soldOut(code, left = 0) {
    const product = this.products.find((p) => p.code === code);
    if (product) product.left = left;
    if ((this.wanted[code] ?? 0) > left) this.wanted[code] = left;
    this.draw();
    this.onChange();
  }

  most(product) {
    return product.left === null || product.left === undefined ? MOST : Math.min(MOST, product.left);
  }

  draw() {
    this.list.closest('fieldset').hidden = this.products.length === 0;
    this.list.replaceChildren(...this.products.map((product) => this.item(product)));
  }

  item(product) {
    const li = document.createElement('li');
    li.dataset.product = product.code;
    const id = `product-${product.code}`;
    const name = document.createElement('span');
    name.className = 'product-name';
    name.id = `${id}-name`;
    name.textContent = product.name;
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = money(cents(product.price), product.currency);
    const count = this.wanted[product.code] ?? 0;
    const most = this.most(product);
    li.append(name, price);
    if (most === 0 && count === 0) {
      li.dataset.soldOut = 'true';
      const out = document.createElement('span');
      out.className = 'sold-out';
      out.textContent = phrase('product-sold-out');
      li.append(out);
      return li;
    }
    const stepper = document.createElement('span');
    stepper.className = 'stepper';
    stepper.setAttribute('role', 'group');
    stepper.setAttribute('aria-labelledby', `${id}-name`);
    const less = this.step('-', phrase('product-less', { name: product.name }), count > 0, () => this.set(product, count - 1));
    const shown = document.createElement('output');
    shown.id = `${id}-count`;
    shown.dataset.count = String(count);
    shown.textContent = String(count);
    shown.setAttribute('aria-live', 'polite');
    const more = this.step('+', phrase('product-more', { name: product.name }), count < most, () => this.set(product, count + 1));
    more.dataset.step = 'more';
    less.dataset.step = 'less';
    stepper.append(less, shown, more);
    li.append(stepper);
    return li;
  }

  step(sign, label, enabled, act) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'step';
    button.textContent = sign;
    button.setAttribute('aria-label', label);
    button.disabled = !enabled;
    button.addEventListener('click', act);
    return button;
  }

  set(product, count) {
    const focused = document.activeElement?.dataset?.step;
    this.wanted[product.code] = Math.max(0, Math.min(count, this.most(product)));
    this.draw();
    // The stepper was drawn again: keep the buyer's place on it.
    const again = this.list.querySelector(`[data-product="${product.code}"] [data-step="${focused}"]`);
    if (again && !again.disabled) again.focus();
    else this.list.querySelector(`[data-product="${product.code}"] .step:not(:disabled)`)?.focus();
    this.onChange();
  }

  reset() {
    this.wanted = {};
    this.draw();
  }

  // The request's ``products``: units by code, zeros left out.
  asked() {
    return Object.fromEntries(Object.entries(this.wanted).filter(([, n]) => n > 0));
  }

  // The lines the server will make of them: each product's units at its price, in cents.
  lines() {
    return this.products
      .filter((p) => (this.wanted[p.code] ?? 0) > 0)
      .map((p) => ({ code: p.code, name: p.name, quantity: this.wanted[p.code], amount: cents(p.price) * this.wanted[p.code] }));
  }
}

// A summary line: words on the left, money on the right.
function line(what, amount, currency, kind) {
  const li = document.createElement('li');
  li.dataset.line = kind;
  const words = document.createElement('span');
  words.textContent = what;
  const price = document.createElement('span');
  price.className = 'price';
  price.textContent = money(amount, currency);
  li.append(words, price);
  return li;
}

export function productItem(product, currency) {
  const item = line(phrase('product-line', { count: product.quantity, name: product.name }), product.amount, currency, 'product');
  item.dataset.product = product.code;
  return item;
}

// A hold's or a sale's products and discount as the server priced them (money as text).
export function claimItems(claim) {
  const currency = claim.currency;
  const items = (claim.products ?? []).map((p) => productItem({ ...p, amount: cents(p.amount) }, currency));
  if (claim.discount) {
    const item = line(phrase('discount-line', { code: claim.discount.code }), -cents(claim.discount.amount), currency, 'discount');
    item.dataset.code = claim.discount.code;
    items.push(item);
  }
  return items;
}
