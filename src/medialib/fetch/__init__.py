"""The one HTTP client for every call medialib makes to another server (URL imports,
webhook deliveries, AI providers, publishing connectors): vetting (`vetting.py`), one
deadline (`deadline.py`), bounded decoding (`decoding.py`), and the calls themselves
(`client.py`), behind one seam (`fetcher.py`; a fake for tests in `fake.py`). An
import-linter contract keeps `httpx` out of every other package."""

from medialib.fetch.client import (
    Answer,
    Fetched,
    Posted,
    call,
    deadline_for,
    fetch,
    path_segment,
    post_json,
    query_value,
)
from medialib.fetch.fetcher import HTTP_FETCHER, Fetcher, HttpFetcher
from medialib.fetch.vetting import FetchPolicy, address_allowed, check_url, vet_host

__all__ = [
    "HTTP_FETCHER",
    "Answer",
    "FetchPolicy",
    "Fetched",
    "Fetcher",
    "HttpFetcher",
    "Posted",
    "address_allowed",
    "call",
    "check_url",
    "deadline_for",
    "fetch",
    "path_segment",
    "post_json",
    "query_value",
    "vet_host",
]
