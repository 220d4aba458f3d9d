"""The networks' media limits, read from `platforms.yaml` (one data file, no code branches
per network). The file is a copy of `shared/platforms.yaml`, which cites its sources;
update both together.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

_PLAIN_FORMAT = re.compile(r"^[a-z0-9]+$")

# Where a network keeps the rules for each kind (the file names sections per network).
_SECTIONS = {
    "image": ("image", "feed_image", "photo"),
    "gif": ("gif",),
    "video": ("video", "reel"),
    "document": ("document",),
}


@cache
def load() -> dict[str, dict[str, Any]]:
    """Every network's rules, by network name (file order)."""
    text = (resources.files("medialib.platforms") / "platforms.yaml").read_text()
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return {name: rules for name, rules in data.items() if not name.startswith("_")}


def section(network: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for name in _SECTIONS.get(kind, ()):
        found = network.get(name)
        if isinstance(found, dict):
            return found
    return None


def allowed_formats(rules: dict[str, Any], key: str) -> set[str] | None:
    """A list of plain format names is an allow-list; prose ("any file") allows anything."""
    listed = rules.get(key)
    if not isinstance(listed, list) or not listed:
        return None
    names = {str(item).lower() for item in listed}
    return names if all(_PLAIN_FORMAT.match(name) for name in names) else None
