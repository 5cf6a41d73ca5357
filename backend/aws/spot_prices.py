"""EC2 Spot prices adapter: what a GPU render node costs, for estimates of `gpu` jobs.

A price is the lowest Spot price of the instance type in the region (any Availability Zone, Linux/UNIX) over the
last hour, as EC2's price history gives it; it is kept for an hour in the process. Where EC2 gives none (a type the
region does not offer on Spot) or cannot answer, the configured fallback price stands in, and `last_error` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.errors import AwsError

CACHE_S = 3600.0
WINDOW_S = 3600.0
PRODUCT = "Linux/UNIX"


@dataclass(frozen=True)
class _Cached:
    usd_per_hour: float
    at: float


class SpotPrices(AwsAdapter):
    """Spot prices per instance type, cached for an hour; the fallback price where EC2 gives none."""

    service = "ec2"
    label = "EC2"

    def __init__(
        self,
        fallback_usd_per_hour: float,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
        cache_s: float = CACHE_S,
    ) -> None:
        super().__init__(client)
        self.fallback_usd_per_hour = fallback_usd_per_hour
        self.clock = clock
        self.cache_s = cache_s
        self.last_error: AwsError | None = None  # why the last price asked of EC2 is the fallback, if it is
        self._cache: dict[str, _Cached] = {}

    def price(self, instance_type: str) -> float:
        """Dollars per hour of one `instance_type` on Spot here: the lowest over the last hour, or the fallback."""
        now = self.clock()
        cached = self._cache.get(instance_type)
        if cached is not None and now - cached.at < self.cache_s:
            return cached.usd_per_hour
        try:
            lowest = self._lowest(instance_type, now)
            self.last_error = None
        except ClientError as error:
            self.last_error = self.aws_error(
                error,
                f"read the Spot price of {instance_type} (estimates use ${self.fallback_usd_per_hour:g}/h)",
            )
            lowest = None
        usd_per_hour = self.fallback_usd_per_hour if lowest is None else lowest
        self._cache[instance_type] = _Cached(usd_per_hour, now)  # a failure too: asked again in an hour
        return usd_per_hour

    def per_second(self, instance_type: str) -> float:
        """Dollars per second of one `instance_type` on Spot (EC2 bills Linux instances by the second)."""
        return self.price(instance_type) / 3600

    def _lowest(self, instance_type: str, now: float) -> float | None:
        """The lowest price in EC2's history for the last hour (any zone); None when there is none."""
        paginator = self.client.get_paginator("describe_spot_price_history")
        pages = paginator.paginate(
            InstanceTypes=[instance_type],
            ProductDescriptions=[PRODUCT],
            StartTime=datetime.fromtimestamp(now - WINDOW_S, UTC),
            EndTime=datetime.fromtimestamp(now, UTC),
        )
        prices = [float(item["SpotPrice"]) for page in pages for item in page.get("SpotPriceHistory", [])]
        return min(prices) if prices else None
