// Choosing media from the library in a dialog (search, kind tabs, one or many): the
// composer's "Add from library" and the video cover's "Choose an image".

import { api, query } from "./api.js";
import { $, $$, debounce, el } from "./dom.js";

let current = null; // { resolve, multiple, chosen: Map }

export function pickMedia({ title, multiple = false, kinds = null, exclude = [] }) {
  const dialog = $("#picker");
  $("#picker-title").textContent = title;
  $("#picker-q").value = "";
  $("#picker-add").hidden = !multiple;
  const tabs = $$("#picker-tabs [role=tab]");
  for (const tab of tabs) {
    tab.hidden = kinds !== null && tab.dataset.kind !== "" && !kinds.includes(tab.dataset.kind);
    tab.setAttribute("aria-selected", String(tab.dataset.kind === ""));
  }
  return new Promise((resolve) => {
    current?.resolve([]);
    current = { resolve, multiple, kinds, kind: "", exclude: new Set(exclude), chosen: new Map() };
    renderChosen();
    search();
    dialog.showModal();
    $("#picker-q").focus();
  });
}

export function initPicker() {
  $("#picker-q").addEventListener("input", debounce(search, 200));
  for (const tab of $$("#picker-tabs [role=tab]")) {
    tab.addEventListener("click", () => {
      current.kind = tab.dataset.kind;
      for (const other of $$("#picker-tabs [role=tab]")) other.setAttribute("aria-selected", String(other === tab));
      search();
    });
  }
  $("#picker-add").addEventListener("click", () => finish([...current.chosen.values()]));
  $("#picker-cancel").addEventListener("click", () => finish([]));
  $("#picker").addEventListener("close", () => finish([]));
}

function finish(chosen) {
  if (!current) return;
  const { resolve } = current;
  current = null;
  if ($("#picker").open) $("#picker").close();
  resolve(chosen);
}

let seq = 0;
async function search() {
  const mine = ++seq;
  const kind = current.kind || (current.kinds?.length === 1 ? current.kinds[0] : "");
  const page = await api("GET", `/v1/media${query({
    q: $("#picker-q").value.trim(), kind, status: "ready", limit: 60,
  })}`).catch(() => ({ data: [] }));
  if (mine !== seq || !current) return;
  const items = page.data.filter((m) => !current.exclude.has(m.id) &&
    (current.kinds === null || current.kinds.includes(m.kind)));
  $("#picker-grid").replaceChildren(...items.map(option));
  $("#picker-empty").hidden = items.length > 0;
}

function option(media) {
  const chosen = current.chosen.has(media.id);
  return el("li", { class: `card${chosen ? " selected" : ""}`, "data-id": media.id },
    el("button", {
      type: "button", class: "open", "aria-pressed": current.multiple ? String(chosen) : undefined,
      "aria-label": `${current.multiple ? "Choose" : "Use"} ${media.filename}`,
      onclick: (event) => {
        if (!current.multiple) return finish([media]);
        if (current.chosen.has(media.id)) current.chosen.delete(media.id);
        else current.chosen.set(media.id, media);
        const item = event.currentTarget.closest("li");
        item.classList.toggle("selected", current.chosen.has(media.id));
        event.currentTarget.setAttribute("aria-pressed", String(current.chosen.has(media.id)));
        renderChosen();
      },
    },
    el("div", { class: "thumb" }, media.thumbnail_url
      ? el("img", { src: media.thumbnail_url, alt: media.description || media.filename })
      : el("span", { text: media.kind.toUpperCase() })),
    el("div", { class: "caption" }, el("span", { class: "title", text: media.filename }))));
}

function renderChosen() {
  const count = current.chosen.size;
  $("#picker-add").disabled = count === 0;
  $("#picker-add").textContent = count ? `Add ${count}` : "Add";
}
