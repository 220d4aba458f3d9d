"""PDF page count and first-page preview through PDFium (pypdfium2), in a bounded child
process; a drawn tile for Office documents, which nothing here can render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medialib.processing.sandbox import run_child

JPEG_QUALITY = 85


def pdf_preview(
    path: Path, *, out_path: Path, max_side: int, timeout_seconds: float
) -> dict[str, Any]:
    """Write the first page to `out_path`; returns pages, width, height."""
    return run_child(
        _pdf_in_child,
        str(path),
        str(out_path),
        str(max_side),
        timeout_seconds=timeout_seconds,
        failure_message="The PDF could not be read.",
    )


def _pdf_in_child(argv: list[str]) -> dict[str, Any]:
    import pypdfium2

    path, out_path, max_side_text = argv
    document = pypdfium2.PdfDocument(path)
    pages = len(document)
    if pages == 0:
        raise SystemExit("the PDF has no pages")
    page = document[0]
    width_pt, height_pt = page.get_size()
    scale = int(max_side_text) / max(width_pt, height_pt, 1.0)
    image = page.render(scale=scale).to_pil().convert("RGB")
    image.save(out_path, "JPEG", quality=JPEG_QUALITY)
    return {"pages": pages, "width": image.width, "height": image.height}
