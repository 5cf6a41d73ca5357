"""The one SSM Command document studiobot runs on workstations: the presence scripts, as the stack owns them.

The roles that ask workstations who is connected may send this document and nothing else (never
`AWS-RunShellScript`, which runs any command as root). The same content goes into the AWS template at package time
(`local/deployer/documents.py`) and into the local stack's moto at deploy, built here from the very script files."""

from __future__ import annotations

from importlib import resources
from typing import Any

SCRIPTS = {"Linux": "presence.sh", "Windows": "presence.ps1"}
SCRIPT_TIMEOUT_S = 30  # how long the script may run on the instance
# Run Command's plugin per platform; each step runs only where its precondition holds, so one document serves both.
STEPS = {"Linux": "aws:runShellScript", "Windows": "aws:runPowerShellScript"}


def document_name(stage: str) -> str:
    """The presence document's name in a stage (`${self:custom.prefix}-presence` in infra/aws-resources.yml)."""
    return f"studiobot-{stage}-presence"


def script(platform: str) -> str:
    """The presence script a platform runs (shipped with the package, also installed by the optional agent)."""
    return (resources.files("backend.workstations") / "scripts" / SCRIPTS[platform]).read_text()


def presence_document() -> dict[str, Any]:
    """The document's content (schema 2.2): each platform's script, byte for byte, as a single command."""
    return {
        "schemaVersion": "2.2",
        "description": "studiobot: who is connected to this workstation, and how idle (prints one JSON line)",
        "mainSteps": [
            {
                "action": action,
                "name": f"presence{platform}",
                "precondition": {"StringEquals": ["platformType", platform]},
                "inputs": {"runCommand": [script(platform)], "timeoutSeconds": str(SCRIPT_TIMEOUT_S)},
            }
            for platform, action in STEPS.items()
        ],
    }
