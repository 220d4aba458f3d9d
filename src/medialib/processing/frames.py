"""Grab one video frame as a JPEG, in a bounded child process (see sandbox.py).

The frame is taken at or just after the requested time (seek to the keyframe before,
then decode forward, as `ffmpeg -ss T -i …` does), turned upright by the stream's
display rotation, scaled down by FFmpeg's scaler, and written without metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medialib.processing.avprobe import demuxer_for, open_input
from medialib.processing.sandbox import child_main, run_child

JPEG_QUALITY = 85


def extract_frame(
    path: Path,
    mime: str,
    *,
    at_ms: int,
    out_path: Path,
    max_side: int,
    timeout_seconds: float,
) -> dict[str, Any]:
    """Write the frame at `at_ms` to `out_path`; returns width, height, frame_time_ms."""
    return run_child(
        "medialib.processing.frames",
        str(path),
        demuxer_for(mime),
        str(at_ms),
        str(out_path),
        str(max_side),
        timeout_seconds=timeout_seconds,
        failure_message="No frame could be read from the video at that time.",
    )


def _frame_in_child(argv: list[str]) -> dict[str, Any]:
    path, demuxer, at_ms_text, out_path, max_side_text = argv
    target = int(at_ms_text) / 1000
    with open_input(path, demuxer) as container:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        if target > 0 and video.time_base:
            container.seek(int(target / video.time_base), stream=video, backward=True)
        chosen = None
        for frame in container.decode(video):
            chosen = frame
            if frame.time is not None and frame.time >= target - 0.0005:
                break
        if chosen is None:
            raise SystemExit("the video has no decodable frame")
        image = _upright_thumbnail(chosen, int(max_side_text))
        image.save(out_path, "JPEG", quality=JPEG_QUALITY)
        return {
            "width": image.width,
            "height": image.height,
            "frame_time_ms": round((chosen.time or 0) * 1000),
        }


def _upright_thumbnail(frame: Any, max_side: int) -> Any:
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    width, height = frame.width, frame.height
    scale = min(1.0, max_side / max(width, height))
    scaled = frame.reformat(
        width=max(2, round(width * scale)), height=max(2, round(height * scale)), format="rgb24"
    )
    image = scaled.to_image()
    # The display matrix angle is counter-clockwise, as is PIL's rotate().
    return image.rotate(rotation, expand=True) if rotation else image


if __name__ == "__main__":
    child_main(_frame_in_child)
