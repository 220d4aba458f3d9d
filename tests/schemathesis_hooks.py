"""Loaded by Schemathesis in the fuzz test (SCHEMATHESIS_HOOKS): tus bodies are plain
bytes under their own media type, sent like any binary body."""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
