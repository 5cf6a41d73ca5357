"""A .blend's own frame range (the scene it opens on), read from the file with BAT: no Blender needed."""

from __future__ import annotations

from pathlib import Path


def scene_frame_range(scene: Path) -> tuple[int, int] | None:
    """`(frame_start, frame_end)` of the scene the .blend opens on; None when the file does not say."""
    from blender_asset_tracer import blendfile  # pure Python, but only the CLI needs it

    try:
        with blendfile.BlendFile(scene) as bfile:
            globals_ = bfile.find_blocks_from_code(b"GLOB")
            current = globals_[0].get_pointer(b"curscene") if globals_ else None
            if current is None:  # no current scene recorded: the first one
                scenes = bfile.find_blocks_from_code(b"SC")
                current = scenes[0] if scenes else None
            if current is None:
                return None
            start, end = int(current.get((b"r", b"sfra"))), int(current.get((b"r", b"efra")))
    except Exception:  # a file BAT cannot read still ships: its hint falls back to 1-24
        return None
    finally:
        blendfile.close_all_cached()
    return (start, end) if 0 <= start <= end else None


def frames_text(frames: tuple[int, int] | None) -> str:
    """`1-240`, `12` for a one-frame scene, `1-24` when the range is unknown."""
    if frames is None:
        return "1-24"
    start, end = frames
    return str(start) if start == end else f"{start}-{end}"
