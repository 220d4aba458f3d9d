"""The medialib Python client: `Client(base_url, api_key).upload(path)`."""

from medialib.client.client import Client, ConnectionFailed, MedialibAPIError, ProgressCallback

__all__ = ["Client", "ConnectionFailed", "MedialibAPIError", "ProgressCallback"]
