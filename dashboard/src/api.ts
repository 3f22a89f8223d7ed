/** The admin API over the session cookie; every change carries the session's CSRF token. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

let csrfToken = '';
let onLoggedOut: () => void = () => {};

export function setSession(token: string, loggedOut: () => void): void {
  csrfToken = token;
  onLoggedOut = loggedOut;
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: {
      accept: 'application/json',
      ...(method === 'POST' ? { 'content-type': 'application/json', 'x-csrf-token': csrfToken } : {}),
    },
    ...(body === undefined ? (method === 'POST' ? { body: '{}' } : {}) : { body: JSON.stringify(body) }),
  });
  const data = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (response.status === 401 && !path.startsWith('/auth/')) onLoggedOut();
  // /health answers 503 with the full report when the bunker cannot sign: still data to show.
  if (!response.ok && !(path === '/health' && response.status === 503)) {
    throw new ApiError(response.status, data.error?.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
  return data;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
};
