"""The house's layers are a test, not a picture: `lint-imports` (run by the test command)
checks the contracts in pyproject.toml; this checks that no module escapes them by not
being named in any layer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import medialib

ROOT = Path(medialib.__file__).parent
PYPROJECT = ROOT.parents[1] / "pyproject.toml"


def _modules() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__" and not path.read_text().strip():
            continue  # an empty package marker imports nothing
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def _layered() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    return [name.strip() for layer in layers for name in layer.replace("|", ":").split(":")]


def test_every_module_is_in_a_layer() -> None:
    layered = _layered()
    missing = sorted(
        module
        for module in _modules()
        if module.count(".") > 0
        and not any(module == name or module.startswith(name + ".") for name in layered)
    )
    assert missing == [], f"name these in a layer of pyproject.toml: {missing}"


def test_no_module_is_in_two_layers() -> None:
    layered = _layered()
    assert len(layered) == len(set(layered))
