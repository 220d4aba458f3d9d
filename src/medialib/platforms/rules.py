"""The networks' rules as typed objects, read once at start-up from two data files:
`platforms.yaml` (every network's limits with their sources; a copy of
`shared/platforms.yaml`, or the file `MEDIALIB_PLATFORMS_FILE` names) and `reading.yaml`
(how medialib reads it: each network's post forms, and what its notes say in prose). A
bad value stops start-up with a message naming it. Code reads these objects; it never
branches on a network's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from medialib.platforms.rule_values import RulesError, SectionTyper

Kind = Literal["image", "gif", "video", "audio", "document"]
KINDS: tuple[Kind, ...] = ("image", "gif", "video", "audio", "document")
SendAs = Literal["video", "still", "gif"]


@dataclass(frozen=True, slots=True)
class MediaRules:
    """What one kind of media must be in one post form of one network (None: no rule)."""

    formats: frozenset[str] | None = None
    containers: frozenset[str] | None = None
    video_codecs: frozenset[str] | None = None
    audio_codecs: frozenset[str] | None = None
    audio_profiles: frozenset[str] | None = None
    max_audio_channels: int | None = None
    max_audio_sample_rate: int | None = None
    min_audio_bitrate: int | None = None
    min_bytes: int | None = None
    max_bytes: int | None = None
    by_url: bool = False  # max_bytes is the lower cap for a file sent by URL
    upload_max_bytes: int | None = None  # then: the cap for a file uploaded instead
    min_width: int | None = None
    min_height: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    max_width_plus_height: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    max_frames: int | None = None
    max_pixels_times_frames: int | None = None
    max_video_bitrate: int | None = None
    chroma_420: bool = False
    eight_bit: bool = False  # `pixel_format: yuv420p` names 8-bit samples too
    progressive: bool = False
    square_pixels: bool = False
    moov_first: bool = False
    no_edit_lists: bool = False
    srgb: bool = False
    max_pages: int | None = None
    alt_text_max_chars: int | None = None
    # Rules the network applies itself (it scales, it only recommends): never a refusal.
    soft: frozenset[str] = frozenset()

    def limits(self) -> dict[str, Any]:
        """The rules that are set, as plain values (for GET /v1/platforms)."""
        shown: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or value is False or value == frozenset():
                continue
            shown[item.name] = sorted(value) if isinstance(value, frozenset) else value
        return shown


@dataclass(frozen=True, slots=True)
class KindRule:
    rules: MediaRules
    send_as: SendAs | None = None  # None: sent as itself


@dataclass(frozen=True, slots=True)
class Form:
    """One way a network takes media in a post (a feed post, a carousel, a Reel ...)."""

    id: str
    label: str
    media: Mapping[str, KindRule]
    min_items: int = 1
    max_items: int | None = None
    most: Mapping[str, int] = field(default_factory=dict)  # per kind
    alone: frozenset[str] = frozenset()  # kinds that must be a post's only media
    mix: bool = False  # stills (images, animations) and videos in one post
    caption_max_chars: int | None = None
    title_required: bool = False
    # The network shows every item at the first item's aspect ratio (it crops the rest).
    ratio_of_first: bool = False

    def takes(self, kind: str) -> bool:
        return kind in self.media


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str
    forms: tuple[Form, ...]
    text_max_graphemes: int | None = None  # the whole post's text, media or none

    def forms_for(self, kind: str) -> tuple[Form, ...]:
        return tuple(form for form in self.forms if form.takes(kind))


@dataclass(frozen=True, slots=True)
class Catalog:
    networks: Mapping[str, Network]
    version: str  # changes whenever either data file does: variants are keyed by it

    def __iter__(self) -> Any:
        return iter(self.networks.values())

    def get(self, network_id: str) -> Network | None:
        return self.networks.get(network_id)


# --- loading ------------------------------------------------------------------------------

_active: Catalog | None = None


def configure(data_file: Path | None = None) -> Catalog:
    """Read the rules (the packaged data file, or `data_file`) and make them the ones in
    force; raises RulesError naming the first bad value."""
    global _active
    _active = load_catalog(data_file)
    return _active


def catalog() -> Catalog:
    """The rules in force (the packaged ones until `configure` says otherwise)."""
    return _active if _active is not None else _packaged()


@cache
def _packaged() -> Catalog:
    return load_catalog(None)


def load_catalog(data_file: Path | None) -> Catalog:
    package = resources.files("medialib.platforms")
    data_text = data_file.read_text() if data_file else (package / "platforms.yaml").read_text()
    reading_text = (package / "reading.yaml").read_text()
    name = str(data_file) if data_file else "platforms.yaml"
    try:
        data = yaml.safe_load(data_text)
        reading = yaml.safe_load(reading_text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{name}: not readable YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(reading, dict):
        raise RulesError(f"{name}: expected a mapping of networks")
    networks = {}
    for network_id, how in reading.items():
        entry = data.get(network_id)
        if not isinstance(entry, dict):
            raise RulesError(f"{name}: no entry for {network_id}, which reading.yaml reads")
        networks[network_id] = _Reader(name, network_id, entry, how).network()
    digest = hashlib.sha256((data_text + "\0" + reading_text).encode()).hexdigest()
    return Catalog(networks=networks, version=digest[:12])


class _Reader:
    """Reads one network: its forms from reading.yaml, their rules from the data file."""

    def __init__(self, file: str, network_id: str, entry: dict[str, Any], how: Any) -> None:
        self.file, self.id, self.entry = file, network_id, entry
        if not isinstance(how, dict) or not isinstance(how.get("forms"), list):
            raise RulesError(f"reading.yaml: {network_id} needs a list of forms")
        self.how = how

    def network(self) -> Network:
        caption = self._count(self.how.get("caption_max_chars"), "caption_max_chars")
        forms = tuple(self._form(raw, caption) for raw in self.how["forms"])
        return Network(
            id=self.id,
            name=str(self.how.get("name", self.id)),
            forms=forms,
            text_max_graphemes=self._count(
                self.how.get("text_max_graphemes"), "text_max_graphemes"
            ),
        )

    def _form(self, raw: dict[str, Any], caption: int | None) -> Form:
        form_id = str(raw["id"])
        media = {}
        for kind, spec in raw["media"].items():
            if kind not in KINDS:
                raise RulesError(f"reading.yaml: {self.id}.{form_id}: unknown kind {kind}")
            media[kind] = KindRule(self._rules(spec["rules"]), spec.get("send_as"))
        most = {
            kind: count
            for kind, path in (raw.get("max") or {}).items()
            if (count := self._count(path, f"{form_id}.max.{kind}")) is not None
        }
        return Form(
            id=form_id,
            label=str(raw.get("label", form_id)),
            media=media,
            min_items=self._count(raw.get("min_items"), f"{form_id}.min_items") or 1,
            max_items=self._count(raw.get("max_items"), f"{form_id}.max_items"),
            most=most,
            alone=frozenset(raw.get("alone") or ()),
            mix=self._flag(raw.get("mix")),
            caption_max_chars=caption,
            title_required=self._flag(raw.get("title_required")),
            ratio_of_first=self._flag(raw.get("ratio_of_first")),
        )

    # -- values: a path into the data file, or a literal

    def _value(self, value: Any) -> Any:
        if isinstance(value, str) and ("." in value or value in self.entry):
            found: Any = self.entry
            for part in value.split("."):
                if not isinstance(found, dict) or part not in found:
                    raise RulesError(f"{self.file}: {self.id}.{value} is missing")
                found = found[part]
            return found
        return value

    def _count(self, value: Any, where: str) -> int | None:
        value = self._value(value)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RulesError(f"{self.file}: {self.id}.{where}: expected a count, got {value!r}")
        return value

    def _flag(self, value: Any) -> bool:
        return self._value(value) is True

    # -- a kind's rules: sections merged in order, then typed

    def _rules(self, sections: list[Any]) -> MediaRules:
        merged: dict[str, Any] = {}
        paths: list[str] = []
        for section in sections:
            if isinstance(section, str):
                found = self._value(section)
                if not isinstance(found, dict):
                    raise RulesError(f"{self.file}: {self.id}.{section} is not a section")
                paths.append(section)
                values = found
            else:  # an inline mapping: literals, or paths into the data file
                values = {key: self._value(value) for key, value in section.items()}
            merged.update({key: value for key, value in values.items() if value is not None})
        where = f"{self.id}.{'+'.join(paths) or 'inline'}"
        soft = self._per_section("soft", paths)
        unknown = soft - {item.name for item in fields(MediaRules)}
        if unknown:
            raise RulesError(f"reading.yaml: {where}: unknown soft rules {sorted(unknown)}")
        typed = SectionTyper(where, self.file, merged).rules(
            soft=soft,
            audio=self._per_section("audio", paths),
            codecs=self._per_section("codecs", paths),
        )
        return MediaRules(**typed)

    def _per_section(self, key: str, paths: list[str]) -> Any:
        table = self.how.get(key) or {}
        found = [table[path] for path in paths if path in table]
        if key == "soft":
            return frozenset(name for names in found for name in names)
        merged: Any = None
        for item in found:
            merged = {**(merged or {}), **item} if isinstance(item, dict) else item
        return merged
