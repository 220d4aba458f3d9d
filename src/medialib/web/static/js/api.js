// The medialib API as the page uses it: no DOM here. Every answer that is not 2xx
// becomes an ApiError carrying the server's error code, a plain-language message and
// whether trying again can help.

const KEY_STORAGE = "medialib.apiKey";
// Answers worth trying again: the network, a busy or briefly unavailable server.
const RETRYABLE = new Set([0, 408, 423, 429, 500, 502, 503, 504]);

const PLAIN = {
  network: "The connection to medialib was lost. Check the network and try again.",
  unauthorized: "That key was not accepted.",
  rate_limited: "Too many requests just now; wait a moment and try again.",
  service_unavailable: "medialib is busy or a part of it is down; try again in a moment.",
  quota_exceeded: "This file does not fit in the workspace's storage quota. Empty the trash or delete files to make room.",
};

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(PLAIN[error.code] || error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || (status === 0 ? "network" : "http_error");
    this.error = error;
  }

  get retryable() {
    return RETRYABLE.has(this.status);
  }
}

export const networkError = () =>
  new ApiError(0, { error: { code: "network", message: PLAIN.network } });

export const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";
export const setApiKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetApiKey = () => sessionStorage.removeItem(KEY_STORAGE);
export const authHeaders = () => ({ Authorization: `Bearer ${apiKey()}` });

let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export async function api(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw networkError();
  }
  const data = response.status === 204 || response.status === 304
    ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, data);
  }
  return data;
}

export const query = (params) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};

// The networks and their rules in force (names, forms, limits), fetched once.
let platforms = null;
export async function loadPlatforms() {
  if (!platforms) platforms = api("GET", "/v1/platforms").then((answer) => answer.data);
  try {
    return await platforms;
  } catch (error) {
    platforms = null;
    throw error;
  }
}
