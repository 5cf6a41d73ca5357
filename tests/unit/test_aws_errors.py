"""AWS errors read one way from every adapter: what failed, and what a person can do about it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from backend.aws.s3 import S3Store
from backend.aws.sns import SnsPublisher
from backend.aws.sqs import SqsQueue
from backend.budgets.guard import BudgetGuard
from backend.budgets.provider import AwsBudgets
from backend.render.store import DynamoJobs
from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.leases import DynamoLeases


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "whatever AWS says"}}, "Operation")


ADAPTERS = [
    S3Store(client=object()),
    SqsQueue("https://queue", client=object()),
    SnsPublisher("arn:topic", client=object()),
    DynamoJobs("jobs", client=object()),
    DynamoLeases("jobs", client=object()),
    BudgetGuard("jobs", client=object()),
    Ec2Workstations(client=object()),
    AwsBudgets(client=object(), sts=object()),
]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: type(adapter).__name__)
def test_an_unexplained_code_names_the_service_and_the_code(adapter: object) -> None:
    error = adapter.aws_error(_error("InternalFailure"), "do the thing")  # type: ignore[attr-defined]
    assert str(error) == f"Could not do the thing: {adapter.label} said InternalFailure."  # type: ignore[attr-defined]
    assert error.code == "InternalFailure"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: type(adapter).__name__)
def test_throttling_and_missing_permissions_say_what_to_do(adapter: object) -> None:
    busy = adapter.aws_error(_error("ThrottlingException"), "list the jobs")  # type: ignore[attr-defined]
    assert str(busy).startswith("Could not list the jobs: ") and str(busy).endswith(
        "is busy right now: try again in a minute."
    )
    denied = adapter.aws_error(_error("AccessDenied"), "list the jobs")  # type: ignore[attr-defined]
    assert "ask an admin to check its IAM policy" in str(denied)


def test_an_adapter_own_reasons_come_first() -> None:
    error = Ec2Workstations(client=object()).aws_error(_error("IncorrectInstanceState"), "stop workstations")
    assert str(error) == (
        "Could not stop workstations: the workstation is changing state right now: try again in a minute."
    )


def test_no_adapter_makes_a_client_before_it_is_used() -> None:
    assert all(type(adapter)(*_args(adapter))._client is None for adapter in ADAPTERS)  # type: ignore[attr-defined]


def _args(adapter: object) -> tuple[str, ...]:
    return (
        ("x",)
        if isinstance(adapter, SqsQueue | SnsPublisher | DynamoJobs | DynamoLeases | BudgetGuard)
        else ()
    )
