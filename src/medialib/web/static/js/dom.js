// Small DOM helpers. Every piece of user data (names, tags, descriptions) reaches the
// page through textContent or attributes, never as markup, so an uploaded name cannot
// inject anything.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms) {
  if (!ms && ms !== 0) return "";
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export const formatDateTime = (iso) => (iso ? new Date(iso).toLocaleString() : "");
export const formatDate = (iso) => (iso ? new Date(iso).toLocaleDateString() : "");
export const plural = (count, word) => `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;

export function debounce(callback, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => callback(...args), ms); };
}

// A dialog's message area: the error of an action, in plain words.
export function showError(target, error) {
  target.textContent = error ? (error.message || String(error)) : "";
}
