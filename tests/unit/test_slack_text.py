"""The one helper every message builder uses for text it did not write: escaped for mrkdwn, cut to fit, ids kept
short, whatever the text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages.text import clip, cut, escape, plain, sentence, short_id, size

QUICK = settings(max_examples=60, deadline=None)
TEXT = st.lists(st.sampled_from(["&", "<", ">", ";", "`", "a", "é", "🎬", "👩‍👩‍👧", "\n"]), max_size=600).map(
    "".join
)
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def _raw_left(text: str) -> set[str]:
    return {char for char in _ENTITY.sub("", text) if char in "&<>"}


@given(text=TEXT)
@QUICK
def test_escaping_is_undone_for_the_terminal(text: str) -> None:
    assert plain(escape(text)) == text
    assert not _raw_left(escape(text))


@given(text=TEXT, limit=st.integers(0, 700), keep_end=st.booleans())
@QUICK
def test_clipped_text_fits_and_never_breaks_an_entity(text: str, limit: int, keep_end: bool) -> None:
    clipped = clip(text, limit, keep_end)
    assert size(clipped) <= max(limit, 1) and not _raw_left(clipped)
    if size(escape(text)) <= limit:
        assert clipped == escape(text)
    else:
        assert "…" in clipped


def test_a_long_key_keeps_its_start_and_its_file_name() -> None:
    key = "scenes/" + "project/" * 200 + "shot010/shot.blend"
    clipped = clip(key, 120, keep_end=True)
    assert (
        clipped.startswith("scenes/project/")
        and clipped.endswith("/shot010/shot.blend")
        and size(clipped) <= 120
    )


@given(text=TEXT, limit=st.integers(0, 700))
@QUICK
def test_cut_text_fits(text: str, limit: int) -> None:
    assert size(cut(escape(text), limit)) <= max(limit, 4)


def test_a_cut_never_splits_a_mention_or_a_link_and_closes_what_it_opened() -> None:
    said = "Ask <@U0ADMIN> or see <https://example.test/a?b=1&c=2|the frames> " + "x" * 3_000
    assert cut(said, 40) == "Ask <@U0ADMIN> or see …"
    assert cut("```\n" + "row\n" * 1_000 + "```", 100).endswith("…\n```")
    assert cut("frames `" + "1," * 500 + "`", 50).endswith("…`")


def test_a_sentence_keeps_the_mentions_the_backend_wrote_and_escapes_the_rest() -> None:
    assert sentence("Only <@U0OTHER> can stop `a&b<c>`: use <#C0RENDERS>.") == (
        "Only <@U0OTHER> can stop `a&amp;b&lt;c&gt;`: use <#C0RENDERS>."
    )
    assert (
        sentence("<!channel> <https://evil.test|click>") == "&lt;!channel&gt; &lt;https://evil.test|click&gt;"
    )


def test_ids_stay_within_255_and_stay_distinct() -> None:
    assert short_id("ws:", "anim-01") == "ws:anim-01"
    long_names = ["é" * 256, "é" * 255 + "e", "🎬" * 200]
    ids = {short_id("ws:", name) for name in long_names}
    assert len(ids) == 3 and all(len(block_id.encode()) <= 255 for block_id in ids)


def test_a_mention_people_typed_is_escaped_even_when_they_close_the_quote_themselves() -> None:
    from bot.messages.text import sentence

    typed = "a`<@U0ADMIN>`b.blend"
    said = sentence(f"There is no scene `scenes/{typed}` in the bucket `b`: ask <@U0OWNER> or use <#C0OK>.")
    assert "<@U0ADMIN>" not in said and "&lt;@U0ADMIN&gt;" in said
    assert said.endswith("ask <@U0OWNER> or use <#C0OK>.")
    assert sentence("Only <@U0OWNER> (who submitted `<@U0X>`) can cancel it.").startswith("Only <@U0OWNER> (")
