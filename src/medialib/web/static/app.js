// The medialib page: plain ES modules, no build step (see js/). This module signs in and
// out and shows one view at a time: the library, the posts, generation, the settings.

import { api, forgetApiKey, setApiKey, whenUnauthorized } from "./js/api.js";
import { $, $$ } from "./js/dom.js";
import { initDetail, openDetail } from "./js/detail.js";
import { initGenerate, showGenerate } from "./js/generate.js";
import { initImporter } from "./js/importer.js";
import { initLibrary, reload } from "./js/library.js";
import { initPicker } from "./js/picker.js";
import { composeWith, initPosts, showPosts } from "./js/posts.js";
import { initSettings, showSettings } from "./js/settings.js";

const VIEWS = {
  library: "#library", posts: "#posts-view", generate: "#generate-view", settings: "#settings-view",
};

function showSignedIn(signedIn) {
  $("#sign-in").hidden = signedIn;
  $("#sections").hidden = !signedIn;
  $("#sign-out").hidden = !signedIn;
  if (!signedIn) for (const view of Object.values(VIEWS)) $(view).hidden = true;
  if (signedIn) route();
}

function signOut(message) {
  forgetApiKey();
  showSignedIn(false);
  $("#sign-in-error").textContent = message || "";
  $("#api-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  setApiKey($("#api-key").value.trim());
  try {
    await api("GET", "/v1/media?limit=1");
    $("#api-key").value = "";
    $("#sign-in-error").textContent = "";
    showSignedIn(true);
  } catch (error) {
    signOut(error.status === 401 ? "That key was not accepted." : error.message);
  }
}

function route() {
  if (!$("#sign-in").hidden) return;
  const [name, params] = location.hash.slice(1).split("?");
  const view = VIEWS[name] ? name : "library";
  for (const [other, selector] of Object.entries(VIEWS)) $(selector).hidden = other !== view;
  for (const link of $$("#sections a")) {
    if (link.getAttribute("href") === `#${view}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("#search-form").hidden = view !== "library";
  $("#library-actions").hidden = view !== "library";
  $("#page-error").textContent = "";
  const shown = {
    library: () => reload(),
    posts: () => showPosts(new URLSearchParams(params || "")),
    generate: () => showGenerate(),
    settings: () => showSettings(),
  }[view]();
  // A view that cannot load says why (a refused key signs out instead).
  shown.catch((error) => {
    if (error.status !== 401) $("#page-error").textContent = error.message;
  });
}

whenUnauthorized(() => signOut("That key was not accepted."));
$("#sign-in-form").addEventListener("submit", signIn);
$("#sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
initPicker();
initLibrary({ onOpen: openDetail, onCompose: composeWith });
initDetail({ onClose: () => reload(), onCompose: composeWith });
initImporter({ onImported: () => reload() });
initPosts();
initSettings();
initGenerate({ onCompose: composeWith });
showSignedIn(Boolean(sessionStorage.getItem("medialib.apiKey")));
