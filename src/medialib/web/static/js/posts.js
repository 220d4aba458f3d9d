// Posts: the list (drafts, scheduled, or those that use one media) and the composer:
// text, networks, media from the library in order with their alt text, a live check per
// network (the same one scheduling makes), the file each network would get and, where
// a crop applies, a preview of it the user can move (saved on the media as its focal
// point, so every variant follows).

import { api, loadPlatforms, query } from "./api.js";
import { $, $$, debounce, el, formatBytes, formatDateTime, plural, showError } from "./dom.js";
import { MEDIA_DRAG_TYPE } from "./library.js";
import { pickMedia } from "./picker.js";

const state = { status: "", media: "", posts: [] };
const draft = { id: null, text: "", networks: new Set(), items: [] }; // items: { media, alt }
let networks = []; // from GET /v1/platforms
let checkSeq = 0;

export function initPosts() {
  for (const tab of $$("#post-tabs [role=tab]")) {
    tab.addEventListener("click", () => {
      state.status = tab.dataset.status;
      location.hash = "#posts";
      renderPostsView();
    });
  }
  $("#new-post").addEventListener("click", () => openComposer(null));
  $("#post-text").addEventListener("input", () => { draft.text = $("#post-text").value; scheduleCheck(); });
  $("#post-add-media").addEventListener("click", addMedia);
  $("#post-save").addEventListener("click", () => save(false));
  $("#post-schedule").addEventListener("click", () => save(true));
  $("#post-delete").addEventListener("click", removePost);
  $("#composer-close").addEventListener("click", () => $("#composer").close());
  $("#composer").addEventListener("close", () => document.body.classList.remove("composing-beside"));
  // Beside the library (a panel, not modal), Escape still closes it, wherever the focus
  // is, unless a modal dialog (the picker, a detail sheet) is the one being closed.
  document.addEventListener("keydown", (event) => {
    const composer = $("#composer");
    if (event.key !== "Escape" || !composer.open || !composer.classList.contains("side")) return;
    if (document.querySelector("dialog[open]:modal")) return;
    composer.close();
  });
  // Library cards dragged onto the composer join the post.
  const target = $("#composer-main");
  target.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes(MEDIA_DRAG_TYPE)) event.preventDefault();
  });
  target.addEventListener("drop", async (event) => {
    const id = event.dataTransfer.getData(MEDIA_DRAG_TYPE);
    if (!id) return;
    event.preventDefault();
    event.stopPropagation();
    if (draft.items.some((item) => item.media.id === id)) return;
    const media = await api("GET", `/v1/media/${id}`).catch(() => null);
    if (!media || media.status !== "ready") return;
    draft.items.push({ media, alt: media.description || "" });
    renderItems();
    scheduleCheck();
  });
}

// --- the posts list ----------------------------------------------------------------------

export async function showPosts(params) {
  state.media = params.get("media") || "";
  await renderPostsView();
}

// Each render asks anew; an answer to an older ask (a tab left, a retry's refresh) is
// dropped, so the list always shows what was asked last.
let listSeq = 0;

async function renderPostsView() {
  const seq = ++listSeq;
  for (const tab of $$("#post-tabs [role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.status === state.status && !state.media));
  }
  const [answer, names] = await Promise.all([
    api("GET", `/v1/posts${query({ status: state.status, media_id: state.media, limit: 100 })}`),
    networkNames(),
  ]);
  if (seq !== listSeq) return;
  state.posts = answer.data;
  $("#posts-filter").hidden = !state.media;
  if (state.media) {
    const media = await api("GET", `/v1/media/${state.media}`).catch(() => null);
    if (seq !== listSeq) return;
    $("#posts-filter-text").textContent = `Posts that use ${media ? media.filename : state.media}`;
  }
  $("#post-list").replaceChildren(...state.posts.map((post) => el("li", { class: "post", "data-id": post.id, "data-status": post.status },
    el("button", { type: "button", class: "open-post", onclick: () => openComposer(post) },
      el("span", { class: "post-text", text: post.text || "(no text)" }),
      el("span", { class: "post-facts", text: [
        postState(post),
        plural(post.media.length, "media item"),
      ].join(" · ") })),
    el("ul", { class: "targets", "aria-label": "Networks" },
      post.targets.map((target) => targetRow(post, target, names[target.platform] || target.platform))))));
  $("#posts-empty").hidden = state.posts.length > 0;
}

const STATES = {
  draft: () => "Draft",
  scheduled: (post) => `Scheduled for ${formatDateTime(post.scheduled_at)}`,
  publishing: () => "Publishing now",
  published: (post) => `Published ${formatDateTime(post.published_at)}`,
  partly_published: () => "Partly published",
  failed: () => "Not published",
};
const postState = (post) => (STATES[post.status] || (() => post.status))(post);
const TARGET_BADGE = { pending: "", sending: "processing", published: "ready", failed: "failed" };
const TARGET_WORD = { pending: "waiting", sending: "sending", published: "published", failed: "failed" };

// One network of a post: its state, a link to the published post, the network's own
// words when it refused, and "Try again".
function targetRow(post, target, name) {
  const error = target.error;
  const said = error?.network_answer && !error.message.includes(error.network_answer)
    ? ` ${name} said: “${error.network_answer}”` : "";
  const status = el("span", { class: "target-error", role: "status" });
  return el("li", { class: "target", "data-target": target.id, "data-status": target.status },
    el("span", { class: `badge ${TARGET_BADGE[target.status] || ""}`, text: `${name}: ${TARGET_WORD[target.status] || target.status}` }),
    target.remote_url ? el("a", { href: target.remote_url, target: "_blank", rel: "noopener noreferrer", text: `View on ${name}` }) : null,
    error ? el("span", { class: "target-error", text: `${error.message}${said}` }) : null,
    target.status === "failed" ? el("button", { type: "button", text: "Try again", "aria-label": `Try ${name} again`,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api("POST", `/v1/posts/${post.id}/targets/${target.id}/retry`);
          await renderPostsView();
        } catch (failure) {
          event.currentTarget.disabled = false;
          showError(status, failure);
        }
      } }) : null,
    status);
}

async function networkNames() {
  const list = await loadPlatforms().catch(() => []);
  return Object.fromEntries(list.map((n) => [n.id, n.name]));
}

// --- the composer ------------------------------------------------------------------------

async function openComposer(post, { beside = false } = {}) {
  networks = await loadPlatforms();
  aiEdits = await api("GET", "/v1/generate").then((options) => Boolean(options?.image?.enabled), () => false);
  draft.id = post?.id || null;
  draft.text = post?.text || "";
  draft.networks = new Set((post?.targets || []).map((t) => t.platform));
  draft.items = [];
  if (post?.media.length) {
    const ids = post.media.map((m) => m.media_id).join(",");
    const found = await api("GET", `/v1/media${query({ ids, limit: 100 })}`);
    const byId = Object.fromEntries(found.data.map((m) => [m.id, m]));
    draft.items = post.media.filter((m) => byId[m.media_id])
      .map((m) => ({ media: byId[m.media_id], alt: m.alt_text || "" }));
  }
  $("#composer-title").textContent = post ? "Edit post" : "New post";
  $("#post-text").value = draft.text;
  $("#post-when").value = post?.scheduled_at ? localInput(post.scheduled_at) : "";
  $("#post-delete").hidden = !post;
  $("#composer-error").textContent = "";
  renderNetworkChoices();
  renderItems();
  const composer = $("#composer");
  if (composer.open) composer.close();
  $("#composer-status").textContent = "";
  // From the library on a wide screen: a panel beside the grid, so cards can be dragged in;
  // the grid makes room for it (no card under the panel).
  const side = beside && window.matchMedia("(min-width: 1100px)").matches;
  composer.classList.toggle("side", side);
  document.body.classList.toggle("composing-beside", side);
  if (side) composer.show();
  else composer.showModal();
  $("#post-text").focus();
  runCheck();
}

// The composer may start from a media picked elsewhere ("Use in post").
export async function composeWith(mediaList) {
  await openComposer(null, { beside: !$("#library").hidden });
  for (const media of mediaList.filter((m) => m.status === "ready")) {
    draft.items.push({ media, alt: media.description || "" });
  }
  renderItems();
  runCheck();
}

function renderNetworkChoices() {
  $("#post-networks").replaceChildren(...networks.map((network) => el("label", { class: "choice" },
    el("input", {
      type: "checkbox", value: network.id, checked: draft.networks.has(network.id),
      onchange: (event) => {
        if (event.target.checked) draft.networks.add(network.id);
        else draft.networks.delete(network.id);
        scheduleCheck();
      },
    }),
    ` ${network.name}`)));
}

function renderItems() {
  const list = $("#post-media");
  list.replaceChildren(...draft.items.map((item, index) => {
    const { media } = item;
    const row = el("li", { class: "post-item", draggable: "true", "data-id": media.id },
      el("div", { class: "thumb" }, media.thumbnail_url
        ? el("img", { src: media.thumbnail_url, alt: media.description || media.filename })
        : el("span", { text: media.kind.toUpperCase() })),
      el("div", { class: "post-item-body" },
        el("span", { class: "title", text: `${index + 1}. ${media.filename}` }),
        el("label", { text: `Alt text for ${media.filename}` },
          el("input", { type: "text", value: item.alt, maxlength: 1000, oninput: (event) => {
            item.alt = event.target.value;
            scheduleCheck();
          } })),
        el("span", { class: "row-actions" },
          el("button", { type: "button", class: "quiet", text: "Earlier", disabled: index === 0,
            "aria-label": `Move ${media.filename} earlier`, onclick: () => move(index, index - 1) }),
          el("button", { type: "button", class: "quiet", text: "Later", disabled: index === draft.items.length - 1,
            "aria-label": `Move ${media.filename} later`, onclick: () => move(index, index + 1) }),
          el("button", { type: "button", class: "quiet", text: "Remove",
            "aria-label": `Remove ${media.filename}`, onclick: () => { draft.items.splice(index, 1); renderItems(); scheduleCheck(); } }))));
    row.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/x-medialib-index", String(index));
      event.dataTransfer.effectAllowed = "move";
    });
    row.addEventListener("dragover", (event) => event.preventDefault());
    row.addEventListener("drop", (event) => {
      event.preventDefault();
      const from = Number(event.dataTransfer.getData("text/x-medialib-index"));
      if (!Number.isNaN(from)) move(from, index);
    });
    return row;
  }));
  $("#post-media-empty").hidden = draft.items.length > 0;
}

function move(from, to) {
  if (to < 0 || to >= draft.items.length || from === to) return;
  const [item] = draft.items.splice(from, 1);
  draft.items.splice(to, 0, item);
  renderItems();
  $$("#post-media li")[to]?.querySelector("input")?.focus();
  scheduleCheck();
}

async function addMedia() {
  const chosen = await pickMedia({
    title: "Add media from the library", multiple: true,
    exclude: draft.items.map((item) => item.media.id),
  });
  for (const media of chosen) draft.items.push({ media, alt: media.description || "" });
  renderItems();
  scheduleCheck();
}

const body = (scheduledAt) => ({
  text: draft.text,
  targets: [...draft.networks].map((platform) => ({ platform })),
  media: draft.items.map((item) => ({ media_id: item.media.id, alt_text: item.alt || null })),
  ...(scheduledAt ? { scheduled_at: scheduledAt } : {}),
});

// --- the live check -----------------------------------------------------------------------

const scheduleCheck = debounce(runCheck, 300);

async function runCheck() {
  const target = $("#post-check");
  if (!draft.networks.size) {
    target.replaceChildren(el("p", { class: "hint", text: "Choose the networks this post goes to." }));
    return;
  }
  const mine = ++checkSeq;
  let check;
  try {
    check = await api("POST", "/v1/posts/check", body());
  } catch (error) {
    if (mine === checkSeq) target.replaceChildren(el("p", { class: "error", text: error.message }));
    return;
  }
  if (mine !== checkSeq) return;
  const names = Object.fromEntries(networks.map((n) => [n.id, n]));
  target.replaceChildren(...check.targets.map((planned) => networkCheck(planned, names[planned.platform])));
}

function networkCheck(planned, network) {
  const name = network?.name || planned.platform;
  const form = network?.forms.find((f) => f.id === planned.form);
  const limit = form?.caption_max_chars;
  const section = el("section", { class: `check ${planned.ok ? "ok" : "not-ok"}`, "data-platform": planned.platform,
    "aria-label": `${name} check` },
    el("h4", {},
      el("span", { class: `network ${planned.ok ? "green" : "red"}`, text: name }),
      el("span", { class: "verdict", text: planned.ok
        ? `Ready${form ? ` as ${form.label.toLowerCase()}` : ""}` : "Not ready yet" })),
    limit ? el("p", { class: "hint", text: `${draft.text.length.toLocaleString("en")} of ${limit.toLocaleString("en")} characters` }) : null,
    reasonList(planned.reasons));
  for (const item of planned.media) {
    const media = draft.items.find((i) => i.media.id === item.media_id)?.media;
    if (!media) continue;
    // A carousel item cut to the first item's shape (by medialib, or a video by the network)
    // shows that cut (fixed: it follows the focal point the item's own crop sets).
    const preview = item.crop && media.width ? cropPreview(media, item, name)
      : item.network_crop && media.width ? networkCropPreview(media, item.network_crop, name) : null;
    // Instead of cropping to the network's shape: have the picture extended to it (AI).
    const extend = item.crop && media.kind === "image" && aiEdits
      ? el("button", { type: "button", class: "quiet", text: "Extend instead of cropping (AI)",
        "aria-label": `Extend ${media.filename} to ${name}'s shape instead of cropping`,
        onclick: (event) => extendItem(media, item.crop, event.currentTarget) }) : null;
    section.append(el("div", { class: "check-media" },
      el("p", { text: `${media.filename}: ${sentAs(item)}` }),
      reasonList(item.reasons),
      preview, extend));
  }
  return section;
}

// Whether this server edits pictures with AI (read when the composer opens).
let aiEdits = false;

const gcd = (a, b) => (b ? gcd(b, a % b) : a);

// The crop's shape, as a ratio the edit API takes ("4:5"; "191:100" for 1.91:1).
function ratioOf(crop) {
  const across = Math.round((crop.width / crop.height) * 100);
  const divisor = gcd(across, 100);
  return `${across / divisor}:${100 / divisor}`;
}

// The picture extended to the network's shape (a new image, the margin painted by the
// model); once made, it takes the item's place in the post, and the check runs again.
async function extendItem(media, crop, button) {
  button.disabled = true;
  const status = $("#composer-status");
  const ratio = ratioOf(crop);
  try {
    const started = await api("POST", `/v1/media/${media.id}/edits`, { extend_to: ratio });
    status.textContent = `Extending ${media.filename} to ${ratio}…`;
    let made;
    for (;;) {
      made = await api("GET", `/v1/media/${started.media_id}`);
      if (made.status === "ready" || made.status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (made.status !== "ready") throw new Error(made.error?.message || "The picture could not be extended.");
    const item = draft.items.find((i) => i.media.id === media.id);
    if (item) item.media = made;
    status.textContent = `${media.filename} extended to ${ratio}: ${made.filename} is in the post instead.`;
    renderItems();
    scheduleCheck();
  } catch (error) {
    button.disabled = false;
    showError(status, error);
  }
}

function sentAs(item) {
  if (!item.send) return "not sent (see why below)";
  const what = item.send === "variant" ? "a variant made for it" : "the original";
  const size = item.width ? `, ${item.width} × ${item.height}` : "";
  return `sends ${what}${size}${item.size ? `, ${formatBytes(item.size)}` : ""}${item.crop ? " (cropped)" : ""}`;
}

function reasonList(reasons) {
  if (!reasons.length) return null;
  return el("ul", { class: "reasons" }, reasons.map((reason) => el("li", { "data-code": reason.code },
    el("span", { text: reason.message }),
    // A message that already says what happens ("medialib makes…", "…scales it down
    // itself") is not told twice.
    reason.fix && reason.fix !== "none" && !/medialib|itself/i.test(reason.message)
      ? el("span", { class: "fix", text: ` ${fixWords(reason)}` }) : null)));
}

const FIXES = {
  crop: "medialib crops it for this network (move the crop below).",
  pad: "medialib fits it onto a backdrop for this network.",
  convert: "medialib converts it for this network.",
  remux: "medialib repackages it for this network.",
  scaled_by_network: "the network resizes it itself.",
};
const fixWords = (reason) => FIXES[reason.fix] || String(reason.fix).replaceAll("_", " ");

// --- crop preview ---------------------------------------------------------------------------

function cropPreview(media, item, networkName) {
  const frame = el("div", { class: "crop-frame" });
  const picture = el("img", {
    src: media.kind === "image" ? media.url : media.thumbnail_url,
    alt: `${media.filename}, whole picture`,
  });
  const box = el("div", {
    class: "crop-box", tabindex: "0", role: "slider",
    "aria-label": `Crop of ${media.filename} for ${networkName}: drag it, or use the arrow keys`,
    "aria-valuetext": "",
  });
  frame.append(picture, box);
  const crop = { ...item.crop };
  // Where the network cuts medialib's crop further (a carousel item shown at the first
  // item's shape): a dashed box inside it, moving with it.
  const cut = item.network_crop;
  if (cut) {
    const inner = el("div", { class: "network-cut", role: "img",
      "aria-label": `The part ${networkName} keeps of this crop` });
    inner.style.left = `${((cut.left - crop.left) / crop.width) * 100}%`;
    inner.style.top = `${((cut.top - crop.top) / crop.height) * 100}%`;
    inner.style.width = `${(cut.width / crop.width) * 100}%`;
    inner.style.height = `${(cut.height / crop.height) * 100}%`;
    box.append(inner);
  }
  const place = () => {
    box.style.left = `${(crop.left / media.width) * 100}%`;
    box.style.top = `${(crop.top / media.height) * 100}%`;
    box.style.width = `${(crop.width / media.width) * 100}%`;
    box.style.height = `${(crop.height / media.height) * 100}%`;
    box.setAttribute("aria-valuetext",
      `${Math.round(((crop.left + crop.width / 2) / media.width) * 100)}% across, ` +
      `${Math.round(((crop.top + crop.height / 2) / media.height) * 100)}% down`);
  };
  const clamp = () => {
    crop.left = Math.round(Math.min(Math.max(0, crop.left), media.width - crop.width));
    crop.top = Math.round(Math.min(Math.max(0, crop.top), media.height - crop.height));
  };
  place();
  let dragging = null;
  box.addEventListener("pointerdown", (event) => {
    box.setPointerCapture(event.pointerId);
    dragging = { x: event.clientX, y: event.clientY, left: crop.left, top: crop.top };
  });
  box.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const scale = media.width / frame.clientWidth;
    crop.left = dragging.left + (event.clientX - dragging.x) * scale;
    crop.top = dragging.top + (event.clientY - dragging.y) * scale;
    clamp();
    place();
  });
  box.addEventListener("pointerup", () => {
    if (!dragging) return;
    dragging = null;
    saveFocus(media, crop);
  });
  box.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (!step) return;
    event.preventDefault();
    crop.left += step[0] * media.width * 0.05;
    crop.top += step[1] * media.height * 0.05;
    clamp();
    place();
    scheduleFocus(media, crop);
  });
  return el("figure", { class: "crop" }, frame,
    el("figcaption", { text: `What ${networkName} shows of ${media.filename}` }));
}

function networkCropPreview(media, crop, networkName) {
  const box = el("div", { class: "crop-box fixed", role: "img",
    "aria-label": `The part ${networkName} shows of ${media.filename}` });
  box.style.left = `${(crop.left / media.width) * 100}%`;
  box.style.top = `${(crop.top / media.height) * 100}%`;
  box.style.width = `${(crop.width / media.width) * 100}%`;
  box.style.height = `${(crop.height / media.height) * 100}%`;
  const picture = el("img", {
    src: media.kind === "image" ? media.url : media.thumbnail_url,
    alt: `${media.filename}, whole picture`,
  });
  return el("figure", { class: "crop" }, el("div", { class: "crop-frame" }, picture, box),
    el("figcaption", { text: `What ${networkName} shows of ${media.filename} (cut to the first item's shape)` }));
}

const scheduleFocus = debounce((media, crop) => saveFocus(media, crop), 500);

async function saveFocus(media, crop) {
  const focal_point = {
    x: Math.min(1, Math.max(0, (crop.left + crop.width / 2) / media.width)),
    y: Math.min(1, Math.max(0, (crop.top + crop.height / 2) / media.height)),
  };
  try {
    $("#composer-status").textContent = "Saving the crop and making new variants…";
    await api("PATCH", `/v1/media/${media.id}`, { framing: { fit: "crop", focal_point } });
    for (let attempt = 0; attempt < 120; attempt += 1) {
      const variants = await api("GET", `/v1/media/${media.id}/variants`);
      if (variants.variants_status !== "pending") break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    say("Crop saved");
    await runCheck();
  } catch (error) {
    showError($("#composer-error"), error);
  }
}

// A passing word in the composer's status line: it clears itself after a few seconds.
let sayTimer;
function say(text) {
  clearTimeout(sayTimer);
  $("#composer-status").textContent = text;
  sayTimer = setTimeout(() => {
    if ($("#composer-status").textContent === text) $("#composer-status").textContent = "";
  }, 4000);
}

// --- saving ---------------------------------------------------------------------------------

async function save(schedule) {
  $("#composer-error").textContent = "";
  let when = null;
  if (schedule) {
    const value = $("#post-when").value;
    if (!value) {
      $("#composer-error").textContent = "Choose when the post goes out.";
      $("#post-when").focus();
      return;
    }
    when = new Date(value).toISOString();
  }
  if (!draft.networks.size) {
    $("#composer-error").textContent = "Choose at least one network.";
    return;
  }
  try {
    const payload = body(when);
    if (draft.id) await api("PUT", `/v1/posts/${draft.id}`, payload);
    else await api("POST", "/v1/posts", payload);
    $("#composer").close();
    state.status = schedule ? "scheduled" : "draft";
    state.media = "";
    if (location.hash !== "#posts") location.hash = "#posts";
    else await renderPostsView();
  } catch (error) {
    const reasons = error.error?.errors?.map((e) => `${e.platform}: ${e.message}`) || [];
    $("#composer-error").textContent = [error.message, ...reasons].join(" ");
  }
}

async function removePost() {
  if (!draft.id || !confirm("Delete this post? Its media stay in the library.")) return;
  await api("DELETE", `/v1/posts/${draft.id}`);
  $("#composer").close();
  await renderPostsView();
}

function localInput(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
