"""Blender's own words that a frame read a file that is not there."""

from __future__ import annotations

from blender_image.complaints import complaints


def test_the_lines_saying_a_file_does_not_exist_or_a_library_is_missing_are_kept_once_each() -> None:
    output = [
        "Fra:3 Mem:12M | Syncing Plate",
        "00:01.310  cycles | ERROR Image file '/w/plates/plate.0003.png' does not exist.",
        "00:01.310  cycles | ERROR Image file '/w/plates/plate.0003.png' does not exist.",
        "00:01.420  gpu.texture | ERROR Failed to create GPU texture from Blender image",
        "Info: Cannot find lib '/mnt/projects/lib/character.blend'",
        "Fra:3 Mem:12M | Finished",
    ]
    assert complaints(output) == [
        "00:01.310  cycles | ERROR Image file '/w/plates/plate.0003.png' does not exist.",
        "00:01.420  gpu.texture | ERROR Failed to create GPU texture from Blender image",
        "Info: Cannot find lib '/mnt/projects/lib/character.blend'",
    ]
    assert complaints(["Fra:1 Mem:1M | Rendering 1 / 4 samples", "Saved: 'frame_0001.png'"]) == []
