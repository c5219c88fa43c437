// The admin screen's webhooks: registering a URL for event types (its secret shown once, to be
// copied), the list with each one's state, a new secret, deleting, and each one's delivery log.

import { call, get, post } from './api.js';
import { phrase } from './phrases.js';
import { showTime } from './when.js';

const $ = (id) => document.getElementById(id);
const LOG_PAGE = 50;
let hooks = [];
// The webhook whose log is open, so a refresh of the list can keep it open (or close it).
let logged = null;

function say(where, text, code = '') {
  const problem = $(`${where}-problem`);
  problem.hidden = !code;
  problem.textContent = code ? text : '';
  $(`${where}-info`).textContent = code ? '' : text;
}

const codeOf = (error) => error.code ?? 'request_failed';

function why(error) {
  const fields = error.details?.fields ?? {};
  const named = Object.entries(fields).map(([name, text]) => `${name}: ${text}`);
  return named.length ? named.join('; ') : error.message;
}

function chosenEvents() {
  const boxes = [...$('w-events').querySelectorAll('input[type=checkbox]')];
  const all = boxes.find((box) => box.value === '*');
  return all.checked ? ['*'] : boxes.filter((box) => box.checked).map((box) => box.value);
}

// "Every event type" stands for the others: they are shown ticked and cannot be unticked.
function everyEvent() {
  const all = $('w-event-all').checked;
  for (const box of $('w-events').querySelectorAll('input[type=checkbox]')) {
    if (box.value === '*') continue;
    box.disabled = all;
    if (all) box.checked = true;
  }
}

function showSecret(hook) {
  $('secret-label').textContent = phrase('secret-for', { url: hook.url });
  $('secret-value').value = hook.secret;
  $('secret-copied').textContent = '';
  $('webhook-secret').hidden = false;
  $('secret-value').focus();
  $('secret-value').select();
}

async function copySecret() {
  try {
    await navigator.clipboard.writeText($('secret-value').value);
    $('secret-copied').textContent = phrase('secret-copied');
  } catch {
    $('secret-value').select();
    $('secret-copied').textContent = phrase('secret-copy-failed');
  }
}

async function register(event) {
  event.preventDefault();
  const url = $('w-url').value.trim();
  const events = chosenEvents();
  $('w-url').setAttribute('aria-invalid', String(!/^https?:\/\/\S+$/i.test(url)));
  if (!/^https?:\/\/\S+$/i.test(url)) return say('webhook', phrase('webhook-bad-url'), 'validation_error');
  if (!events.length) return say('webhook', phrase('webhook-no-events'), 'validation_error');
  try {
    const hook = await post('/webhooks', { url, events });
    say('webhook', phrase('webhook-registered', { url: hook.url }), '');
    $('webhook-form').reset();
    everyEvent();
    await load();
    showSecret(hook);
  } catch (error) {
    say('webhook', phrase('webhook-refused', { why: why(error) }), codeOf(error));
  }
  return undefined;
}

function actionButton(hook, key, look, act) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = look;
  button.dataset.webhookAction = key;
  button.textContent = phrase(`webhook-${key}`);
  button.setAttribute('aria-label', phrase('webhook-action', { action: phrase(`webhook-${key}`), url: hook.url }));
  button.addEventListener('click', () => act(hook));
  return button;
}

const HEADINGS = () => [...$('webhooks').tHead.rows[0].cells].map((cell) => cell.textContent.trim());

function hookRow(hook, headings) {
  const tr = document.createElement('tr');
  tr.dataset.webhook = hook.id;
  const url = document.createElement('th');
  url.scope = 'row';
  url.className = 'url';
  url.textContent = hook.url;
  const cells = [
    hook.events.includes('*') ? phrase('webhook-every-event') : hook.events.join(', '),
    phrase(`webhook-${hook.status}`),
    showTime(hook.created_at),
  ];
  const tds = cells.map((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    td.dataset.figure = ['events', 'state', 'created'][i];
    td.dataset.label = headings[i + 1];
    return td;
  });
  const actions = document.createElement('td');
  actions.dataset.label = headings[4];
  const buttons = document.createElement('span');
  buttons.className = 'buttons';
  buttons.append(
    actionButton(hook, 'log', 'quiet', openLog),
    actionButton(hook, 'rotate', 'quiet', rotate),
    actionButton(hook, 'delete', 'danger', remove),
  );
  actions.append(buttons);
  tr.append(url, ...tds, actions);
  return tr;
}

export async function load() {
  hooks = (await get('/webhooks')).items;
  const headings = HEADINGS();
  $('webhooks').tBodies[0].replaceChildren(...hooks.map((hook) => hookRow(hook, headings)));
  $('webhooks-empty').hidden = hooks.length > 0;
  $('webhooks').hidden = hooks.length === 0;
  if (logged && !hooks.some((hook) => hook.id === logged.id)) closeLog();
}

async function rotate(hook) {
  if (!window.confirm(phrase('confirm-rotate', { url: hook.url }))) return;
  try {
    const rotated = await post(`/webhooks/${hook.id}/secret`);
    say('webhooks', phrase('webhook-rotated', { url: hook.url }));
    showSecret(rotated);
  } catch (error) {
    say('webhooks', error.code === 'webhook_not_found' ? phrase(error.code) : why(error), codeOf(error));
    await load();
  }
}

async function remove(hook) {
  if (!window.confirm(phrase('confirm-delete', { url: hook.url }))) return;
  try {
    await call('DELETE', `/webhooks/${hook.id}`);
    say('webhooks', phrase('webhook-deleted', { url: hook.url }));
  } catch (error) {
    say('webhooks', error.code === 'webhook_not_found' ? phrase(error.code) : why(error), codeOf(error));
  }
  $('webhook-secret').hidden = true;
  await load();
}

function deliveryRow(delivery, headings) {
  const tr = document.createElement('tr');
  tr.dataset.delivery = delivery.id;
  const event = document.createElement('th');
  event.scope = 'row';
  const code = document.createElement('code');
  code.textContent = delivery.event_type;
  event.append(code);
  const cells = [
    phrase(`delivery-${delivery.status}`),
    String(delivery.attempts),
    delivery.last_error ?? phrase('delivery-none'),
    delivery.next_attempt_at ? showTime(delivery.next_attempt_at) : phrase('delivery-none'),
  ];
  tr.append(event, ...cells.map((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    td.dataset.figure = ['state', 'attempts', 'error', 'next'][i];
    td.dataset.label = headings[i + 1];
    return td;
  }));
  return tr;
}

async function showLog() {
  const page = await get(`/webhooks/${logged.id}/deliveries?limit=${LOG_PAGE}`);
  const headings = [...$('deliveries').tHead.rows[0].cells].map((cell) => cell.textContent.trim());
  $('deliveries').tBodies[0].replaceChildren(...page.items.map((d) => deliveryRow(d, headings)));
  $('deliveries-empty').hidden = page.items.length > 0;
  $('deliveries').hidden = page.items.length === 0;
}

async function openLog(hook) {
  logged = hook;
  $('deliveries-title').textContent = phrase('deliveries-of', { url: hook.url });
  $('deliveries-panel').hidden = false;
  try {
    await showLog();
  } catch (error) {
    say('webhooks', error.code === 'webhook_not_found' ? phrase(error.code) : why(error), codeOf(error));
    await load();
    return;
  }
  $('deliveries-title').tabIndex = -1;
  $('deliveries-title').focus();
}

function closeLog() {
  logged = null;
  $('deliveries-panel').hidden = true;
}

export function startWebhooks() {
  load().catch(() => {});
}

$('webhook-form').addEventListener('submit', register);
$('w-event-all').addEventListener('change', everyEvent);
$('secret-copy').addEventListener('click', copySecret);
$('deliveries-refresh').addEventListener('click', () => logged && showLog().catch(() => {}));
$('deliveries-close').addEventListener('click', closeLog);
