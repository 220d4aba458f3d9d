// Generate: a prompt (optionally enhanced), a style preset and an aspect ratio for images,
// or a model for videos; the result lands in the library (tagged ai-generated) and in the
// recent generations below, which update by themselves. With no provider configured,
// the view says how to configure one.

import { api, query } from "./api.js";
import { $, $$, el, showError } from "./dom.js";

const STYLE_NAMES = { realistic: "Realistic", illustration: "Illustration", minimal: "Minimal", cinematic: "Cinematic" };
let options = null;
let compose = () => {};
let pollTimer;

export function initGenerate({ onCompose }) {
  compose = onCompose;
  $("#generate-form").addEventListener("submit", start);
  $("#enhance").addEventListener("click", enhance);
  for (const radio of $$("input[name=gen-kind]")) radio.addEventListener("change", renderKind);
}

export async function showGenerate() {
  options = await api("GET", "/v1/generate");
  const any = options.image.enabled || options.video.enabled;
  $("#generate-off").hidden = any;
  $("#generate-form").hidden = !any;
  if (any) {
    $("#gen-kind-image").disabled = !options.image.enabled;
    $("#gen-kind-video").disabled = !options.video.enabled;
    const kind = options.image.enabled ? "image" : "video";
    $(`#gen-kind-${kind}`).checked = true;
    $("#gen-style").replaceChildren(el("option", { value: "", text: "No preset" }),
      ...options.styles.map((style) => el("option", { value: style, text: STYLE_NAMES[style] || style })));
    $("#gen-ratios").replaceChildren(...options.aspect_ratios.map((ratio, index) => el("label", { class: "choice" },
      el("input", { type: "radio", name: "gen-ratio", value: ratio, checked: index === 0 }), ` ${ratio}`)));
    $("#gen-model").replaceChildren(...options.video.models.map((model) => el("option", { value: model, text: model })));
    $("#enhance").hidden = !options.enhance;
    renderKind();
  }
  renderAllowance();
  await renderRecent();
}

function renderKind() {
  const video = $("#gen-kind-video").checked;
  $("#gen-model-row").hidden = !video;
}

function renderAllowance() {
  $("#gen-allowance").textContent = `${options.used_today} of ${options.per_day} generations used today`;
}

async function enhance() {
  const prompt = $("#gen-prompt").value.trim();
  if (!prompt) return $("#gen-prompt").focus();
  $("#gen-status").textContent = "Enhancing the prompt…";
  try {
    const answer = await api("POST", "/v1/generate/enhance", { prompt, style: $("#gen-style").value || undefined });
    $("#gen-prompt").value = answer.prompt;
    $("#gen-status").textContent = "Prompt enhanced";
  } catch (error) {
    $("#gen-status").textContent = "";
    showError($("#gen-error"), error);
  }
}

async function start(event) {
  event.preventDefault();
  $("#gen-error").textContent = "";
  const kind = $("#gen-kind-video").checked ? "video" : "image";
  const body = {
    kind,
    prompt: $("#gen-prompt").value.trim(),
    style: $("#gen-style").value || undefined,
    aspect_ratio: $("input[name=gen-ratio]:checked")?.value,
    model: kind === "video" ? $("#gen-model").value : undefined,
  };
  try {
    await api("POST", "/v1/generations", body);
    $("#gen-status").textContent = "Generating… it appears below and in the library.";
    options.used_today += 1;
    renderAllowance();
    await renderRecent();
  } catch (error) {
    showError($("#gen-error"), error);
  }
}

async function renderRecent() {
  clearTimeout(pollTimer);
  const recent = (await api("GET", `/v1/generations${query({ limit: 24 })}`)).data;
  $("#generations-empty").hidden = recent.length > 0;
  $("#generation-grid").replaceChildren(...recent.map(card));
  const busy = recent.some((g) => g.status === "pending" || g.media?.status === "processing");
  if (busy && !$("#generate-view").hidden) pollTimer = setTimeout(renderRecent, 1500);
  // "Generating…" holds only while something is: the cards below say how each ended.
  if (!busy) $("#gen-status").textContent = "";
}

function card(generation) {
  const media = generation.media;
  const status = generation.status === "failed" || media?.status === "failed"
    ? "failed" : media?.status === "ready" ? "ready" : "processing";
  const label = `${generation.kind} from “${generation.prompt}”`;
  return el("li", { class: "card generation", "data-id": generation.id, "data-status": status },
    el("div", { class: "thumb" }, media?.thumbnail_url
      ? el("img", { src: media.thumbnail_url, alt: label })
      : el("span", { text: status === "failed" ? "FAILED" : "…" })),
    el("div", { class: "caption" },
      el("span", { class: "title", text: generation.prompt }),
      el("span", { class: "badges" },
        el("span", { class: "badge", text: generation.kind }),
        el("span", { class: `badge ${status}`, text: status }),
        generation.style ? el("span", { class: "badge", text: STYLE_NAMES[generation.style] || generation.style }) : null),
      status === "failed"
        ? el("span", { class: "error", text: (generation.error || media?.error)?.message || "It could not be made." })
        : null),
    status === "ready" ? el("button", {
      type: "button", class: "use", text: "Use in post", "aria-label": `Use the ${label} in a post`,
      onclick: () => compose([media]),
    }) : null);
}
