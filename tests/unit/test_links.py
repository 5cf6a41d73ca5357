"""Signed download links: no altered token validates, a hostile key is never signed, expiry is what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.aws.s3 import ObjectInfo
from backend.names import UnsafeName
from backend.render.links import Answer, Links, LinkSettings, job_of, sign, verify

KEY = b"unit-test-link-key"
TOKEN_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%/")
OBJECT_KEYS = st.builds(
    lambda folder, job, name: f"{folder}/{job}/{name}",
    st.sampled_from(["outputs", "previews"]),
    st.from_regex(r"r[0-9a-f]{9}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_]{1,20}\.(png|exr|zip|html)", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(OBJECT_KEYS, st.integers(0, 2**40), st.data())
def test_no_altered_token_validates(object_key: str, expires_at: int, data: st.DataObject) -> None:
    token = sign(KEY, object_key, expires_at)
    assert verify(KEY, token) is not None
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(TOKEN_CHARS.filter(lambda char: char != token[position]))
    how = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    if how == "replace":
        altered = token[:position] + replacement + token[position + 1 :]
    elif how == "delete":
        altered = token[:position] + token[position + 1 :]
    else:
        altered = token[:position] + replacement + token[position:]
    assert verify(KEY, altered) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_no_made_up_token_validates(token: str) -> None:
    assert verify(KEY, token) is None


def test_a_token_made_with_another_key_does_not_validate() -> None:
    token = sign(b"another key", "outputs/r123456789/shot_0001.png", 2_000_000_000)
    assert verify(KEY, token) is None


@pytest.mark.parametrize(
    "hostile",
    [
        "scenes/shot.blend",
        "outputs/../scenes/shot.blend",
        "outputs/r1/../../scenes/shot.blend",
        "/outputs/r1/shot.png",
        "outputs//shot.png",
        "outputs/r1/",
        "outputs/r1",
        "previews/r1/a\\b.zip",
        "outputs/r1/\x00.png",
        "state/stack.json",
    ],
)
def test_only_a_jobs_outputs_may_be_linked(hostile: str) -> None:
    with pytest.raises(UnsafeName):
        job_of(hostile)
    with pytest.raises(UnsafeName):
        sign(KEY, hostile, 2_000_000_000)


class Objects:
    """The outputs bucket, in memory: presigned URLs are recorded, not made."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.presigned: list[tuple[str, int]] = []

    def presigned_url(self, bucket: str, key: str, expires_s: int = 0) -> str:
        self.presigned.append((key, expires_s))
        return f"https://{bucket}.s3.example/{key}?short"

    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        return [ObjectInfo(key, "etag", 1) for key in sorted(self.keys) if key.startswith(prefix)]


def test_a_link_lasts_its_days_then_says_when_it_expired() -> None:
    now = [1_796_000_000.0]  # 30 Nov 2026
    objects = Objects({"previews/r1/r1_frames.zip"})
    links = Links(
        LinkSettings(days=7, base_url="https://api.example"), "out", objects, lambda: KEY, lambda: now[0]
    )
    url = links.url("previews/r1/r1_frames.zip")
    token = url.removeprefix("https://api.example/links/")
    now[0] += 7 * 86400 - 1
    assert links.follow(token) == Answer(
        302, location="https://out.s3.example/previews/r1/r1_frames.zip?short"
    )
    assert objects.presigned == [("previews/r1/r1_frames.zip", 600)]
    now[0] += 1
    expired = links.follow(token)
    assert expired.status == 403
    assert "This link expired on 07 Dec 2026" in expired.page and "/render status r1" in expired.page


def test_a_link_to_an_object_no_longer_kept_says_so() -> None:
    links = Links(LinkSettings(base_url="http://127.0.0.1:3000"), "out", Objects(set()), lambda: KEY)
    answer = links.follow(links.url("previews/r1/r1_frames.zip").rsplit("/", 1)[-1])
    assert answer.status == 404 and "no longer kept" in answer.page and "Outputs" in answer.page


def test_the_local_stack_makes_its_key_once_keeps_it_private_and_points_links_at_its_bot_server(
    tmp_path: Path,
) -> None:
    from local.embedded.links import KEY_FILE, link_key, links_env

    home = tmp_path / ".studiobot"
    first = links_env(home, {"STUDIOBOT_BOT_PORT": "3917"})
    assert first["STUDIOBOT_LINKS_URL"] == "http://127.0.0.1:3917"
    assert len(first["STUDIOBOT_LINK_SIGNING_KEY"]) >= 40
    assert (home / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert link_key(home) == first["STUDIOBOT_LINK_SIGNING_KEY"]  # kept: links survive `down` and `up`
    given = {"STUDIOBOT_LINKS_URL": "https://links.example", "STUDIOBOT_LINK_SIGNING_KEY_PARAMETER": "/p"}
    assert links_env(home, given) == {}
