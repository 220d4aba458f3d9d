"""A streaming multipart/form-data reader for direct uploads, on python-multipart's parser.

Starlette's `request.form()` spools the whole file first; this one hands the file part's
bytes to a sink as they arrive and keeps only the small text fields in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from medialib.errors import MalformedBody, ValidationFailed

MAX_FIELD_BYTES = 16 * 1024
MAX_PARTS = 32


@dataclass
class FilePart:
    field_name: str
    filename: str
    content_type: str


@dataclass
class FormReader:
    """Feed body bytes to `write`; the file part goes to the sink `open_file` returns."""

    boundary: bytes
    file_field: str
    open_file: Callable[[FilePart], Callable[[bytes], None]]
    fields: dict[str, list[str]] = field(default_factory=dict)
    file: FilePart | None = None
    _parser: MultipartParser | None = None
    # Raw header values: filenames come as UTF-8 (RFC 7578), which a str parse would lose.
    _headers: dict[str, bytes] = field(default_factory=dict)
    _header_name: bytes = b""
    _header_value: bytes = b""
    _part_name: str = ""
    _part_text: bytearray = field(default_factory=bytearray)
    _file_sink: Callable[[bytes], None] | None = None
    _parts: int = 0

    def __post_init__(self) -> None:
        self._parser = MultipartParser(
            self.boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    @classmethod
    def from_content_type(
        cls,
        content_type: str,
        *,
        file_field: str,
        open_file: Callable[[FilePart], Callable[[bytes], None]],
    ) -> FormReader:
        mime, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if mime != b"multipart/form-data" or not boundary:
            raise ValidationFailed("Send the file as multipart/form-data.", field="content-type")
        return cls(boundary=boundary, file_field=file_field, open_file=open_file)

    def write(self, data: bytes) -> None:
        assert self._parser is not None
        try:
            self._parser.write(data)
        except MultipartParseError as exc:
            raise MalformedBody(f"The form is malformed: {exc}.") from exc

    def finish(self) -> None:
        assert self._parser is not None
        try:
            self._parser.finalize()
        except MultipartParseError as exc:
            raise MalformedBody(f"The form is malformed: {exc}.") from exc
        if self.file is None:
            raise ValidationFailed(f"The form has no `{self.file_field}` file.", field="file")

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise ValidationFailed("The form has too many parts.")
        self._headers = {}
        self._part_name = ""
        self._part_text = bytearray()
        self._file_sink = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").lower()
        self._headers[name] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._part_name = options.get(b"name", b"").decode("utf-8", errors="replace")
        filename = options.get(b"filename")
        if self._part_name != self.file_field or filename is None:
            return
        if self.file is not None:
            raise ValidationFailed("Send one file per request.", field="file")
        self.file = FilePart(
            field_name=self._part_name,
            filename=filename.decode("utf-8", errors="replace"),
            content_type=self._headers.get("content-type", b"application/octet-stream").decode(
                "latin-1"
            ),
        )
        self._file_sink = self.open_file(self.file)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file_sink is not None:
            self._file_sink(data[start:end])
            return
        self._part_text += data[start:end]
        if len(self._part_text) > MAX_FIELD_BYTES:
            raise ValidationFailed(f"The form field `{self._part_name}` is too long.")

    def _on_part_end(self) -> None:
        if self._file_sink is None and self._part_name:
            text = self._part_text.decode("utf-8", errors="replace")
            self.fields.setdefault(self._part_name, []).append(text)
