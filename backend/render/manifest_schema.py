"""A manifest is read from a bucket anyone who may upload can write to: every field is checked before it is used
(types, sizes, hashes as 64 lowercase hex digits, every path through `backend.names`), and a manifest that does not
fit is refused with a sentence."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from backend.errors import ValidationError
from backend.names import UnsafeName, check
from backend.render.image_sets import ImageSet, ImageUser
from backend.render.manifest import MANIFEST_VERSION, FileEntry, FileUse, Manifest

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_FILES = 200_000
# Any one string a person wrote: a path as a .blend writes it, a data-block's name, an origin.
MAX_TEXT = 4096
# Image users a submission walks for every frame of the job (a real shot has dozens): bounds the work of a
# hand-written manifest on the bot.
MAX_IMAGE_USERS = 1_000
MAX_FILE_BYTES = 1 << 50  # 1 PiB: far above any real file, below what would overflow a sum
ADVICE = "ship the shot again with `studiobot upload path/to/shot.blend`."


class BadManifest(ValidationError, ValueError):
    """A manifest that does not fit its schema: nothing of it is used."""


def parse(text: str | bytes) -> Manifest:
    """The manifest in `text`, every field checked; BadManifest saying what is wrong and what to do."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadManifest(f"The shot's manifest is not JSON: {ADVICE}") from error
    try:
        return _manifest(data)
    except UnsafeName as error:
        raise BadManifest(f"The shot's manifest is refused: {error}") from error


def _manifest(data: object) -> Manifest:
    record = _object(data, "the manifest")
    if record.get("version") != MANIFEST_VERSION:
        _bad(f"its version is {str(record.get('version'))[:20]}, not {MANIFEST_VERSION}")
    files = _object(record.get("files", {}), "`files`")
    if len(files) > MAX_FILES:
        _bad(f"it lists {len(files):,} files, more than {MAX_FILES:,}")
    remaps = _object(record.get("remaps", {}), "`remaps`")
    return Manifest(
        scene=_path(record.get("scene"), "scene"),
        blender=_text(record.get("blender", ""), "`blender`", 32),
        files={_path(path, "file"): _entry(path, entry) for path, entry in files.items()},
        missing=_uses(record.get("missing", []), "`missing`"),
        remaps={
            _text(written, "a remapped path"): _path(path, "remapped file")
            for written, path in remaps.items()
        },
        origin=_text(record.get("origin", ""), "`origin`"),
        scene_etag=_text(record.get("scene_etag", ""), "`scene_etag`", 128),
        uses=_uses(record.get("uses", []), "`uses`"),
        library_remaps=_library_remaps(record.get("library_remaps", {})),
        images=_image_sets(record.get("images", [])),
    )


def _library_remaps(value: object) -> dict[str, dict[str, str]]:
    libraries = _object(value, "`library_remaps`")
    if len(libraries) > MAX_FILES:
        _bad(f"it remaps {len(libraries):,} libraries, more than {MAX_FILES:,}")
    return {
        _path(library, "remapped library"): {
            _text(written, "a remapped path"): _path(path, "remapped file")
            for written, path in _object(paths, "a library's remaps").items()
        }
        for library, paths in libraries.items()
    }


def _entry(path: str, entry: object) -> FileEntry:
    item = _object(entry, f"the entry of `{path[:80]}`")
    sha256, size = item.get("sha256"), item.get("size")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        _bad(f"the hash of `{path[:80]}` is not 64 lowercase hex digits")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES:
        _bad(f"the size of `{path[:80]}` is not a whole number of bytes")
    return FileEntry(sha256, size)


def _uses(value: object, what: str) -> tuple[FileUse, ...]:
    if not isinstance(value, list) or len(value) > MAX_FILES:
        _bad(f"{what} is not a list")
    uses = []
    for item in value:
        use = _object(item, f"an entry of {what}")
        uses.append(
            FileUse(
                written_as=_text(use.get("written_as"), "`written_as`"),
                used_by=_text(use.get("used_by"), "`used_by`"),
                referrer=_text(use.get("referrer"), "`referrer`"),
                gap=_text(use.get("gap", ""), "`gap`"),
            )
        )
    return tuple(uses)


def _image_sets(value: object) -> tuple[ImageSet, ...]:
    if not isinstance(value, list) or len(value) > MAX_FILES:
        _bad("`images` is not a list")
    sets, tiles_seen, users_seen = [], 0, 0
    for item in value:
        record = _object(item, "an entry of `images`")
        tiles, users = record.get("tiles", []), record.get("users", [])
        if not isinstance(tiles, list) or not all(_whole(tile) for tile in tiles):
            _bad("the tiles of an image are not a list of whole numbers")
        if not isinstance(users, list):
            _bad("the users of an image are not a list")
        tiles_seen, users_seen = tiles_seen + len(tiles), users_seen + len(users)
        if tiles_seen > MAX_FILES or users_seen > MAX_IMAGE_USERS:
            _bad(f"its images list more than {MAX_FILES:,} tiles or {MAX_IMAGE_USERS:,} image users")
        sets.append(
            ImageSet(
                written_as=_text(record.get("written_as"), "`written_as`"),
                used_by=_text(record.get("used_by"), "`used_by`"),
                referrer=_text(record.get("referrer"), "`referrer`"),
                path=_text(record.get("path"), "an image's `path`"),
                tiles=tuple(tiles),
                users=tuple(_user(user) for user in users),
            )
        )
    return tuple(sets)


def _user(value: object) -> ImageUser:
    record = _object(value, "an image user")
    fields = {
        name: record.get(name, default) for name, default in (("start", 1), ("duration", 0), ("offset", 0))
    }
    if not all(_whole(number) for number in fields.values()) or not isinstance(
        record.get("cyclic", False), bool
    ):
        _bad("an image user's start, duration, offset or cyclic is not a number")
    return ImageUser(cyclic=bool(record.get("cyclic", False)), **fields)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 1 << 31


def _path(value: object, what: str) -> str:
    return check(value, f"The manifest's {what} path", "textures/wood.png")


def _text(value: object, what: str, longest: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > longest:
        _bad(f"{what} is not text of at most {longest:,} characters")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _bad(f"{what} is not an object")
    return value


def _bad(reason: str) -> NoReturn:
    raise BadManifest(f"The shot's manifest is not valid ({reason}): {ADVICE}")
