"""The presence document (`backend.workstations.document`) where each stack gets it: written for osls to embed in
the AWS template at package time (`Content: ${file(.build/presence-document.json)}`), and created through the SSM
API in the local stack's moto, as CloudFormation would on AWS."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from backend.workstations.document import document_name, presence_document

BUILD_INPUT = Path(__file__).resolve().parents[2] / "infra" / ".build" / "presence-document.json"


def write_for_osls(path: Path = BUILD_INPUT) -> Path:
    """The document's content as JSON where infra/aws-resources.yml reads it (a `.sh` cannot be `${file()}`d)."""
    content = presence_document()
    for step in content["mainSteps"]:
        step["inputs"]["runCommand"] = [past_osls(command) for command in step["inputs"]["runCommand"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")
    return path


def past_osls(text: str) -> str | dict[str, Any]:
    """`text` as CloudFormation rebuilds it exactly, with no `${` for osls to take for its own variables (it
    resolves them in files too, and a shell script is full of them): split there, joined again by `Fn::Join`."""
    pieces = text.split("${")
    if len(pieces) == 1:
        return text
    parts = [
        ("{" if index else "") + piece + ("$" if index < len(pieces) - 1 else "")
        for index, piece in enumerate(pieces)
    ]
    return {"Fn::Join": ["", parts]}


def create_in(ssm: Any, stage: str = "local") -> str:
    """Create (or bring up to date) the stage's presence document; its name."""
    name = document_name(stage)
    content = json.dumps(presence_document())
    try:
        ssm.create_document(
            Name=name,
            Content=content,
            DocumentType="Command",
            DocumentFormat="JSON",
            TargetType="/AWS::EC2::Instance",
        )
    except ssm.exceptions.DocumentAlreadyExists:  # another local stack on the same moto server
        with contextlib.suppress(ssm.exceptions.DuplicateDocumentContent):
            version = ssm.update_document(
                Name=name, Content=content, DocumentFormat="JSON", DocumentVersion="$LATEST"
            )["DocumentDescription"]["DocumentVersion"]
            ssm.update_document_default_version(Name=name, DocumentVersion=version)
    return name
