"""The SSRF-safe HTTP client for everything medialib fetches from outside (URL imports,
webhook deliveries): vetting (`vetting.py`), one deadline (`deadline.py`), bounded
decoding (`decoding.py`), and the fetch itself (`client.py`)."""

from medialib.fetch.client import Fetched, fetch, post_json
from medialib.fetch.vetting import FetchPolicy, address_allowed, check_url, vet_host

__all__ = [
    "FetchPolicy",
    "Fetched",
    "address_allowed",
    "check_url",
    "fetch",
    "post_json",
    "vet_host",
]
