"""What a GPU render node costs: EC2's Spot price history on moto, kept an hour, and the fallback price.

moto answers `DescribeSpotPriceHistory` with one generated price ($0.00001) per Availability Zone that offers the
type in the region, and nothing for a type it does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from backend.aws.spot_prices import SpotPrices

MOTO_PRICE = 0.00001
FALLBACK = 1.006


class Clock:
    """Seconds that move only when a test says so."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountedEc2:
    """A real EC2 client (on moto) that counts its DescribeSpotPriceHistory calls and keeps their parameters."""

    def __init__(self) -> None:
        self.client = boto3.client("ec2", region_name="us-east-1")
        self.asked: list[dict[str, Any]] = []
        self.client.meta.events.register("provide-client-params.ec2.DescribeSpotPriceHistory", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.asked.append(dict(params))


@pytest.fixture
def ec2() -> Iterator[CountedEc2]:
    with mock_aws():
        yield CountedEc2()


def test_the_price_is_the_lowest_over_the_last_hour_for_linux(ec2: CountedEc2) -> None:
    clock = Clock()
    prices = SpotPrices(FALLBACK, client=ec2.client, clock=clock)

    assert prices.price("g5.xlarge") == MOTO_PRICE
    assert prices.per_second("g5.xlarge") == pytest.approx(MOTO_PRICE / 3600)

    (asked,) = ec2.asked
    assert asked["InstanceTypes"] == ["g5.xlarge"]
    assert asked["ProductDescriptions"] == ["Linux/UNIX"]
    assert (asked["EndTime"] - asked["StartTime"]).total_seconds() == 3600
    assert asked["EndTime"].timestamp() == clock.now
    assert prices.last_error is None


def test_ec2_is_asked_once_an_hour_per_instance_type(ec2: CountedEc2) -> None:
    clock = Clock()
    prices = SpotPrices(FALLBACK, client=ec2.client, clock=clock)

    for _ in range(5):
        prices.price("g5.xlarge")
        prices.per_second("g5.xlarge")
    prices.price("g4dn.xlarge")
    assert [item["InstanceTypes"] for item in ec2.asked] == [["g5.xlarge"], ["g4dn.xlarge"]]

    clock.now += 3599
    prices.price("g5.xlarge")
    assert len(ec2.asked) == 2
    clock.now += 1  # an hour after it was read
    prices.price("g5.xlarge")
    assert [item["InstanceTypes"] for item in ec2.asked][2:] == [["g5.xlarge"]]


def test_a_type_ec2_has_no_spot_price_for_costs_the_fallback(ec2: CountedEc2) -> None:
    prices = SpotPrices(FALLBACK, client=ec2.client, clock=Clock())

    assert prices.price("g99.nonexistent") == FALLBACK
    assert prices.per_second("g99.nonexistent") == pytest.approx(FALLBACK / 3600)
    assert len(ec2.asked) == 1  # kept like a price: asked again in an hour
    assert prices.last_error is None  # nothing went wrong: there is no Spot price for it


def test_when_ec2_refuses_the_fallback_stands_in_and_says_why() -> None:
    client = boto3.client("ec2", region_name="us-east-1")
    clock = Clock()
    prices = SpotPrices(FALLBACK, client=client, clock=clock)
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_spot_price_history",
            service_error_code="UnauthorizedOperation",
            http_status_code=403,
        )
        assert prices.price("g5.xlarge") == FALLBACK
        assert prices.price("g5.xlarge") == FALLBACK  # kept: EC2 is not asked again within the hour
        stub.assert_no_pending_responses()

    assert prices.last_error is not None
    assert prices.last_error.code == "UnauthorizedOperation"
    assert str(prices.last_error) == (
        "Could not read the Spot price of g5.xlarge (estimates use $1.006/h): studiobot's role may not do that: "
        "ask an admin to check its IAM policy."
    )


def test_a_price_read_after_a_refusal_clears_the_reason(ec2: CountedEc2) -> None:
    clock = Clock()
    prices = SpotPrices(FALLBACK, client=ec2.client, clock=clock)
    with Stubber(ec2.client) as stub:
        stub.add_client_error("describe_spot_price_history", service_error_code="RequestLimitExceeded")
        assert prices.price("g5.xlarge") == FALLBACK
    assert prices.last_error is not None and "AWS is busy right now" in str(prices.last_error)

    clock.now += 3600
    assert prices.price("g5.xlarge") == MOTO_PRICE
    assert prices.last_error is None
