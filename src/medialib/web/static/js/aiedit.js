// Edit with AI, in the detail sheet of a ready image: a part of the picture marked by
// dragging over it (or none: the whole picture) and words for what to change, or a shape
// to extend it to. The result is a new image in the library (tagged ai-edited); the
// sheet follows it and opens it once it is ready.

import { api } from "./api.js";
import { $, el, showError } from "./dom.js";

let media = null;
let region = null; // in the picture's own pixels
let openMedia = () => {};
let enabled = null;

export function initAiEdit({ onOpen }) {
  openMedia = onOpen;
  $("#ai-edit").addEventListener("submit", (event) => {
    event.preventDefault();
    const prompt = $("#ai-edit-prompt").value.trim();
    if (!prompt) {
      $("#ai-edit-status").textContent = "Say what to change first.";
      return;
    }
    start({ prompt, ...(region ? { region } : {}) });
  });
  $("#ai-extend").addEventListener("click", () => start({ extend_to: $("#ai-extend-to").value }));
  $("#ai-edit-clear").addEventListener("click", () => setRegion(null));
}

export async function renderAiEdit(shown) {
  media = shown;
  setRegion(null);
  $("#ai-edit-status").textContent = "";
  const form = $("#ai-edit");
  form.hidden = true;
  if (media.kind !== "image" || media.status !== "ready" || !media.width) return;
  if (enabled === null) {
    const options = await api("GET", "/v1/generate").catch(() => null);
    enabled = Boolean(options?.image?.enabled);
  }
  if (!enabled || media !== shown) return;
  form.hidden = false;
  const picture = $("#detail-preview img");
  if (picture) markable(picture);
}

// Drag over the picture to mark a rectangle (pointer), drawn as a box over it.
function markable(picture) {
  const holder = picture.parentElement;
  holder.classList.add("markable");
  const box = el("div", { class: "marked", hidden: true, "aria-hidden": "true" });
  holder.append(box);
  let from = null;
  const at = (event) => {
    const bounds = picture.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - bounds.left, 0), bounds.width),
      y: Math.min(Math.max(event.clientY - bounds.top, 0), bounds.height),
      bounds,
    };
  };
  const draw = (a, b) => {
    const left = Math.min(a.x, b.x), top = Math.min(a.y, b.y);
    const width = Math.abs(a.x - b.x), height = Math.abs(a.y - b.y);
    const offset = picture.getBoundingClientRect(), outer = holder.getBoundingClientRect();
    Object.assign(box.style, {
      left: `${offset.left - outer.left + left}px`, top: `${offset.top - outer.top + top}px`,
      width: `${width}px`, height: `${height}px`,
    });
    box.hidden = width < 2 || height < 2;
    const scale = media.width / b.bounds.width;
    return {
      left: Math.round(left * scale), top: Math.round(top * scale),
      width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)),
    };
  };
  picture.draggable = false;
  picture.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    picture.setPointerCapture(event.pointerId);
    from = at(event);
  });
  picture.addEventListener("pointermove", (event) => {
    if (from) draw(from, at(event));
  });
  picture.addEventListener("pointerup", (event) => {
    if (!from) return;
    const marked = draw(from, at(event));
    from = null;
    const fits = marked.left + marked.width <= media.width && marked.top + marked.height <= media.height;
    setRegion(marked.width > 4 && marked.height > 4 && fits ? marked : null, box);
  });
}

function setRegion(marked, box = document.querySelector("#detail-preview .marked")) {
  region = marked;
  if (box && !marked) box.hidden = true;
  $("#ai-edit-clear").hidden = !marked;
  $("#ai-edit-hint").textContent = marked
    ? `Marked: ${marked.width} × ${marked.height} px from ${marked.left}, ${marked.top}. Only that part changes.`
    : "Drag on the picture to mark where to change it; nothing marked: the whole picture. A new image is made; this one stays as it is.";
}

async function start(body) {
  const source = media;
  const status = $("#ai-edit-status");
  try {
    const started = await api("POST", `/v1/media/${source.id}/edits`, body);
    status.textContent = body.extend_to ? `Extending to ${body.extend_to}…` : "Editing…";
    const made = await settled(started.media_id);
    if (media !== source) return; // the sheet moved on
    if (made.status === "ready") {
      status.replaceChildren("Done: ", el("button", { type: "button", class: "quiet", text: `open ${made.filename}`,
        onclick: () => openMedia(made.id) }));
    } else {
      status.textContent = `Not made: ${made.error?.message || made.status}`;
    }
  } catch (error) {
    showError(status, error);
  }
}

async function settled(id) {
  for (;;) {
    const made = await api("GET", `/v1/media/${id}`);
    if (made.status === "ready" || made.status === "failed") return made;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
