from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, RunningServer, running_server
from tests.scanning.clamd import CLAMD, Clamd


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    if not Path(CLAMD).exists():
        if IN_CI:
            pytest.fail("ClamAV is required in CI (scripts/test installs clamav-daemon)")
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    daemon = Clamd(tmp_path_factory.mktemp("clamd"))
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scanning_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clamd: Clamd
) -> Iterator[RunningServer]:
    """A server that scans everything during confirm."""
    with running_server(request, tmp_path_factory, request.param, clamd_url=clamd.url) as server:
        yield server
