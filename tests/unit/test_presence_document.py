"""The SSM Command document studiobot sends to workstations holds the presence scripts, byte for byte."""

from __future__ import annotations

from pathlib import Path

from backend.workstations.document import document_name, presence_document

SCRIPTS = Path(__file__).resolve().parents[2] / "backend" / "workstations" / "scripts"


def test_each_platform_runs_its_own_script_byte_for_byte_and_nothing_else() -> None:
    document = presence_document()
    assert document["schemaVersion"] == "2.2" and "parameters" not in document  # nothing a sender can change
    steps = {step["precondition"]["StringEquals"][1]: step for step in document["mainSteps"]}
    assert set(steps) == {"Linux", "Windows"}
    assert steps["Linux"]["action"] == "aws:runShellScript"
    assert steps["Windows"]["action"] == "aws:runPowerShellScript"
    assert steps["Linux"]["inputs"]["runCommand"] == [(SCRIPTS / "presence.sh").read_bytes().decode()]
    assert steps["Windows"]["inputs"]["runCommand"] == [(SCRIPTS / "presence.ps1").read_bytes().decode()]
    for step in steps.values():
        assert step["precondition"]["StringEquals"][0] == "platformType"
        assert step["inputs"]["timeoutSeconds"] == "30"


def test_the_document_is_named_after_the_stage() -> None:
    assert document_name("prod") == "studiobot-prod-presence"
    assert document_name("local") == "studiobot-local-presence"
