// Settings: storage used against the quota, retention, API keys (a new key shown once),
// webhook endpoints (events, pause and resume, a new secret shown once, the delivery log
// with each attempt's outcome, send again).

import { api, loadPlatforms } from "./api.js";
import { $, el, formatBytes, formatDateTime, plural, showError } from "./dom.js";

const EVENTS = [
  "media.ready", "media.failed", "media.deleted", "media.expiring", "media.purged",
  "post.due", "post.published", "post.failed",
];
const OWN_CONNECTOR = new Set(["bluesky"]); // networks medialib publishes to itself

export function initSettings() {
  $("#retention-form").addEventListener("submit", saveRetention);
  $("#key-form").addEventListener("submit", createKey);
  $("#hook-form").addEventListener("submit", addHook);
  $("#account-form").addEventListener("submit", addAccount);
  $("#account-network").addEventListener("change", showAccountFields);
  $("#hook-events").replaceChildren(...EVENTS.map((event) => el("label", { class: "choice" },
    el("input", { type: "checkbox", name: "event", value: event }), ` ${event}`)));
}

export async function showSettings() {
  $("#settings-error").textContent = "";
  $("#new-key").hidden = true;
  $("#new-secret").hidden = true;
  await Promise.all([renderUsage(), renderKeys(), renderAccounts(), renderHooks()]);
}

// --- network accounts ---------------------------------------------------------------------

async function renderAccounts() {
  const [accounts, networks] = await Promise.all([api("GET", "/v1/accounts"), loadPlatforms()]);
  const names = Object.fromEntries(networks.map((n) => [n.id, n.name]));
  const select = $("#account-network");
  if (!select.options.length) {
    select.replaceChildren(...networks.map((n) => el("option", { value: n.id, text: n.name })));
    showAccountFields();
  }
  $("#accounts-empty").hidden = accounts.data.length > 0;
  $("#account-list").replaceChildren(...accounts.data.map((account) => el("tr", { "data-id": account.id },
    el("td", { text: names[account.network] || account.network }),
    el("td", { text: account.handle }),
    el("td", { text: account.connector === "handoff"
      ? `hand-off webhook, files ${account.sends_files === "upload" ? "uploaded" : "by URL"}`
      : "published by medialib" }),
    el("td", { text: account.checked_at ? formatDateTime(account.checked_at) : "–" }),
    el("td", {}, el("button", {
      type: "button", class: "danger", text: "Remove", "aria-label": `Remove ${account.handle}`,
      onclick: () => removeAccount(account),
    })))));
}

function showAccountFields() {
  $("#account-bluesky").hidden = !OWN_CONNECTOR.has($("#account-network").value);
  $("#account-handoff").hidden = OWN_CONNECTOR.has($("#account-network").value);
}

async function addAccount(event) {
  event.preventDefault();
  const network = $("#account-network").value;
  const body = { network, handle: $("#account-handle").value.trim() };
  if (OWN_CONNECTOR.has(network)) {
    body.credentials = { app_password: $("#account-password").value };
    const service = $("#account-service").value.trim();
    if (service) body.service_url = service;
  } else {
    body.sends_files = $("#account-sends").value;
  }
  const button = event.submitter;
  if (button) button.disabled = true;
  $("#account-error").textContent = OWN_CONNECTOR.has(network) ? "Checking with the network…" : "";
  try {
    await api("POST", "/v1/accounts", body);
    $("#account-form").reset();
    showAccountFields();
    $("#account-error").textContent = "";
    await renderAccounts();
  } catch (error) {
    showError($("#account-error"), error);
  } finally {
    if (button) button.disabled = false;
  }
}

async function removeAccount(account) {
  if (!confirm(`Remove ${account.handle}? Its credentials are deleted.`)) return;
  try {
    await api("DELETE", `/v1/accounts/${account.id}`);
    $("#account-error").textContent = "";
    await renderAccounts();
  } catch (error) {
    showError($("#account-error"), error);
  }
}

// --- storage and retention -------------------------------------------------------------

async function renderUsage() {
  const [usage, workspace] = await Promise.all([api("GET", "/v1/usage"), api("GET", "/v1/workspace")]);
  const quota = usage.quota_bytes;
  $("#settings-usage").textContent = quota
    ? `${formatBytes(usage.bytes_used)} of ${formatBytes(quota)} used (${Math.round((usage.bytes_used / quota) * 100)}%). The trash counts until it is emptied.`
    : `${formatBytes(usage.bytes_used)} used; this workspace has no quota.`;
  const meter = $("#settings-meter");
  meter.hidden = !quota;
  if (quota) meter.value = Math.min(1, usage.bytes_used / quota);
  $("#retention").value = workspace.retention_days === null ? "" : String(workspace.retention_days);
}

async function saveRetention(event) {
  event.preventDefault();
  const value = $("#retention").value;
  try {
    await api("PATCH", "/v1/workspace", { retention_days: value ? Number(value) : null });
    $("#retention-saved").textContent = "Saved";
  } catch (error) {
    showError($("#settings-error"), error);
  }
}

// --- API keys ---------------------------------------------------------------------------

async function renderKeys() {
  const keys = (await api("GET", "/v1/keys")).data;
  $("#key-list").replaceChildren(...keys.map((key) => el("tr", { "data-id": key.id },
    el("td", { text: key.name || "(no name)" }),
    el("td", {}, el("code", { text: `${key.prefix}…` })),
    el("td", { text: formatDateTime(key.created_at) }),
    el("td", { text: key.revoked_at ? `revoked ${formatDateTime(key.revoked_at)}` : "active" }),
    el("td", {}, key.revoked_at ? null : el("button", {
      type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke ${key.name || key.prefix}`,
      onclick: () => revokeKey(key),
    })))));
}

async function createKey(event) {
  event.preventDefault();
  try {
    const made = await api("POST", "/v1/keys", { name: $("#key-name").value.trim() || null });
    $("#key-name").value = "";
    $("#new-key-value").value = made.key;
    $("#new-key").hidden = false;
    $("#new-key-value").select();
    await renderKeys();
  } catch (error) {
    showError($("#settings-error"), error);
  }
}

async function revokeKey(key) {
  if (!confirm(`Revoke “${key.name || key.prefix}”? Anything using it stops working at once.`)) return;
  try {
    await api("DELETE", `/v1/keys/${key.id}`);
  } catch (error) {
    showError($("#settings-error"), error);
    return;
  }
  // A key shown once and now revoked is shown no more: it opens nothing.
  if ($("#new-key-value").value.startsWith(key.prefix)) {
    $("#new-key-value").value = "";
    $("#new-key").hidden = true;
  }
  await renderKeys();
}

// --- webhooks -----------------------------------------------------------------------------

async function renderHooks() {
  const hooks = (await api("GET", "/v1/webhooks")).data;
  $("#hooks-empty").hidden = hooks.length > 0;
  $("#hook-list").replaceChildren(...hooks.map((hook) => el("li", { class: "hook", "data-id": hook.id },
    el("div", { class: "hook-head" },
      el("code", { class: "hook-url", text: hook.url }),
      el("span", { class: `badge ${hook.enabled ? "ready" : "failed"}`, text: hook.enabled ? "on" : "paused" })),
    el("p", { class: "hint", text: `Events: ${hook.events.length ? hook.events.join(", ") : "all"}` +
      (hook.failures_in_a_row ? ` · ${plural(hook.failures_in_a_row, "failure")} in a row` : "") }),
    el("div", { class: "row-actions" },
      el("button", { type: "button", text: hook.enabled ? "Pause" : "Resume",
        "aria-label": `${hook.enabled ? "Pause" : "Resume"} ${hook.url}`,
        onclick: () => act(() => api("PATCH", `/v1/webhooks/${hook.id}`, { enabled: !hook.enabled })) }),
      el("button", { type: "button", text: "New secret", "aria-label": `New secret for ${hook.url}`,
        onclick: () => act(async () => showSecret(await api("POST", `/v1/webhooks/${hook.id}/rotate-secret`))) }),
      el("button", { type: "button", text: "Delivery log", "aria-expanded": "false",
        "aria-label": `Delivery log of ${hook.url}`, onclick: (event) => toggleLog(hook, event.currentTarget) }),
      el("button", { type: "button", class: "danger", text: "Remove", "aria-label": `Remove ${hook.url}`,
        onclick: () => confirm(`Stop sending events to ${hook.url}?`) &&
          act(() => api("DELETE", `/v1/webhooks/${hook.id}`)) })),
    el("div", { class: "hook-log", hidden: true }))));
}

async function act(action) {
  try {
    await action();
    await renderHooks();
  } catch (error) {
    showError($("#settings-error"), error);
  }
}

function showSecret(hook) {
  $("#new-secret-value").value = hook.secret;
  $("#new-secret-for").textContent = hook.url;
  $("#new-secret").hidden = false;
}

async function addHook(event) {
  event.preventDefault();
  const events = [...document.querySelectorAll("#hook-events input:checked")].map((box) => box.value);
  try {
    const hook = await api("POST", "/v1/webhooks", { url: $("#hook-url").value.trim(), events });
    $("#hook-form").reset();
    showSecret(hook);
    await renderHooks();
  } catch (error) {
    showError($("#settings-error"), error);
  }
}

async function toggleLog(hook, button) {
  const log = button.closest(".hook").querySelector(".hook-log");
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  log.hidden = !open;
  if (open) await renderLog(hook, log);
}

async function renderLog(hook, log) {
  clearTimeout(log.refresh);
  if (log.hidden || !log.isConnected) return;
  const deliveries = (await api("GET", `/v1/webhooks/${hook.id}/deliveries?limit=50`)).data;
  if (!deliveries.length) {
    log.replaceChildren(el("p", { class: "hint", text: "No deliveries yet." }));
    return;
  }
  log.replaceChildren(el("table", { class: "log" },
    el("thead", {}, el("tr", {}, ["Event", "Status", "Attempts", "Answer", "Sent", ""].map((h) => el("th", { text: h })))),
    el("tbody", {}, deliveries.flatMap((delivery) => [
      el("tr", { "data-id": delivery.id, "data-status": delivery.status },
        el("td", { text: delivery.event_type }),
        el("td", { text: delivery.status }),
        el("td", {}, delivery.attempt_log.length
          ? el("button", { type: "button", class: "quiet", text: String(delivery.attempts), "aria-expanded": "false",
              "aria-label": `Every attempt of ${delivery.event_type}`,
              onclick: (event) => toggleAttempts(event.currentTarget) })
          : String(delivery.attempts)),
        el("td", { text: delivery.last_status_code ? `HTTP ${delivery.last_status_code}` : (delivery.last_error || "–") }),
        el("td", { text: formatDateTime(delivery.delivered_at || delivery.created_at) }),
        el("td", {}, el("button", { type: "button", text: "Send again", "aria-label": `Send ${delivery.event_type} again`,
          onclick: async () => {
            try {
              await api("POST", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/resend`);
              await renderLog(hook, log);
            } catch (error) {
              showError($("#settings-error"), error);
            }
          } }))),
      el("tr", { class: "attempts", hidden: true }, el("td", { colspan: "6" }, attemptList(delivery.attempt_log))),
    ]))),
    el("button", { type: "button", class: "quiet", text: "Refresh", onclick: () => renderLog(hook, log) }));
  // A delivery on its way is shown as it goes, not left at "pending" until Refresh.
  if (deliveries.some((delivery) => delivery.status === "pending")) {
    log.refresh = setTimeout(() => renderLog(hook, log).catch(() => {}), 2000);
  }
}

function attemptList(attempts) {
  return el("ol", { class: "attempt-log" }, attempts.map((attempt) => el("li", {},
    el("span", { text: `${formatDateTime(attempt.at)} · ` }),
    el("strong", { text: attempt.status_code ? `HTTP ${attempt.status_code}` : (attempt.error || "no answer") }),
    el("span", { text: ` · ${attempt.duration_ms} ms` }),
    attempt.body_excerpt ? el("pre", { class: "excerpt", text: attempt.body_excerpt }) : "")));
}

function toggleAttempts(button) {
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  button.closest("tr").nextElementSibling.hidden = !open;
}
