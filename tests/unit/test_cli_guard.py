"""The CLI's last line: an error nobody expected is one sentence naming the log that holds its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.errors import ValidationError
from local.cli.terminal import run_guarded


def _boom() -> None:
    raise KeyError("frame_start")


def _refused() -> None:
    raise ValidationError("Frame range `240-1x0` steps by 0: try `1-240`.")


def test_an_unexpected_error_is_one_sentence_and_its_traceback_goes_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIOBOT_HOME", str(tmp_path / ".studiobot"))
    with pytest.raises(SystemExit) as leaving:
        run_guarded(_boom)
    said = " ".join((capsys.readouterr().out).split())
    log = tmp_path / ".studiobot" / "cli.log"
    assert leaving.value.code == 1 and "Traceback" not in said
    assert f"did not expect (KeyError: 'frame_start'); the details are in {log}" in said
    assert "Traceback (most recent call last)" in log.read_text() and "_boom" in log.read_text()


def test_our_own_errors_are_their_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        run_guarded(_refused)
    assert leaving.value.code == 1
    assert capsys.readouterr().out.strip() == "✗ Frame range `240-1x0` steps by 0: try `1-240`."
