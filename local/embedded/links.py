"""The local stack's download links: the key that signs them, generated once and kept in `.studiobot/`, and the
local bot server's URL that answers them (`GET /links/{token}`), unless the environment names others."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend.config import ENV_BOT_PORT
from backend.render.links import ENV_LINK_SIGNING_KEY, ENV_LINK_SIGNING_KEY_PARAM, ENV_LINKS_URL

KEY_FILE = "link-signing-key"


def link_key(home: Path) -> str:
    """The stack's link signing key: read from `home`, or made there once (readable by its owner only)."""
    path = home / KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: theirs is the key
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as out:
            out.write(key + "\n")
        return key


def links_env(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """What to add to `environ` so that links are signed with the stack's key and point at its bot server."""
    added = {}
    if not environ.get(ENV_LINKS_URL):
        added[ENV_LINKS_URL] = f"http://127.0.0.1:{environ.get(ENV_BOT_PORT) or 3000}"
    if not environ.get(ENV_LINK_SIGNING_KEY) and not environ.get(ENV_LINK_SIGNING_KEY_PARAM):
        added[ENV_LINK_SIGNING_KEY] = link_key(home)
    return added


def link_key_parameter(stage: str) -> str:
    """The SSM parameter a stage's link signing key lives in (`custom.linkSigningKeyParameter`)."""
    return f"/studiobot/{stage}/link-signing-key"


def ensure_link_key(stage: str, ssm: Any) -> bool:
    """Make the stage's link signing key in SSM (a SecureString of 256 random bits) unless it is there already;
    True when it was made now. Overwriting it (README: rotating) ends every link posted so far."""
    try:
        ssm.put_parameter(
            Name=link_key_parameter(stage),
            Type="SecureString",
            Value=secrets.token_urlsafe(32),
            Description="studiobot: signs the download links it posts (made by make deploy)",
            Overwrite=False,
        )
    except ssm.exceptions.ParameterAlreadyExists:
        return False
    return True
