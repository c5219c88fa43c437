// The bearer token the pages call the API with. It lives in this tab's sessionStorage: typed in,
// or handed once in the address's fragment (#token=…), which no server sees and which is removed
// from the address bar at once, so it is neither bookmarked nor shared by copying the link.

const KEY = 'cinema.token';
const CHANGED = 'cinema:identity';

export function adoptFragmentToken() {
  const found = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!found) return;
  sessionStorage.setItem(KEY, decodeURIComponent(found[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value.trim());
  window.dispatchEvent(new Event(CHANGED));
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event(CHANGED));
}

export function onIdentityChange(handler) {
  window.addEventListener(CHANGED, handler);
}

// Who the token says this is. The server checks the signature; this only decides what to show.
export function identity() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    const expires = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null;
    return {
      user: String(claims.sub ?? ''),
      role: ['admin', 'staff'].includes(claims.role) ? claims.role : 'customer',
      expired: expires !== null && expires <= new Date(),
    };
  } catch {
    return { user: '', role: 'customer', expired: false, unreadable: true };
  }
}
