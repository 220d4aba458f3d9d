// Import from a URL: check what is there first (kind, type, size, name), then import.

import { api } from "./api.js";
import { $, el, formatBytes, showError } from "./dom.js";

export function initImporter({ onImported }) {
  const reset = () => {
    $("#import-form").reset();
    $("#import-preview").hidden = true;
    $("#import-naming").hidden = true;
    $("#import-go").disabled = true;
    $("#import-error").textContent = "";
  };
  $("#import-button").addEventListener("click", () => { reset(); $("#import").showModal(); });
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
      showError($("#import-error"), error);
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
      onImported();
    } catch (error) {
      showError($("#import-error"), error);
      $("#import-go").disabled = false;
    }
  });
}
