"""The house's layers are a test, not a picture: `lint-imports` (run by the test command)
checks the contracts in pyproject.toml. Here: no package escapes them by not being named,
and every contract is proved by what it refuses: each forbidden import is added to a
throwaway copy of the source and `lint-imports` must fail on that copy, naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import medialib

ROOT = Path(medialib.__file__).parent
PROJECT = ROOT.parents[1]
PYPROJECT = PROJECT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> list[dict[str, object]]:
    contracts: list[dict[str, object]] = tomllib.loads(PYPROJECT.read_text())["tool"][
        "importlinter"
    ]["contracts"]
    return contracts


def _names(layers: list[str]) -> list[str]:
    return [name.strip() for layer in layers for name in layer.replace("|", ":").split(":")]


def _top_level() -> set[str]:
    """Every package and module right under medialib/ (but the migrations)."""
    found = set()
    for path in ROOT.iterdir():
        if path.name.startswith(("_", ".")) or path.name == "migrations":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            found.add(f"medialib.{path.name}")
        elif path.suffix == ".py":
            found.add(f"medialib.{path.stem}")
    return found


def test_every_package_is_in_a_layer_once() -> None:
    packages = next(c for c in _contracts() if c.get("id") == "packages")
    layered = _names(packages["layers"])  # type: ignore[arg-type]
    assert sorted(_top_level() - set(layered)) == [], "name these in pyproject's package layers"
    assert len(layered) == len(set(layered))


def test_every_domain_package_is_a_container_of_the_domain_layers() -> None:
    """A package that holds routes or a repository is a domain: its modules are layered."""
    domain = next(c for c in _contracts() if c.get("id") == "domain-layers")
    containers = set(domain["containers"])  # type: ignore[call-overload]
    domains = {
        f"medialib.{path.parent.name}"
        for pattern in ("*/endpoints.py", "*/repository.py", "*/tasks.py")
        for path in ROOT.glob(pattern)
        if path.parent.name not in ("jobs",)
    }
    assert sorted(domains - containers) == []


# Each: (contract id, the module that gets the import, the import line, what the failure
# names). One of each door the house keeps shut.
FORBIDDEN = [
    ("jobs-confirm", "media/tasks.py", "import medialib.media.intake", "medialib.media.intake"),
    ("packages", "media/service.py", "import medialib.posts.service", "medialib.posts"),
    ("packages", "media/repository.py", "import medialib.posts.models", "medialib.posts"),
    ("packages", "workspaces/service.py", "import medialib.media.repository", "medialib.media"),
    ("packages", "webhooks/outbox.py", "import medialib.media.models", "medialib.media"),
    ("packages", "media/endpoints.py", "import medialib.generate.service", "medialib.generate"),
    ("packages", "media/models.py", "import medialib.variants.service", "medialib.variants"),
    ("packages", "jobs/queue.py", "import medialib.media.models", "medialib.media"),
    ("packages", "storage/local.py", "import medialib.uploads.models", "medialib.uploads"),
    ("pure", "processing/images.py", "import medialib.fetch", "medialib.fetch"),
    ("pure", "platforms/rules.py", "import socket", "socket"),
    ("routes", "media/endpoints.py", "from sqlalchemy import select", "sqlalchemy"),
    ("routes", "posts/endpoints.py", "import medialib.posts.repository", "repository"),
    ("protocols", "generate/tasks.py", "import medialib.storage.local", "medialib.storage.local"),
    ("protocols", "variants/files.py", "import medialib.storage.s3", "medialib.storage.s3"),
    ("one-way-out", "webhooks/tasks.py", "import httpx", "httpx"),
    ("one-way-out", "posts/service.py", "import httpcore", "httpcore"),
    ("domain-layers", "media/repository.py", "import medialib.media.service", "medialib.media"),
]


def _lint(source: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def throwaway(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("house")
    shutil.copytree(ROOT.parent, copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PYPROJECT, copy / "pyproject.toml")
    return copy


def test_the_copy_as_it_is_keeps_every_contract(throwaway: Path) -> None:
    """The control: what fails below fails for the import that was added, nothing else."""
    result = _lint(throwaway / "src", throwaway)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(("contract", "module", "line", "named"), FORBIDDEN)
def test_each_contract_refuses_what_it_forbids(
    throwaway: Path, contract: str, module: str, line: str, named: str
) -> None:
    path = throwaway / "src" / "medialib" / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # added by test_architecture\n")
    try:
        result = _lint(throwaway / "src", throwaway)
    finally:
        path.write_text(original)
    assert result.returncode != 0, f"{line} in {module} passed every contract"
    wanted = str(next(c["name"] for c in _contracts() if c.get("id") == contract))
    broken = " ".join(result.stdout.split("Broken contracts", 1)[-1].split())
    assert wanted[:50] in broken, f"{contract} did not refuse {line}: {result.stdout[-2000:]}"
    assert named in broken
