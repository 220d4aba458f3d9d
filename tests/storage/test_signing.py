from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from medialib.errors import Forbidden
from medialib.storage.base import UploadGrant
from medialib.storage.signing import SigningKeys, sign, verify

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
GRANT = UploadGrant(
    key="ws_1/med_1/t/original",
    workspace_id="ws_1",
    content_type="image/jpeg",
    max_bytes=1000,
    expires_at=NOW + dt.timedelta(hours=1),
)


def test_signature_round_trips(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    assert verify(keys, "PUT", sign(keys, "PUT", GRANT), now=NOW) == GRANT


@pytest.mark.parametrize("field", ["key", "ws", "exp", "max", "ct"])
def test_any_altered_field_breaks_the_signature(tmp_path: Path, field: str) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    params = sign(keys, "PUT", GRANT)
    params[field] = params[field] + "1"
    with pytest.raises(Forbidden):
        verify(keys, "PUT", params, now=NOW)


def test_the_method_is_signed(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    with pytest.raises(Forbidden):
        verify(keys, "POST", sign(keys, "PUT", GRANT), now=NOW)


def test_expired_grant_is_refused(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    with pytest.raises(Forbidden) as raised:
        verify(keys, "PUT", sign(keys, "PUT", GRANT), now=NOW + dt.timedelta(hours=2))
    assert raised.value.details["reason"] == "expired"


def test_fields_cannot_be_shifted_between_each_other(tmp_path: Path) -> None:
    """An unambiguous encoding: moving a separator between fields changes the signature."""
    keys = SigningKeys.load_or_create(tmp_path)
    params = sign(keys, "PUT", GRANT)
    shifted = {**params, "key": params["key"] + "|ws_1", "ws": ""}
    with pytest.raises(Forbidden):
        verify(keys, "PUT", shifted, now=NOW)


def test_rotation_keeps_old_key_valid_and_signs_with_the_new(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    old_params = sign(keys, "PUT", GRANT)
    stored = json.loads((tmp_path / "signing-keys.json").read_text())
    stored["keys"]["k-new"] = "ab" * 32
    stored["current"] = "k-new"
    (tmp_path / "signing-keys.json").write_text(json.dumps(stored))
    rotated = SigningKeys.load_or_create(tmp_path)
    assert verify(rotated, "PUT", old_params, now=NOW) == GRANT
    assert sign(rotated, "PUT", GRANT)["kid"] == "k-new"


def test_key_file_is_private_and_stable(tmp_path: Path) -> None:
    first = SigningKeys.load_or_create(tmp_path)
    assert SigningKeys.load_or_create(tmp_path) == first
    assert (tmp_path / "signing-keys.json").stat().st_mode & 0o077 == 0
