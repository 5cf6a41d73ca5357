"""SNS adapter: publish typed events on the studio-events topic."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from backend.errors import AwsError
from backend.events import Event


class SnsPublisher:
    """Publishes events as JSON with their type as a message attribute (for subscription filters)."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sns")
        return self._client

    def publish(self, event: Event) -> None:
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Message=event.to_json(),
                MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            raise AwsError(f"Could not publish {event.type} ({code}).", code) from error
