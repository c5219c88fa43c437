// The JSON API as the pages call it: same origin, the tab's bearer token, errors as ApiError
// carrying the contract's code, message and details.

import { phrase } from './phrases.js';
import { token } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context (plain http on a LAN address) randomUUID is missing.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const UNREACHABLE = phrase('unreachable');

async function send(method, path, { body, idempotent = false, accept = 'application/json', headers: extra = {} } = {}) {
  const headers = { Accept: accept, ...extra };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotent) headers['Idempotency-Key'] = newKey();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'unreachable', UNREACHABLE);
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error ?? {};
    } catch {
      // Not the contract's shape (a proxy's page): fall back to the status.
    }
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? phrase('answered', { status: response.status }),
      error.details ?? {},
    );
  }
  return response;
}

// The JSON body, and the server's clock (its Date header) to measure holds by.
export async function call(method, path, options = {}) {
  const response = await send(method, path, options);
  const text = await response.text();
  const served = Date.parse(response.headers.get('Date') ?? '');
  return { data: text ? JSON.parse(text) : null, served: Number.isNaN(served) ? Date.now() : served };
}

export async function get(path) {
  return (await call('GET', path)).data;
}

export async function post(path, body, options = {}) {
  return (await call('POST', path, { body, ...options })).data;
}

// A page of the app that needs the token (the pages' own links cannot carry it), as its HTML.
export async function html(path) {
  return (await send('GET', path, { accept: 'text/html' })).text();
}

export async function blob(path, accept) {
  return (await send('GET', path, { accept })).blob();
}

// Whether the server lacks this route altogether (Starlette's own 404/405), as opposed to a
// 404 naming a missing thing (session_not_found, …): used to degrade gracefully.
export function unsupported(error) {
  return error instanceof ApiError && (error.code === 'not_found' || error.code === 'method_not_allowed');
}
