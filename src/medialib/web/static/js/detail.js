// The detail sheet of one media: preview, facts, each network's verdict and variant,
// description and tags, the video cover (a frame, or an image chosen from the library),
// and the posts that use it.

import { api } from "./api.js";
import { $, el, formatBytes, formatDateTime, formatDate, formatDuration, plural, showError } from "./dom.js";
import { pickMedia } from "./picker.js";
import { loadPlatforms } from "./api.js";
import { initAiEdit, renderAiEdit } from "./aiedit.js";

const SCAN_STATES = { clean: "clean", pending: "waiting for the scanner", off: "off on this server" };
const VERDICT_WORDS = { green: "takes it", amber: "needs a variant", red: "does not take it" };
const CODEC_NAMES = {
  h264: "H.264", hevc: "HEVC (H.265)", vp8: "VP8", vp9: "VP9", av1: "AV1", prores: "ProRes",
  aac: "AAC", mp3: "MP3", opus: "Opus", vorbis: "Vorbis", flac: "FLAC", ac3: "AC-3", eac3: "E-AC-3",
};
const codecName = (codec) => CODEC_NAMES[codec] || (codec.startsWith("pcm_") ? "PCM" : codec.toUpperCase());
const VARIANT_FORMATS = { "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "video/mp4": "MP4" };

let current = null;
let onClosed = () => {};

export function initDetail({ onClose, onCompose }) {
  onClosed = onClose;
  initAiEdit({ onOpen: (id) => openDetail(id) });
  $("#use-in-post").addEventListener("click", () => {
    const media = current;
    $("#detail").close();
    onCompose([media]);
  });
  $("#detail-close").addEventListener("click", () => $("#detail").close());
  $("#fullscreen").addEventListener("click", () => $("#detail-preview").requestFullscreen?.());
  $("#detail").addEventListener("close", () => { current = null; onClosed(); });
  $("#detail-form").addEventListener("submit", save);
  $("#copy-link").addEventListener("click", copyLink);
  $("#detail-delete").addEventListener("click", remove);
  $("#cover-from-frame").addEventListener("click", () => {
    const video = $("#detail-preview video");
    setCover({ frame_time_ms: Math.round((video?.currentTime || 0) * 1000) });
  });
  $("#cover-from-image").addEventListener("click", async () => {
    const [image] = await pickMedia({ title: "Choose the cover image", kinds: ["image"] });
    if (image) setCover({ source_media_id: image.id });
  });
}

export async function openDetail(id) {
  current = await api("GET", `/v1/media/${id}`);
  render();
  const dialog = $("#detail");
  if (!dialog.open) dialog.showModal();
}

function render() {
  const media = current;
  $("#detail-title").textContent = media.filename;
  const alt = media.description || media.filename;
  let preview;
  if (media.kind === "video" && media.url) {
    preview = el("video", { src: media.url, controls: true, preload: "metadata", poster: media.thumbnail_url, "aria-label": alt });
    // The box has the video's own shape from the start, not its cover's (a portrait clip
    // with a landscape cover would otherwise play in a landscape box).
    if (media.width && media.height) {
      preview.style.aspectRatio = `${media.width} / ${media.height}`;
      if (media.height > media.width) Object.assign(preview.style, { width: "auto", height: "88vh" });
    }
  } else if (media.kind === "audio" && media.url) {
    preview = el("audio", { src: media.url, controls: true, "aria-label": alt });
  } else if (media.thumbnail_url && media.kind !== "document") {
    preview = el("img", { src: media.kind === "gif" ? media.url : (media.url || media.thumbnail_url), alt });
  } else if (media.thumbnail_url) {
    preview = el("img", { src: media.thumbnail_url, alt });
  } else {
    preview = el("span", { text: media.kind.toUpperCase() });
  }
  $("#detail-preview").replaceChildren(preview);
  const meta = media.metadata || {};
  const facts = [
    ["Status", media.status + (media.error ? ` — ${media.error.message}` : "")],
    ["Kind", media.kind],
    ["Format", media.content_type],
    ["Size", formatBytes(media.size)],
    ["Dimensions", media.width && media.height ? `${media.width} × ${media.height}` : null],
    ["Duration", media.duration_ms ? formatDuration(media.duration_ms) : null],
    ["Codec", [meta.codec, meta.audio_codec].filter(Boolean).map(codecName).join(" / ") || null],
    ["Frame rate", meta.fps ? `${meta.fps} fps` : null],
    ["Pages", meta.pages],
    ["Virus scan", SCAN_STATES[meta.scan?.status] ?? null],
    ["Uploaded", formatDateTime(media.created_at)],
    ["Kept until", media.expires_at ? formatDate(media.expires_at) : null],
    ["Id", media.id],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  $("#detail-meta").replaceChildren(
    ...facts.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value) })]),
    el("dt", { text: "Used in" }),
    el("dd", {}, media.usage_count
      ? el("a", { href: `#posts?media=${encodeURIComponent(media.id)}`, text: plural(media.usage_count, "post"),
        onclick: () => $("#detail").close() })
      : "no posts yet"));
  $("#detail-description").value = media.description || "";
  $("#detail-tags").value = media.tags.join(", ");
  $("#cover-tools").hidden = media.kind !== "video" || media.status !== "ready";
  $("#use-in-post").hidden = media.status !== "ready";
  $("#download").href = media.url || "#";
  $("#download").setAttribute("download", media.filename);
  $("#detail-error").textContent = "";
  $("#detail-saved").textContent = "";
  renderNetworks(media);
  renderAiEdit(media);
}

// What medialib does about a reason, where its message does not say (a file's index at its
// end: "medialib repackages it"); nothing for a network that does not take it anyway.
const DOES = {
  crop: "medialib crops it.", pad: "medialib fits it onto a backdrop.",
  convert: "medialib converts it.", remux: "medialib repackages it.",
};
function said(reason, verdict) {
  const does = verdict === "amber" && DOES[reason.fix] && !/medialib|itself/i.test(reason.message)
    ? ` ${DOES[reason.fix]}` : "";
  return `${reason.message}${does}`;
}

async function renderNetworks(media) {
  const section = $("#networks");
  section.hidden = media.status !== "ready";
  if (section.hidden) return;
  const [answer, platforms] = await Promise.all([
    api("GET", `/v1/media/${media.id}/variants`).catch(() => null), loadPlatforms().catch(() => [])]);
  if (!answer || current?.id !== media.id) return;
  const names = Object.fromEntries(platforms.map((p) => [p.id, p.name]));
  $("#network-list").replaceChildren(...answer.platforms.map((p) => {
    const name = names[p.platform] || p.platform;
    return el("li", { "data-platform": p.platform, "data-verdict": p.verdict },
      el("span", { class: `network ${p.verdict}`, text: name,
        title: VERDICT_WORDS[p.verdict], "aria-label": `${name}: ${VERDICT_WORDS[p.verdict]}` }),
      el("span", { class: "network-reasons", text: p.reasons.map((r) => said(r, p.verdict)).join(" ") || VERDICT_WORDS[p.verdict] },
        p.variant ? variantLink(name, p.variant) : null));
  }));
}

function variantLink(name, variant) {
  // The file made for this network: what a post there would carry.
  return el("a", {
    class: "variant", href: variant.url, download: "",
    text: ` ${VARIANT_FORMATS[variant.content_type] || "Variant"} variant ready: ` +
      `${variant.width} × ${variant.height}, ${formatBytes(variant.size)}`,
    "aria-label": `Download the ${name} variant`,
  });
}

async function save(event) {
  event.preventDefault();
  try {
    const tags = $("#detail-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    current = await api("PATCH", `/v1/media/${current.id}`, {
      description: $("#detail-description").value.trim() || null, tags,
    });
    render();
    $("#detail-saved").textContent = "Saved";
  } catch (error) {
    showError($("#detail-error"), error);
  }
}

async function copyLink() {
  try {
    await navigator.clipboard.writeText(current.url);
    $("#detail-saved").textContent = "Link copied";
  } catch {
    $("#detail-error").textContent = current.url;
  }
}

async function remove() {
  if (!confirm(`Delete “${current.filename}”? It goes to the trash.`)) return;
  try {
    await api("DELETE", `/v1/media/${current.id}`);
    $("#detail").close();
  } catch (error) {
    // Said where the person acted: a scheduled post using it answers 409 in plain words.
    showError($("#detail-error"), error);
  }
}

async function setCover(body) {
  try {
    await api("POST", `/v1/media/${current.id}/thumbnail`, body);
    $("#detail-saved").textContent = "Making the new cover…";
    for (let attempt = 0; attempt < 60; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      current = await api("GET", `/v1/media/${current.id}`);
      if (current.status !== "processing") break;
    }
    render();
    $("#detail-saved").textContent = current.metadata.thumbnail_error ? "" : "Cover updated";
  } catch (error) {
    showError($("#detail-error"), error);
  }
}
