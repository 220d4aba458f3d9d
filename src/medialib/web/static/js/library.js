// The library view: filters in the URL, the grid (keyed: a card is rebuilt only when its
// media changed, so polling and selection never steal focus), paging by cursor, the
// trash, selection and bulk delete, and the uploads panel.

import { api, loadPlatforms, query } from "./api.js";
import { $, $$, debounce, el, formatBytes, formatDuration, plural, showError } from "./dom.js";
import { UploadQueue, forgetInterrupted, interruptedUploads } from "./uploads.js";

const PAGE_SIZE = 40;
export const MEDIA_DRAG_TYPE = "application/x-medialib-media";
const POLL_MS = 1000;
const FILTERS = ["q", "kind", "status", "ready_for", "tag", "sort", "from", "to"];
// Short names for the per-network badges on each card (the full name is in its label).
const SHORT = { x: "X", bluesky: "Bsky", mastodon: "Mast", threads: "Thr", instagram: "IG",
  facebook: "FB", linkedin: "In", tiktok: "TT", youtube: "YT", pinterest: "Pin", telegram: "TG" };
let networkNames = {};

const state = {
  filters: readFilters(), items: [], total: 0, totalExact: true, next: null,
  selecting: false, selected: new Set(),
};
const cards = new Map(); // media id -> { key, node }
let listSeq = 0; // answers to older list requests are dropped (a filter changed since)
let openDetail = () => {};
const uploads = new UploadQueue();

let compose = () => {};

export function initLibrary({ onOpen, onCompose }) {
  openDetail = onOpen;
  compose = onCompose;
  const search = debounce(() => setFilter("q", $("#q").value.trim()), 250);
  $("#q").addEventListener("input", search);
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setFilter("q", $("#q").value.trim());
  });
  $("#status").addEventListener("change", () => setFilter("status", $("#status").value));
  $("#ready_for").addEventListener("change", () => setFilter("ready_for", $("#ready_for").value));

  $("#sort").addEventListener("change", () => setFilter("sort", $("#sort").value));
  $("#tag").addEventListener("change", () => setFilter("tag", $("#tag").value.trim()));
  $("#from").addEventListener("change", () => setFilter("from", $("#from").value));
  $("#to").addEventListener("change", () => setFilter("to", $("#to").value));
  for (const tab of $$("#kind-tabs [role=tab]")) {
    tab.addEventListener("click", () => setFilter("kind", tab.dataset.kind));
  }
  $("#more").addEventListener("click", loadMore);
  $("#select-button").addEventListener("click", toggleSelecting);
  $("#bulk-cancel").addEventListener("click", toggleSelecting);
  $("#bulk-delete").addEventListener("click", bulkDelete);
  $("#bulk-tag-add").addEventListener("click", () => bulkTag("add"));
  $("#bulk-tag-remove").addEventListener("click", () => bulkTag("remove"));
  $("#bulk-post").addEventListener("click", () => {
    const chosen = state.items.filter((m) => state.selected.has(m.id));
    toggleSelecting();
    compose(chosen);
  });
  $("#upload-button").addEventListener("click", () => $("#file-input").click());
  $("#file-input").addEventListener("change", (event) => {
    enqueueFiles([...event.target.files]);
    event.target.value = "";
  });
  $("#resume-forget").addEventListener("click", async () => {
    await forgetInterrupted();
    renderResumeHint();
  });
  initDrop();
  if (window.matchMedia("(max-width: 640px)").matches) $("#filters-box").open = false;
  syncControls();
}

// --- filters in the URL ---------------------------------------------------------------

function readFilters() {
  const params = new URLSearchParams(location.search);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
  filters.sort ||= "recent";
  return filters;
}

function writeFilters() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) {
    if (value && !(name === "sort" && value === "recent")) params.set(name, value);
  }
  const text = params.toString();
  history.replaceState(null, "", `${text ? `?${text}` : location.pathname}${location.hash}`);
}

function syncControls() {
  for (const name of ["q", "status", "ready_for", "tag", "sort", "from", "to"]) $(`#${name}`).value = state.filters[name];
  for (const tab of $$("#kind-tabs [role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.kind === state.filters.kind));
  }
}

function setFilter(name, value) {
  // What is typed in the search box counts, even inside its debounce window.
  state.filters.q = $("#q").value.trim();
  state.filters[name] = value;
  writeFilters();
  syncControls();
  reload();
}

const inTrash = () => state.filters.kind === "trash";

function listPath(offset, cursor = null) {
  // The library pages by cursor (as fast a thousand pages in); the trash by offset.
  const paging = cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE, offset };
  if (inTrash()) return `/v1/media/trash${query(paging)}`;
  const { from, to, ...rest } = state.filters;
  return `/v1/media${query({
    ...paging, ...rest,
    created_after: from ? new Date(`${from}T00:00:00`).toISOString() : "",
    created_before: to ? new Date(new Date(`${to}T00:00:00`).getTime() + 86400000).toISOString() : "",
  })}`;
}

// --- list -------------------------------------------------------------------------------

// The networks' names, for the "Ready for" filter and the cards' labels (once signed in).
async function loadNetworks() {
  if (Object.keys(networkNames).length) return;
  const networks = await loadPlatforms().catch(() => null);
  if (!networks || Object.keys(networkNames).length) return;
  networkNames = Object.fromEntries(networks.map((network) => [network.id, network.name]));
  $("#ready_for").append(...networks.map((network) => el("option", { value: network.id, text: network.name })));
  $("#ready_for").value = state.filters.ready_for;
  renderGrid();
}

export async function reload() {
  refreshUsage();
  loadNetworks();
  renderResumeHint();
  const seq = ++listSeq;
  const page = await api("GET", listPath(0));
  if (seq !== listSeq) return;
  state.items = page.data;
  takePagination(page.pagination);
  renderGrid();
}

async function loadMore() {
  const seq = listSeq;
  const page = await api("GET", listPath(state.items.length, state.next));
  if (seq !== listSeq) return;
  state.items.push(...page.data);
  takePagination(page.pagination);
  renderGrid();
}

function takePagination(pagination) {
  state.total = pagination.total;
  state.totalExact = pagination.total_exact !== false;
  state.next = pagination.next_cursor || null;
}

export async function refreshUsage() {
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

// --- grid -------------------------------------------------------------------------------

function renderGrid() {
  $("#filters").hidden = inTrash();
  $("#select-button").hidden = inTrash();
  const grid = $("#grid");
  const focused = document.activeElement?.closest?.("#grid .card")?.dataset.id;
  const wanted = state.items.map((media) => {
    const key = cardKey(media);
    let entry = cards.get(media.id);
    if (!entry || entry.key !== key) {
      const node = media.status === "deleted" ? trashCard(media) : card(media);
      if (entry) entry.node.replaceWith(node);
      entry = { key, node };
      cards.set(media.id, entry);
    }
    return entry.node;
  });
  const keep = new Set(wanted);
  for (const [id, entry] of cards) {
    if (!keep.has(entry.node)) { entry.node.remove(); cards.delete(id); }
  }
  wanted.forEach((node, index) => {
    if (grid.children[index] !== node) grid.insertBefore(node, grid.children[index] || null);
  });
  if (focused && !document.activeElement?.closest?.("#grid")) {
    cards.get(focused)?.node.querySelector("button")?.focus();
  }
  const count = `${state.total.toLocaleString("en")}${state.totalExact ? "" : "+"}`;
  $("#total").textContent = `${count} ${state.total === 1 && state.totalExact ? "item" : "items"}`;
  $("#empty").hidden = state.items.length > 0;
  $("#more").hidden = state.next === null && state.items.length >= state.total;
  renderBulkBar();
  watchUnsettled();
}

const cardKey = (media) => JSON.stringify([
  media.status, media.thumbnail_url, media.filename, media.description, media.duration_ms,
  media.expires_at, state.selecting, state.selected.has(media.id), media.ready_for,
  Object.keys(networkNames).length,
]);

function thumbOf(media) {
  const label = media.description || media.filename;
  return el("div", { class: "thumb" }, media.thumbnail_url
    ? el("img", { src: media.thumbnail_url, alt: label, loading: "lazy" })
    : el("span", { text: media.kind.toUpperCase() }));
}

// Where it can go out now: one small badge per network, named in full for screen readers.
function readiness(media) {
  if (media.status !== "ready" || !media.ready_for) return "";
  const names = media.ready_for.map((id) => networkNames[id] || id);
  return el("span", {
    class: "networks", role: "img",
    "aria-label": names.length ? `Ready for ${names.join(", ")}` : "Ready for no network",
    title: names.length ? `Ready for ${names.join(", ")}` : "Ready for no network yet",
  }, media.ready_for.length
    ? media.ready_for.map((id) => el("span", { class: "net", text: SHORT[id] || id }))
    : el("span", { class: "net none", text: "no network" }));
}

function card(media) {
  const selected = state.selected.has(media.id);
  const item = el("li", {
    class: `card${selected ? " selected" : ""}`, "data-id": media.id, "data-status": media.status,
    // Ready media can be dragged onto an open composer (desktop).
    draggable: media.status === "ready" ? "true" : undefined,
    ondragstart: (event) => {
      event.dataTransfer.setData(MEDIA_DRAG_TYPE, media.id);
      event.dataTransfer.effectAllowed = "copy";
    },
  });
  item.append(el("button", {
    class: "open", type: "button", "aria-label": `${media.filename}, ${media.kind}, ${media.status}`,
    onclick: () => (state.selecting ? toggleSelected(media.id) : openDetail(media.id)),
  }, thumbOf(media), el("div", { class: "caption" },
    el("span", { class: "title", text: media.filename }),
    el("span", { class: "badges" },
      el("span", { class: "badge", text: media.kind }),
      el("span", { class: `badge ${media.status}`, text: media.status.replace("_", " ") })),
    readiness(media))));
  if (media.duration_ms && media.kind === "video") {
    item.append(el("span", { class: "duration", text: formatDuration(media.duration_ms) }));
  }
  if (media.status === "failed") {
    item.append(el("button", {
      type: "button", class: "dismiss", text: "Dismiss", "aria-label": `Dismiss ${media.filename}`,
      title: media.error?.message || "This file could not be used",
      onclick: async (event) => {
        try {
          await api("DELETE", `/v1/media/${media.id}`);
          await reload();
        } catch (error) {
          event.target.title = error.message;  // a failed card's own remove button
          event.target.setAttribute("aria-description", error.message);
        }
      },
    }));
  }
  if (state.selecting) {
    item.append(el("input", {
      type: "checkbox", class: "pick", checked: selected, "aria-label": `Select ${media.filename}`,
      onchange: () => toggleSelected(media.id),
    }));
  }
  return item;
}

function trashCard(media) {
  const days = Math.max(0, Math.ceil((new Date(media.expires_at) - Date.now()) / 86400000));
  return el("li", { class: "card", "data-id": media.id, "data-status": media.status },
    thumbOf(media),
    el("div", { class: "caption" },
      el("span", { class: "title", text: media.filename }),
      el("span", { class: "days-left", text: `${plural(days, "day")} left` })),
    el("button", {
      type: "button", class: "restore", text: "Restore", "aria-label": `Restore ${media.filename}`,
      onclick: async () => { await api("POST", `/v1/media/${media.id}/restore`); await reload(); },
    }));
}

// Items still processing flip to ready (or failed) by themselves: one request for all.
let watchTimer;
function watchUnsettled() {
  clearTimeout(watchTimer);
  // Processing, waiting for its preview, or for where it can go (worked out just after).
  const waiting = state.items.filter((m) => m.status === "processing" ||
    (m.status === "ready" && ["image", "gif"].includes(m.kind) && m.thumbnail?.source === "original") ||
    (m.status === "ready" && m.ready_for === null));
  if (!waiting.length) return;
  watchTimer = setTimeout(async () => {
    const ids = waiting.slice(0, 100).map((m) => m.id).join(",");
    const fresh = await api("GET", `/v1/media${query({ ids, limit: 100 })}`).catch(() => null);
    for (const media of fresh?.data || []) {
      const index = state.items.findIndex((m) => m.id === media.id);
      if (index >= 0) state.items[index] = media;
    }
    renderGrid();
  }, POLL_MS);
}

// --- selection and bulk delete ------------------------------------------------------------

function toggleSelecting() {
  state.selecting = !state.selecting;
  state.selected.clear();
  $("#select-button").setAttribute("aria-pressed", String(state.selecting));
  renderGrid();
}

function toggleSelected(id) {
  if (state.selected.has(id)) state.selected.delete(id);
  else state.selected.add(id);
  renderGrid();
}

function renderBulkBar() {
  $("#bulk-bar").hidden = !state.selecting;
  $("#bulk-count").textContent = `${state.selected.size} selected`;
  $("#bulk-delete").disabled = state.selected.size === 0;
  $("#bulk-tag-add").disabled = $("#bulk-tag-remove").disabled = state.selected.size === 0;
  $("#bulk-post").disabled = ![...state.selected].some(
    (id) => state.items.find((m) => m.id === id)?.status === "ready");
}

// Tags for every selected item at once: "summer" added to (or taken from) them all.
async function bulkTag(how) {
  const ids = [...state.selected];
  const tags = $("#bulk-tag").value.split(",").map((tag) => tag.trim()).filter(Boolean);
  if (!ids.length || !tags.length) {
    $("#bulk-status").textContent = "Type a tag first.";
    return;
  }
  try {
    const done = await api("POST", "/v1/media/bulk-tags", { ids, [how]: tags });
    const what = tags.map((tag) => `“${tag}”`).join(", ");
    $("#bulk-status").textContent = how === "add"
      ? `${what} added to ${plural(done.updated.length, "item")}.`
      : `${what} taken from ${plural(done.updated.length, "item")}.`;
    $("#bulk-tag").value = "";
  } catch (error) {
    showError($("#bulk-status"), error);
  }
  await reload();
}

async function bulkDelete() {
  const ids = [...state.selected];
  if (!ids.length || !confirm(`Delete ${plural(ids.length, "item")}? They go to the trash.`)) return;
  try {
    const done = await api("POST", "/v1/media/bulk-delete", { ids });
    state.selected = new Set(done.in_use);
    $("#bulk-status").textContent = done.in_use.length
      ? `${plural(done.in_use.length, "item")} kept: a scheduled post uses ${done.in_use.length === 1 ? "it" : "them"}.`
      : "";
  } catch (error) {
    showError($("#bulk-status"), error);
  }
  await reload();
}

// --- uploads panel --------------------------------------------------------------------------

function enqueueFiles(files) {
  for (const file of files) {
    const row = uploadRow(file);
    $("#upload-list").prepend(row.element);
    row.job = uploads.add(file, row);
  }
  renderUploadsPanel();
}

function renderUploadsPanel() {
  const rows = $$("#upload-list .upload");
  $("#uploads").hidden = rows.length === 0;
  const done = rows.filter((row) => row.classList.contains("done")).length;
  $("#uploads-summary").textContent = `Uploads: ${done} of ${rows.length} done`;
}

function uploadRow(file) {
  const progress = el("progress", { max: file.size || 1, value: 0, "aria-label": `Upload of ${file.name}` });
  const status = el("span", { class: "status", text: "waiting" });
  const actions = el("span", { class: "row-actions" });
  const element = el("li", { class: "upload", "data-name": file.name },
    el("span", { class: "name", text: file.name }), status, progress, actions);
  const row = {
    element,
    job: null,
    progress(sent) {
      progress.value = sent;
      const percent = file.size ? Math.floor((sent / file.size) * 100) : 100;
      status.textContent = `${formatBytes(sent)} of ${formatBytes(file.size)} · ${percent}%`;
    },
    state(text) { status.textContent = text; },
    done(media) {
      status.textContent = media.status === "ready" ? "ready" : "processing";
      element.classList.add("done");
      renderUploadsPanel();
      setTimeout(() => { element.remove(); renderUploadsPanel(); }, 4000);
      reload();
    },
    fail(error) {
      element.classList.add("failed");
      status.textContent = error.message;
      actions.replaceChildren();
      if (error.retryable) {
        actions.append(el("button", { type: "button", text: "Retry", onclick: () => {
          actions.replaceChildren();
          element.classList.remove("failed");
          status.textContent = "waiting";
          uploads.retry(row.job);
        } }));
      }
      actions.append(el("button", {
        type: "button", class: "quiet", text: "Dismiss", "aria-label": `Dismiss ${file.name}`,
        onclick: async () => {
          element.remove();
          renderUploadsPanel();
          // What the refused upload left (a failed media) goes too.
          if (row.job?.mediaId) await api("DELETE", `/v1/media/${row.job.mediaId}`).catch(() => null);
          reload();
        },
      }));
      renderUploadsPanel();
      reload();
    },
  };
  return row;
}

function renderResumeHint() {
  const waiting = interruptedUploads();
  $("#resume-hint").hidden = waiting.length === 0;
  if (!waiting.length) return;
  const names = waiting.map((upload) => upload.name).filter(Boolean).join(", ");
  $("#resume-text").textContent = `${plural(waiting.length, "upload")} stopped before finishing` +
    `${names ? ` (${names})` : ""}. Drop the same file again and it goes on where it stopped.`;
}

function initDrop() {
  let depth = 0;
  const overlay = $("#drop-overlay");
  const accepting = () => !$("#library").hidden && !document.querySelector("dialog[open]");
  window.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types?.includes("Files") || !accepting()) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    if (accepting() && event.dataTransfer?.files?.length) enqueueFiles([...event.dataTransfer.files]);
  });
}
