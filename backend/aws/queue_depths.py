"""SQS adapter: how many messages a queue holds (the priority lanes' scheduler reads it)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter

HELD = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class QueueDepths(AwsAdapter):
    """GetQueueAttributes; the client is created on first use."""

    service = "sqs"
    label = "SQS"

    def held(self, queue_url: str) -> tuple[str, int]:
        """The queue's ARN and its messages: visible, in flight and delayed (SQS's approximate counts)."""
        try:
            attributes = self.client.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn", *HELD]
            )["Attributes"]
        except ClientError as error:
            raise self.aws_error(error, "read how many tasks a render lane holds") from error
        return attributes["QueueArn"], sum(int(attributes.get(name, 0)) for name in HELD)

    def waiting_and_taken(self, queue_url: str) -> tuple[int, int]:
        """The queue's tasks waiting (visible and delayed) and taken by a worker now (in flight), as SQS counts."""
        try:
            attributes = self.client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(HELD))[
                "Attributes"
            ]
        except ClientError as error:
            raise self.aws_error(error, "read how many tasks a render lane holds") from error
        taken = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
        return sum(int(attributes.get(name, 0)) for name in HELD) - taken, taken
