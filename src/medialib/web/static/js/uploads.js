// Uploads without DOM: a queue that runs a few at a time, a single signed PUT for small
// files, and a tus client for large ones. Files over RESUMABLE_ABOVE go in pieces of
// CHUNK_BYTES: a lost connection costs at most one piece, and a file dropped again after
// a reload goes on where it stopped. (Both can be lowered through localStorage, which the
// tests do.) A job reports to its listener: progress(sent), state(text), done(media),
// fail(error, {retry}).

import { ApiError, api, authHeaders, networkError } from "./api.js";

const PARALLEL_UPLOADS = 4;
const RESUMABLE_ABOVE = Number(localStorage.getItem("medialib.resumableAbove")) || 20_000_000;
const CHUNK_BYTES = Number(localStorage.getItem("medialib.chunkBytes")) || 8 * 1024 * 1024;
const RESUMES_STORAGE = "medialib.resumableUploads";
// tus answers after which asking where the upload got to and going on can help.
const RESUME_AFTER = new Set([0, 409, 423, 500, 502, 503, 504]);
const RETRIES = 3;

export class UploadQueue {
  constructor(parallel = PARALLEL_UPLOADS) {
    this.parallel = parallel;
    this.waiting = [];
    this.active = 0;
  }

  add(file, listener) {
    const job = { file, listener, mediaId: null };
    this.waiting.push(job);
    this.pump();
    return job;
  }

  retry(job) {
    this.waiting.push(job);
    this.pump();
  }

  pump() {
    while (this.active < this.parallel && this.waiting.length) {
      const job = this.waiting.shift();
      this.active += 1;
      run(job).finally(() => { this.active -= 1; this.pump(); });
    }
  }
}

async function run(job) {
  const { file, listener } = job;
  try {
    listener.state("starting");
    const media = file.size > RESUMABLE_ABOVE ? await resumable(job) : await single(job);
    listener.progress(file.size);
    listener.done(media);
  } catch (error) {
    listener.fail(error);
  }
}

async function single(job) {
  const { file, listener } = job;
  const upload = await api("POST", "/v1/media/upload", {
    filename: file.name, size: file.size, content_type: file.type || undefined,
  });
  job.mediaId = upload.id;
  await send(upload.method, upload.upload_url, upload.headers, file, (sent) => listener.progress(sent));
  listener.state("checking");
  return api("POST", `/v1/media/${upload.id}/confirm`);
}

// XHR, not fetch: it reports upload progress.
function send(method, url, headers, body, onProgress) {
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
    request.onerror = () => reject(networkError());
    request.send(body);
  });
}

// --- tus -----------------------------------------------------------------------------

const fingerprintOf = (file) => `${file.name}|${file.size}|${file.lastModified}`;

async function resumable(job) {
  const { file, listener } = job;
  const fingerprint = fingerprintOf(file);
  let upload = savedUploads()[fingerprint];
  let offset = upload ? await uploadOffset(upload) : null;
  if (offset === null) {
    upload = await api("POST", "/v1/media/upload", {
      filename: file.name, size: file.size, content_type: file.type || undefined, mode: "resumable",
    });
    remember(fingerprint, { ...upload, name: file.name });
    offset = 0;
  } else {
    listener.state(`resuming at ${Math.floor((offset / file.size) * 100)}%`);
  }
  job.mediaId = upload.id;
  let status = null;
  let failures = 0;
  while (status === null) {
    try {
      const end = Math.min(offset + CHUNK_BYTES, file.size);
      ({ offset, status } = await sendPiece(upload, file, offset, end, listener));
      failures = 0;
    } catch (error) {
      if (error instanceof ApiError && !RESUME_AFTER.has(error.status)) {
        remember(fingerprint, null);
        throw error;
      }
      failures += 1;
      if (failures > RETRIES) {
        const lost = networkError();
        lost.message = "The connection was lost; Retry goes on where it stopped.";
        throw lost;
      }
      listener.state(`connection lost; trying again (${failures} of ${RETRIES})`);
      await new Promise((resolve) => setTimeout(resolve, 400 * 2 ** failures));
      offset = await uploadOffset(upload).catch(() => offset);
      if (offset === null) {
        remember(fingerprint, null);
        throw new ApiError(410, { error: { code: "upload_expired", message: "The upload expired on the server; drop the file again to start over." } });
      }
    }
  }
  remember(fingerprint, null);
  return { id: upload.id, status };
}

async function sendPiece(upload, file, offset, end, listener) {
  const headers = { ...upload.headers, ...authHeaders(), "Upload-Offset": String(offset) };
  const request = await send("PATCH", tusPath(upload), headers, file.slice(offset, end),
    (sent) => listener.progress(offset + sent));
  return {
    offset: Number(request.getResponseHeader("Upload-Offset")),
    status: request.getResponseHeader("Medialib-Media-Status"),
  };
}

async function uploadOffset(upload) {
  // Where the server got to; null when the upload is gone (expired or ended).
  let response;
  try {
    response = await fetch(tusPath(upload), {
      method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...authHeaders() },
    });
  } catch {
    throw networkError();
  }
  if (response.status === 404 || response.status === 410) return null;
  if (!response.ok) throw new ApiError(response.status, null);
  return Number(response.headers.get("Upload-Offset"));
}

// Same origin as the page, whatever host name the server put in the URL.
const tusPath = (upload) => new URL(upload.upload_url).pathname;

function savedUploads() {
  try { return JSON.parse(localStorage.getItem(RESUMES_STORAGE) || "{}"); } catch { return {}; }
}

function remember(fingerprint, upload) {
  const saved = savedUploads();
  if (upload) {
    saved[fingerprint] = { id: upload.id, upload_url: upload.upload_url, headers: upload.headers, name: upload.name };
  } else {
    delete saved[fingerprint];
  }
  localStorage.setItem(RESUMES_STORAGE, JSON.stringify(saved));
}

// Uploads a reload interrupted: dropping the same file again resumes each.
export const interruptedUploads = () => Object.values(savedUploads());

export async function forgetInterrupted() {
  for (const upload of interruptedUploads()) {
    await fetch(tusPath(upload), { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", ...authHeaders() } })
      .catch(() => null);
  }
  localStorage.setItem(RESUMES_STORAGE, "{}");
}
