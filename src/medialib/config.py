"""One validated `Settings` object, read from `MEDIALIB_*` environment variables.

Every field has an embedded default, so `medialib serve` runs with nothing set.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1_000_000
GB = 1_000_000_000

# Per-kind byte caps (design §5); a workspace may override them later.
DEFAULT_KIND_CAPS: dict[str, int] = {
    "image": 30 * MB,
    "gif": 50 * MB,
    "video": 5 * GB,
    "document": 100 * MB,
    "audio": 200 * MB,
}
DIRECT_UPLOAD_MAX_BYTES = 100 * MB
DEFAULT_QUEUE_THREADS = {
    "image": 2,
    "video": 1,
    "document": 1,
    "webhook": 2,
    "generate": 1,
    "publish": 2,
}
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: object) -> object:
    """A duration in seconds, or with a unit: "90s", "15m", "1h", "2d"."""
    if isinstance(value, str) and value.strip()[-1:].lower() in _DURATION_UNITS:
        number, unit = value.strip()[:-1], value.strip()[-1].lower()
        try:
            return float(number) * _DURATION_UNITS[unit]
        except ValueError:
            return value  # pydantic says what is wrong with it
    return value


Duration = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]


def _is_origin(value: str) -> bool:
    """scheme://host[:port], nothing more: what a browser sends in `Origin`."""
    scheme, _, rest = value.partition("://")
    return scheme in ("http", "https") and bool(rest) and "/" not in rest and "*" not in rest


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIALIB_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    # "json": one JSON object a line (with the request id), for a log collector.
    log_format: Literal["text", "json"] = "text"
    # "host:port" of a listener of its own for Prometheus (`/metrics`), in every process
    # that sets it, workers included; the public listener then has no /metrics. Unset: the
    # API server answers /metrics on its public listener, and workers have none.
    metrics_address: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")
    data_dir: Path = Path("./medialib-data")
    database_url: str | None = None
    storage_url: str | None = None
    broker_url: str | None = None
    clamd_url: str | None = None
    # The networks' limits: unset, the data file medialib ships (platforms/platforms.yaml);
    # a path, another file of the same shape (a new file makes new variants).
    platforms_file: Path | None = None
    # Unset: `medialib serve` uses the address it listens on.
    public_url: str | None = None
    allow_loopback_targets: bool = False
    # URL import: plain http is refused unless the operator allows it; imports run in the
    # request, so they are capped like direct uploads.
    import_allow_http: bool = False
    import_max_bytes: int = Field(default=DIRECT_UPLOAD_MAX_BYTES, gt=0)
    import_read_timeout_seconds: float = Field(default=20.0, gt=0)
    # One import (redirects, headers and body) ends by this deadline, however the origin
    # sends; imports run in a pool of their own: this many at once, this many waiting.
    import_deadline_seconds: float = Field(default=120.0, gt=0)
    import_concurrency: int = Field(default=4, ge=1, le=64)
    import_queue: int = Field(default=16, ge=0, le=1000)

    # Slow clients (see server.py): all request headers within this many seconds, and a
    # body at least a kilobyte per window while the app waits for it.
    http_header_seconds: float = Field(default=10.0, gt=0)
    http_body_window_seconds: float = Field(default=15.0, gt=0)
    # Requests a minute per API key (a fifth per address for requests without a key, a
    # fiftieth for keys that are refused); 0 turns rate limits off (see guards/rate.py).
    rate_limit_per_minute: int = Field(default=3000, ge=0)
    # A list's `total` is exact up to here; past it, it says this many and
    # `total_exact: false` (counting a million rows for every page is what makes lists slow).
    list_total_exact_max: int = Field(default=1_000, ge=1)
    # API requests in one process at a time (running or waiting for a thread or a
    # connection); one more is answered 503 with Retry-After at once (see guards/load.py).
    max_concurrent_requests: int = Field(default=256, ge=1)
    # Threads for synchronous route work (FastAPI's pool; anyio's default is 40). On a
    # small machine more runnable threads only lengthen every wait for the GIL, the
    # event loop's (and so /healthz's) included: at 128 clients on two cores, 24 threads
    # gave the slowest /healthz 0.9 s and 8 gave 0.1 s, at the same throughput
    # (docs/benchmarks.md). Raise it when the database or the bucket is far away.
    request_threads: int = Field(default=8, ge=4, le=256)
    # Browser origins allowed to call the API, upload URLs and tus from other origins
    # (CORS), e.g. ["https://app.example.com"]; none by default.
    cors_origins: list[str] = Field(default_factory=list)
    # Addresses of the reverse proxies in front (e.g. ["10.0.0.5"], or ["*"] when every
    # peer is one): only from them is `X-Forwarded-For` taken as the client's address (rate
    # limits, logs). None by default: the peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Every request body that is not a file (JSON) is cut at this size (413).
    body_max_bytes: int = Field(default=1_000_000, ge=1024)
    # Per-kind byte caps; JSON in MEDIALIB_KIND_CAPS overrides some or all of them.
    kind_caps: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_KIND_CAPS))
    upload_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # A resumable upload that receives nothing for this long expires (410) and is removed.
    resumable_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    image_max_pixels: int = Field(default=100_000_000, ge=1)
    # 0 turns the embedded job threads of `serve` off; their number per queue is
    # `queue_threads`, in both modes.
    worker_threads: int = Field(default=2, ge=0, le=64)
    # A running job whose lease is not renewed (its process died) is taken again after this.
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1)
    job_retry_base_seconds: float = Field(default=2.0, ge=0)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    job_time_limit_seconds: float = Field(default=900.0, gt=0)
    # Threads per queue (embedded and broker mode); broker mode: the Redis key namespace
    # and the overdue-job sweep.
    broker_namespace: str = "medialib"
    queue_threads: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_QUEUE_THREADS))
    job_sweep_seconds: float = Field(default=15.0, gt=0)

    # AI generation (none configured by default). Images: an OpenAI-compatible images API
    # (its base URL, e.g. https://api.openai.com/v1); video: an asynchronous prediction API
    # (POST {url}/predictions, then GET it until it ends); prompt enhancement: an
    # OpenAI-compatible chat-completions API (the images API's URL and key unless set).
    generate_images_url: str | None = None
    generate_images_key: str | None = None
    generate_images_model: str = "gpt-image-1"
    # The sizes the images model takes; an aspect ratio is sent as the nearest of them.
    generate_images_sizes: list[str] = Field(
        default_factory=lambda: ["1024x1024", "1536x1024", "1024x1536"]
    )
    generate_video_url: str | None = None
    generate_video_key: str | None = None
    generate_video_models: list[str] = Field(default_factory=list)
    generate_chat_url: str | None = None
    generate_chat_key: str | None = None
    generate_chat_model: str = "gpt-4o-mini"
    generate_per_day: int = Field(default=50, ge=0)  # per workspace, images and videos
    # How long one provider call may take, and a whole video generation with its polling.
    generate_request_seconds: float = Field(default=120.0, gt=0)
    generate_video_deadline_seconds: float = Field(default=600.0, gt=0)
    generate_poll_seconds: float = Field(default=2.0, gt=0)
    job_sweep_grace_seconds: float = Field(default=60.0, ge=0)
    probe_timeout_seconds: float = Field(default=120.0, gt=0)
    # ClamAV: uploads up to this size are scanned during confirm (images are `ready` at
    # confirm, so they must be); bigger ones at the start of their processing job.
    scan_inline_max_bytes: int = Field(default=100_000_000, ge=0)
    scan_timeout_seconds: float = Field(default=120.0, gt=0)
    # Webhooks: attempts per delivery (back-off doubling from job_retry_base_seconds, so
    # 15 spans about 18 hours), and deliveries given up in a row before an endpoint is off.
    webhook_max_attempts: int = Field(default=15, ge=1, le=30)
    webhook_disable_after: int = Field(default=5, ge=1)
    # Publishing. The key that seals network credentials at rest (any long random text;
    # development makes one in the data dir; production refuses to store credentials
    # without it). A post that fell due while the service was down goes out when it
    # starts, unless it is later than `publish_max_lateness` (then it fails `missed`).
    secret_key: str | None = None
    publish_max_lateness: Duration = 3600.0
    # A hand-off target whose publisher sends no result in this time fails `no_result`.
    handoff_timeout: Duration = 3600.0
    # Attempts for a target the network answers with a transient failure (a time-out, a
    # 5xx, a rate limit), backing off (or as long as its Retry-After says) in between.
    publish_max_attempts: int = Field(default=6, ge=1, le=20)
    # One call to a network (a blob upload of a large video included) ends by then.
    publish_request_seconds: Duration = 300.0
    # Fault injection for crash tests only: a handler sleeps this long before its work.
    fault_job_delay_seconds: float = Field(default=0.0, ge=0)
    # Crash tests only: the process exits (as if killed) right after a network accepted a
    # post, before the result is recorded.
    fault_publish_crash: bool = False
    # Tests only: the process's clock runs this far ahead (see clock.py).
    clock_offset_seconds: float = 0.0

    @field_validator("cors_origins")
    @classmethod
    def _origins_only(cls, origins: list[str]) -> list[str]:
        if "*" in origins or any(not _is_origin(origin) for origin in origins):
            raise ValueError(
                'list each origin, e.g. ["https://app.example.com"]; "*" would let every '
                "site on the web call the API and the upload URLs with a visitor's browser"
            )
        return origins

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.allow_loopback_targets:
            raise ValueError("MEDIALIB_ALLOW_LOOPBACK_TARGETS is for development and tests only")
        if self.environment == "production" and self.import_allow_http:
            raise ValueError("MEDIALIB_IMPORT_ALLOW_HTTP is for development and tests only")
        if self.environment == "production" and self.fault_job_delay_seconds:
            raise ValueError("MEDIALIB_FAULT_JOB_DELAY_SECONDS is for tests only")
        if self.environment == "production" and self.clock_offset_seconds:
            raise ValueError("MEDIALIB_CLOCK_OFFSET_SECONDS is for tests only")
        if self.environment == "production" and self.fault_publish_crash:
            raise ValueError("MEDIALIB_FAULT_PUBLISH_CRASH is for tests only")
        return self

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'medialib.db'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{self.resolved_data_dir / 'objects'}"

    @property
    def public_base_url(self) -> str:
        return (self.public_url or "http://127.0.0.1:8000").rstrip("/")

    @property
    def all_queue_threads(self) -> dict[str, int]:
        """Threads per queue, the defaults filling any queue the setting leaves out."""
        return {**DEFAULT_QUEUE_THREADS, **self.queue_threads}

    def kind_cap(self, kind: str) -> int:
        return self.kind_caps.get(kind, DEFAULT_KIND_CAPS[kind])
