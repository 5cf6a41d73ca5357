"""Lambda adapter: a function's SQS event source mappings, listed and switched on or off (the priority lanes)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.render.lanes import EventSource


class LambdaEventSources(AwsAdapter):
    """ListEventSourceMappings and UpdateEventSourceMapping; the client is created on first use."""

    service = "lambda"
    label = "Lambda"

    def of(self, function: str) -> list[EventSource]:
        """Every event source mapping of `function`."""
        sources: list[EventSource] = []
        marker = ""
        try:
            while True:
                page = self.client.list_event_source_mappings(
                    FunctionName=function, **({"Marker": marker} if marker else {})
                )
                sources += [
                    EventSource(item["UUID"], item.get("EventSourceArn", ""), item.get("State", ""))
                    for item in page.get("EventSourceMappings", [])
                ]
                if not (marker := page.get("NextMarker", "")):
                    return sources
        except ClientError as error:
            raise self.aws_error(error, f"list the event sources of {function}") from error

    def switch(self, function: str, uuid: str, enabled: bool) -> None:
        """Enable or disable one of `function`'s mappings (Lambda finishes the batches in hand either way); the
        function is named, unchanged, so that IAM can limit the call to its mappings (`lambda:FunctionArn`)."""
        try:
            self.client.update_event_source_mapping(UUID=uuid, FunctionName=function, Enabled=enabled)
        except ClientError as error:
            raise self.aws_error(error, "switch a render lane") from error
