// The medialib web library. Plain ES module, no build step. Every piece of user data
// (names, tags, descriptions) reaches the page through textContent or attributes, never
// as markup, so an uploaded name cannot inject anything.

const KEY_STORAGE = "medialib.apiKey";
const PAGE_SIZE = 40;
const PARALLEL_UPLOADS = 4;
// Files over this size go as resumable (tus) uploads, in pieces of CHUNK_BYTES: a lost
// connection costs at most one piece, and a file dropped again after a reload goes on
// where it stopped. (Both can be lowered through localStorage, which the tests do.)
const RESUMABLE_ABOVE = Number(localStorage.getItem("medialib.resumableAbove")) || 20_000_000;
const CHUNK_BYTES = Number(localStorage.getItem("medialib.chunkBytes")) || 8 * 1024 * 1024;
const RESUMES_STORAGE = "medialib.resumableUploads";
const RESUME_AFTER = new Set([409, 423, 500, 502, 503, 504]);
const RETRIES = 3;
const SCAN_STATES = { clean: "clean", pending: "waiting for the scanner", off: "off on this server" };

const $ = (selector) => document.querySelector(selector);
const state = {
  filters: readFilters(), items: [], total: 0, totalExact: true, next: null,
  selecting: false, selected: new Set(),
};
let searchTimer;

// --- API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) signOut("That key was not accepted.");
    throw new ApiError(response.status, data);
  }
  return data;
}

// --- element helpers ----------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function formatDuration(ms) {
  if (!ms && ms !== 0) return "";
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// --- sign-in ----------------------------------------------------------------------------

function showSignedIn(signedIn) {
  $("#sign-in").hidden = signedIn;
  $("#library").hidden = !signedIn;
  $("#search-form").hidden = !signedIn;
  $("#actions").hidden = !signedIn;
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  showSignedIn(false);
  $("#sign-in-error").textContent = message || "";
  $("#api-key").focus();
}

$("#sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("#api-key").value.trim());
  try {
    await api("GET", "/v1/media?limit=1");
    $("#api-key").value = "";
    $("#sign-in-error").textContent = "";
    showSignedIn(true);
    await reload();
  } catch (error) {
    signOut(error.status === 401 ? "That key was not accepted." : error.message);
  }
});
$("#sign-out").addEventListener("click", () => signOut());

// --- filters in the URL ---------------------------------------------------------------

function readFilters() {
  const params = new URLSearchParams(location.search);
  return {
    q: params.get("q") || "", kind: params.get("kind") || "", status: params.get("status") || "",
    tag: params.get("tag") || "", sort: params.get("sort") || "recent",
  };
}

function writeFilters() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) {
    if (value && !(name === "sort" && value === "recent")) params.set(name, value);
  }
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

function syncControls() {
  $("#q").value = state.filters.q;
  $("#status").value = state.filters.status;
  $("#tag").value = state.filters.tag;
  $("#sort").value = state.filters.sort;
  for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.kind === state.filters.kind));
  }
}

function setFilter(name, value) {
  // What is typed in the search box counts, even inside its debounce window.
  clearTimeout(searchTimer);
  state.filters.q = $("#q").value.trim();
  state.filters[name] = value;
  writeFilters();
  syncControls();
  reload();
}

$("#q").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setFilter("q", $("#q").value.trim()), 250);
});
$("#search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setFilter("q", $("#q").value.trim());
});
$("#status").addEventListener("change", () => setFilter("status", $("#status").value));
$("#sort").addEventListener("change", () => setFilter("sort", $("#sort").value));
$("#tag").addEventListener("change", () => setFilter("tag", $("#tag").value.trim()));
for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
  tab.addEventListener("click", () => setFilter("kind", tab.dataset.kind));
}

// --- grid -------------------------------------------------------------------------------

const inTrash = () => state.filters.kind === "trash";

function listPath(offset, cursor = null) {
  // The library pages by cursor (as fast a thousand pages in); the trash by offset.
  const params = new URLSearchParams(cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE, offset });
  if (inTrash()) return `/v1/media/trash?${params}`;
  for (const [name, value] of Object.entries(state.filters)) if (value) params.set(name, value);
  return `/v1/media?${params}`;
}

async function reload() {
  refreshUsage();
  const page = await api("GET", listPath(0));
  state.items = page.data;
  takePagination(page.pagination);
  renderGrid();
}

function takePagination(pagination) {
  state.total = pagination.total;
  state.totalExact = pagination.total_exact !== false;
  state.next = pagination.next_cursor || null;
}

async function refreshUsage() {
  const usage = await api("GET", "/v1/usage").catch(() => null);
  if (!usage) return;
  const quota = usage.quota_bytes ? ` of ${formatBytes(usage.quota_bytes)}` : "";
  $("#usage").textContent = `· ${formatBytes(usage.bytes_used)}${quota} used`;
  const meter = $("#usage-meter");
  meter.hidden = !usage.quota_bytes;
  if (usage.quota_bytes) {
    meter.value = Math.min(1, usage.bytes_used / usage.quota_bytes);
    meter.title = `${Math.round(meter.value * 100)}% of the quota (the trash counts until it is emptied)`;
  }
}

$("#more").addEventListener("click", async () => {
  const page = await api("GET", listPath(state.items.length, state.next));
  state.items.push(...page.data);
  takePagination(page.pagination);
  renderGrid();
});

function renderGrid() {
  $("#filters").hidden = inTrash();
  $("#select-button").hidden = inTrash();
  const grid = $("#grid");
  grid.replaceChildren(...state.items.map(card));
  const count = `${state.total.toLocaleString("en")}${state.totalExact ? "" : "+"}`;
  $("#total").textContent = `${count} ${state.total === 1 && state.totalExact ? "item" : "items"}`;
  $("#empty").hidden = state.items.length > 0;
  $("#more").hidden = state.next === null && state.items.length >= state.total;
  renderBulkBar();
  watchUnsettled();
}

function card(media) {
  const label = media.description || media.filename;
  const thumb = el("div", { class: "thumb" });
  if (media.thumbnail_url) {
    thumb.append(el("img", { src: media.thumbnail_url, alt: label, loading: "lazy" }));
  } else {
    thumb.append(el("span", { text: media.kind.toUpperCase() }));
  }
  if (media.status === "deleted") return trashCard(media, thumb);
  const selected = state.selected.has(media.id);
  const item = el("li", { class: `card${selected ? " selected" : ""}`, "data-id": media.id, "data-status": media.status });
  const open = el("button", {
    class: "open", type: "button", "aria-label": `${media.filename}, ${media.kind}, ${media.status}`,
    onclick: () => (state.selecting ? toggleSelected(media.id) : openDetail(media.id)),
  }, thumb, el("div", { class: "caption" },
    el("span", { class: "title", text: media.filename }),
    el("span", { class: "badges" },
      el("span", { class: "badge", text: media.kind }),
      el("span", { class: `badge ${media.status}`, text: media.status.replace("_", " ") }))));
  item.append(open);
  if (media.duration_ms && media.kind === "video") {
    item.append(el("span", { class: "duration", text: formatDuration(media.duration_ms) }));
  }
  if (state.selecting) {
    item.append(el("input", {
      type: "checkbox", class: "pick", checked: selected, "aria-label": `Select ${media.filename}`,
      onchange: () => toggleSelected(media.id),
    }));
  }
  return item;
}

function trashCard(media, thumb) {
  const purgeAt = new Date(media.expires_at);
  const days = Math.max(0, Math.ceil((purgeAt - Date.now()) / 86400000));
  return el("li", { class: "card", "data-id": media.id, "data-status": media.status },
    thumb,
    el("div", { class: "caption" },
      el("span", { class: "title", text: media.filename }),
      el("span", { class: "days-left", text: `${days} day${days === 1 ? "" : "s"} left` })),
    el("button", { type: "button", class: "restore", text: "Restore", "aria-label": `Restore ${media.filename}`,
      onclick: async () => { await api("POST", `/v1/media/${media.id}/restore`); await reload(); } }));
}

// Processing items flip to ready (or failed) by themselves.
let watchTimer;
function watchUnsettled() {
  clearTimeout(watchTimer);
  const waiting = state.items.filter(
    (m) => m.status === "processing" || (m.status === "ready" && ["image", "gif"].includes(m.kind) && m.thumbnail?.source === "original"));
  if (!waiting.length) return;
  watchTimer = setTimeout(async () => {
    const fresh = await Promise.all(waiting.map((m) => api("GET", `/v1/media/${m.id}`).catch(() => null)));
    for (const media of fresh) {
      if (!media) continue;
      const index = state.items.findIndex((m) => m.id === media.id);
      if (index >= 0) state.items[index] = media;
    }
    renderGrid();
  }, 1000);
}

// --- selection and bulk delete ------------------------------------------------------------

$("#select-button").addEventListener("click", () => {
  state.selecting = !state.selecting;
  state.selected.clear();
  $("#select-button").setAttribute("aria-pressed", String(state.selecting));
  renderGrid();
});

function toggleSelected(id) {
  if (state.selected.has(id)) state.selected.delete(id);
  else state.selected.add(id);
  renderGrid();
}

function renderBulkBar() {
  $("#bulk-bar").hidden = !state.selecting;
  $("#bulk-count").textContent = `${state.selected.size} selected`;
  $("#bulk-delete").disabled = state.selected.size === 0;
}

$("#bulk-delete").addEventListener("click", async () => {
  const ids = [...state.selected];
  if (!ids.length || !confirm(`Delete ${ids.length} item${ids.length === 1 ? "" : "s"}? They go to the trash.`)) return;
  await api("POST", "/v1/media/bulk-delete", { ids });
  state.selected.clear();
  await reload();
});
$("#bulk-cancel").addEventListener("click", () => $("#select-button").click());

// --- uploads ------------------------------------------------------------------------------

const queue = [];
let active = 0;

function enqueueFiles(files) {
  for (const file of files) {
    const row = uploadRow(file);
    $("#uploads").prepend(row.element);
    queue.push(() => runUpload(file, row));
  }
  pump();
}

function pump() {
  while (active < PARALLEL_UPLOADS && queue.length) {
    const next = queue.shift();
    active += 1;
    next().finally(() => { active -= 1; pump(); });
  }
}

function uploadRow(file) {
  const progress = el("progress", { max: file.size || 1, value: 0, "aria-label": `Upload of ${file.name}` });
  const status = el("span", { class: "status", text: "waiting" });
  const element = el("div", { class: "upload", "data-name": file.name },
    el("span", { class: "name", text: file.name }), status, progress);
  return {
    element,
    progress(sent) {
      progress.value = sent;
      const percent = file.size ? Math.floor((sent / file.size) * 100) : 100;
      status.textContent = `${formatBytes(sent)} of ${formatBytes(file.size)} · ${percent}%`;
    },
    state(text) { status.textContent = text; },
    fail(message, retry) {
      element.classList.add("failed");
      status.textContent = message;
      element.append(el("button", { type: "button", text: "Retry", onclick: (event) => {
        event.target.remove();
        element.classList.remove("failed");
        queue.push(() => retry());
        pump();
      } }));
    },
    done() { element.classList.add("done"); setTimeout(() => element.remove(), 4000); },
  };
}

async function runUpload(file, row) {
  try {
    row.state("starting");
    const media = file.size > RESUMABLE_ABOVE
      ? await resumableUpload(file, row)
      : await singleUpload(file, row);
    row.progress(file.size);
    row.state(media.status === "ready" ? "ready" : "processing");
    row.done();
    await reload();
  } catch (error) {
    row.fail(error.message, () => runUpload(file, row));
  }
}

async function singleUpload(file, row) {
  const upload = await api("POST", "/v1/media/upload", {
    filename: file.name, size: file.size, content_type: file.type || undefined,
  });
  await putBytes(upload, file, row);
  row.state("checking");
  return api("POST", `/v1/media/${upload.id}/confirm`);
}

function putBytes(upload, file, row) {
  // XHR, not fetch: it reports upload progress.
  return sendWithProgress(upload.method, upload.upload_url, upload.headers, file, (sent) => row.progress(sent));
}

function sendWithProgress(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) return resolve(request);
      let data = null;
      try { data = JSON.parse(request.responseText); } catch { /* not JSON */ }
      reject(new ApiError(request.status, data));
    };
    request.onerror = () => reject(new Error("The connection was lost during the upload."));
    request.send(body);
  });
}

// --- resumable uploads (tus) ---------------------------------------------------------------

async function resumableUpload(file, row) {
  const fingerprint = `${file.name}|${file.size}|${file.lastModified}`;
  let upload = savedUploads()[fingerprint];
  let offset = upload ? await uploadOffset(upload) : null;
  if (offset === null) {
    upload = await api("POST", "/v1/media/upload", {
      filename: file.name, size: file.size, content_type: file.type || undefined, mode: "resumable",
    });
    rememberUpload(fingerprint, upload);
    offset = 0;
  } else {
    row.state(`resuming at ${formatBytes(offset)}`);
  }
  let status = null;
  let failures = 0;
  while (status === null) {
    try {
      const end = Math.min(offset + CHUNK_BYTES, file.size);
      ({ offset, status } = await sendPiece(upload, file, offset, end, row));
      failures = 0;
    } catch (error) {
      if (error instanceof ApiError && !RESUME_AFTER.has(error.status)) {
        rememberUpload(fingerprint, null);
        throw error;
      }
      failures += 1;
      if (failures > RETRIES) throw new Error("The connection was lost; Retry goes on where it stopped.");
      row.state(`connection lost; trying again (${failures} of ${RETRIES})`);
      await new Promise((resolve) => setTimeout(resolve, 400 * 2 ** failures));
      offset = await uploadOffset(upload);
      if (offset === null) {
        rememberUpload(fingerprint, null);
        throw new Error("The upload expired on the server; Retry starts it again.");
      }
    }
  }
  rememberUpload(fingerprint, null);
  return { id: upload.id, status };
}

async function sendPiece(upload, file, offset, end, row) {
  const headers = {
    ...upload.headers,
    Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE) || ""}`,
    "Upload-Offset": String(offset),
  };
  const request = await sendWithProgress("PATCH", tusPath(upload), headers, file.slice(offset, end),
    (sent) => row.progress(offset + sent));
  return {
    offset: Number(request.getResponseHeader("Upload-Offset")),
    status: request.getResponseHeader("Medialib-Media-Status"),
  };
}

async function uploadOffset(upload) {
  // Where the server got to; null when the upload is gone (expired or ended).
  const response = await fetch(tusPath(upload), {
    method: "HEAD",
    headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE) || ""}` },
  });
  if (response.status === 404 || response.status === 410) return null;
  if (!response.ok) throw new ApiError(response.status, null);
  return Number(response.headers.get("Upload-Offset"));
}

function tusPath(upload) {
  // Same origin as the page, whatever host name the server put in the URL.
  return new URL(upload.upload_url).pathname;
}

function savedUploads() {
  try { return JSON.parse(localStorage.getItem(RESUMES_STORAGE) || "{}"); } catch { return {}; }
}

function rememberUpload(fingerprint, upload) {
  const saved = savedUploads();
  if (upload) saved[fingerprint] = { id: upload.id, upload_url: upload.upload_url, headers: upload.headers };
  else delete saved[fingerprint];
  localStorage.setItem(RESUMES_STORAGE, JSON.stringify(saved));
}

$("#upload-button").addEventListener("click", () => $("#file-input").click());
$("#file-input").addEventListener("change", (event) => {
  enqueueFiles([...event.target.files]);
  event.target.value = "";
});

let dragDepth = 0;
window.addEventListener("dragenter", (event) => {
  if (!event.dataTransfer?.types?.includes("Files") || $("#library").hidden) return;
  dragDepth += 1;
  $("#drop-overlay").hidden = false;
});
window.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) $("#drop-overlay").hidden = true;
});
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  $("#drop-overlay").hidden = true;
  if (!$("#library").hidden && event.dataTransfer?.files?.length) enqueueFiles([...event.dataTransfer.files]);
});

// --- detail sheet -------------------------------------------------------------------------

let current = null;

async function openDetail(id) {
  current = await api("GET", `/v1/media/${id}`);
  renderDetail();
  const dialog = $("#detail");
  if (!dialog.open) dialog.showModal();
}

function renderDetail() {
  const media = current;
  $("#detail-title").textContent = media.filename;
  const preview = $("#detail-preview");
  const alt = media.description || media.filename;
  if (media.kind === "video" && media.url) {
    preview.replaceChildren(el("video", { src: media.url, controls: true, preload: "metadata", poster: media.thumbnail_url, "aria-label": alt }));
  } else if (media.kind === "audio" && media.url) {
    preview.replaceChildren(el("audio", { src: media.url, controls: true, "aria-label": alt }));
  } else if (media.thumbnail_url && media.kind !== "document") {
    preview.replaceChildren(el("img", { src: media.kind === "gif" ? media.url : (media.url || media.thumbnail_url), alt }));
  } else if (media.thumbnail_url) {
    preview.replaceChildren(el("img", { src: media.thumbnail_url, alt }));
  } else {
    preview.replaceChildren(el("span", { text: media.kind.toUpperCase() }));
  }
  const facts = [
    ["Status", media.status + (media.error ? ` — ${media.error.message}` : "")],
    ["Kind", media.kind],
    ["Format", media.content_type],
    ["Size", formatBytes(media.size)],
    ["Dimensions", media.width ? `${media.width} × ${media.height}` : null],
    ["Duration", media.duration_ms ? formatDuration(media.duration_ms) : null],
    ["Codec", [media.metadata.codec, media.metadata.audio_codec].filter(Boolean).join(" / ") || null],
    ["Frame rate", media.metadata.fps ? `${media.metadata.fps} fps` : null],
    ["Pages", media.metadata.pages],
    ["Virus scan", SCAN_STATES[media.metadata.scan?.status] ?? null],
    ["Used in", `${media.usage_count} post${media.usage_count === 1 ? "" : "s"}`],
    ["Uploaded", new Date(media.created_at).toLocaleString()],
    ["Kept until", media.expires_at ? new Date(media.expires_at).toLocaleDateString() : null],
    ["Id", media.id],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  $("#detail-meta").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value) })]));
  $("#detail-description").value = media.description || "";
  $("#detail-tags").value = media.tags.join(", ");
  $("#cover-tools").hidden = media.kind !== "video" || media.status !== "ready";
  $("#download").href = media.url || "#";
  $("#download").setAttribute("download", media.filename);
  $("#detail-error").textContent = "";
  $("#detail-saved").textContent = "";
  renderNetworks(media);
}

// The networks' display names come from the rules in force (GET /v1/platforms), once.
let networkNames = null;
async function loadNetworkNames() {
  if (!networkNames) {
    const answer = await api("GET", "/v1/platforms").catch(() => null);
    if (!answer) return {};
    networkNames = Object.fromEntries(answer.data.map((n) => [n.id, n.name]));
  }
  return networkNames;
}
const VERDICT_WORDS = { green: "takes it", amber: "needs a variant", red: "does not take it" };

async function renderNetworks(media) {
  const section = $("#networks");
  section.hidden = media.status !== "ready";
  if (section.hidden) return;
  const [answer, names] = await Promise.all([
    api("GET", `/v1/media/${media.id}/variants`).catch(() => null), loadNetworkNames()]);
  if (!answer || current?.id !== media.id) return;
  $("#network-list").replaceChildren(...answer.platforms.map((p) => {
    const name = names[p.platform] || p.platform;
    return el("li", { "data-platform": p.platform, "data-verdict": p.verdict },
      el("span", { class: `network ${p.verdict}`, text: name,
        title: VERDICT_WORDS[p.verdict], "aria-label": `${name}: ${VERDICT_WORDS[p.verdict]}` }),
      el("span", { class: "network-reasons", text: p.reasons.map((r) => r.message).join(" ") || VERDICT_WORDS[p.verdict] },
        p.variant ? variantLink(name, p.variant) : null));
  }));
}

const VARIANT_FORMATS = { "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "video/mp4": "MP4" };

function variantLink(name, variant) {
  // The file made for this network: what a post there would carry.
  return el("a", {
    class: "variant", href: variant.url, download: "",
    text: ` ${VARIANT_FORMATS[variant.content_type] || "Variant"} variant ready: ` +
      `${variant.width} × ${variant.height}, ${formatBytes(variant.size)}`,
    "aria-label": `Download the ${name} variant`,
  });
}

$("#detail-close").addEventListener("click", () => $("#detail").close());
$("#fullscreen").addEventListener("click", () => $("#detail-preview").requestFullscreen?.());
$("#detail").addEventListener("close", () => { current = null; reload(); });

$("#detail-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const tags = $("#detail-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    current = await api("PATCH", `/v1/media/${current.id}`, {
      description: $("#detail-description").value.trim() || null, tags,
    });
    renderDetail();
    $("#detail-saved").textContent = "Saved";
  } catch (error) {
    $("#detail-error").textContent = error.message;
  }
});

$("#copy-link").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(current.url);
    $("#detail-saved").textContent = "Link copied";
  } catch {
    $("#detail-error").textContent = current.url;
  }
});

$("#detail-delete").addEventListener("click", async () => {
  if (!confirm(`Delete “${current.filename}”? It goes to the trash.`)) return;
  await api("DELETE", `/v1/media/${current.id}`);
  $("#detail").close();
});

async function setCover(body) {
  try {
    await api("POST", `/v1/media/${current.id}/thumbnail`, body);
    $("#detail-saved").textContent = "Making the new cover…";
    for (let attempt = 0; attempt < 60; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      current = await api("GET", `/v1/media/${current.id}`);
      if (current.status !== "processing") break;
    }
    renderDetail();
    $("#detail-saved").textContent = current.metadata.thumbnail_error ? "" : "Cover updated";
  } catch (error) {
    $("#detail-error").textContent = error.message;
  }
}

$("#cover-from-frame").addEventListener("click", () => {
  const video = $("#detail-preview video");
  setCover({ frame_time_ms: Math.round((video?.currentTime || 0) * 1000) });
});
$("#cover-from-image").addEventListener("click", () => {
  const id = $("#cover-image").value.trim();
  if (id) setCover({ source_media_id: id });
});

// --- import from URL ------------------------------------------------------------------------

function resetImport() {
  $("#import-form").reset();
  $("#import-preview").hidden = true;
  $("#import-naming").hidden = true;
  $("#import-go").disabled = true;
  $("#import-error").textContent = "";
}

$("#import-button").addEventListener("click", () => { resetImport(); $("#import").showModal(); });
$("#import-cancel").addEventListener("click", () => $("#import").close());
$("#import-url").addEventListener("input", () => { $("#import-go").disabled = true; });

$("#import-check").addEventListener("click", async () => {
  $("#import-error").textContent = "";
  try {
    const probe = await api("POST", "/v1/media/import/probe", { url: $("#import-url").value.trim() });
    const facts = [
      ["Type", probe.kind || "not a supported file"],
      ["Format", probe.content_type || probe.declared_content_type || "unknown"],
      ["Size", probe.size === null ? "unknown" : formatBytes(probe.size)],
      ["Name", probe.filename],
    ];
    $("#import-preview").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
    $("#import-preview").hidden = false;
    $("#import-name").value = probe.filename;
    $("#import-naming").hidden = false;
    $("#import-go").disabled = !probe.kind;
  } catch (error) {
    $("#import-error").textContent = error.message;
  }
});

$("#import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#import-go").disabled = true;
  try {
    await api("POST", "/v1/media/import", {
      url: $("#import-url").value.trim(), filename: $("#import-name").value.trim() || undefined,
    });
    $("#import").close();
    await reload();
  } catch (error) {
    $("#import-error").textContent = error.message;
    $("#import-go").disabled = false;
  }
});

// --- start --------------------------------------------------------------------------------

syncControls();
if (sessionStorage.getItem(KEY_STORAGE)) {
  showSignedIn(true);
  reload().catch(() => {});
} else {
  showSignedIn(false);
}
