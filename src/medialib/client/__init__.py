"""The medialib Python client: `Client(base_url, api_key).upload(path)`."""

from medialib.client.client import Client, MedialibAPIError, ProgressCallback

__all__ = ["Client", "MedialibAPIError", "ProgressCallback"]
