// The header's sign-in area, on every page: who is signed in, a form to paste a token.

import { phrase } from './phrases.js';
import { adoptFragmentToken, identity, onIdentityChange, signIn, signOut } from './auth.js';

adoptFragmentToken();

const who = document.getElementById('who');
const open = document.getElementById('sign-in-open');
const leave = document.getElementById('sign-out');
const form = document.getElementById('sign-in');
const input = document.getElementById('token-input');

function show() {
  const me = identity();
  if (me === null) {
    who.textContent = '';
  } else if (me.unreadable) {
    who.textContent = phrase('signed-in-unreadable');
  } else {
    const role = me.role === 'customer' ? '' : ` (${me.role})`;
    who.textContent = me.expired ? phrase('expired-user', { user: `${me.user}${role}` }) : `${me.user}${role}`;
  }
  // The door screen's link is for those who may check tickets in.
  const staff = me !== null && !me.expired && me.role !== 'customer';
  for (const link of document.querySelectorAll('a[data-staff]:not([aria-current])')) link.hidden = !staff;
  leave.hidden = me === null;
  open.hidden = me !== null;
  if (me !== null) form.hidden = true;
}

export function askToSignIn() {
  form.hidden = false;
  open.setAttribute('aria-expanded', 'true');
  input.focus();
}

open.addEventListener('click', () => {
  if (form.hidden) askToSignIn();
  else {
    form.hidden = true;
    open.setAttribute('aria-expanded', 'false');
  }
});
leave.addEventListener('click', () => signOut());
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!input.value.trim()) return;
  signIn(input.value);
  input.value = '';
  form.hidden = true;
  open.setAttribute('aria-expanded', 'false');
});
onIdentityChange(show);
show();
