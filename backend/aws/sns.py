"""SNS adapter: publish typed events on the studio-events topic."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.events import Event


class SnsPublisher(AwsAdapter):
    """Publishes events as JSON with their type as a message attribute (for subscription filters)."""

    service = "sns"
    label = "SNS"

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        super().__init__(client)
        self.topic_arn = topic_arn

    def publish(self, event: Event) -> None:
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Message=event.to_json(),
                MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
            )
        except ClientError as error:
            raise self.aws_error(error, f"publish {event.type}") from error
