"""Spot interruption notices from the instance metadata service (IMDSv2), polled every 5 s as AWS recommends."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from backend.config import DEFAULT_IMDS

logger = Logger(service="studiobot-node")
POLL_S = 5.0
TOKEN_TTL_S = 21600


class SpotWatch:
    """Calls `on_notice(deadline)` once, from its own thread, when EC2 schedules this instance's interruption."""

    def __init__(
        self,
        on_notice: Callable[[float], None],
        endpoint: str = DEFAULT_IMDS,
        poll_s: float = POLL_S,
        timeout_s: float = 2.0,
    ) -> None:
        self.on_notice = on_notice
        self.endpoint = endpoint.rstrip("/")
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.stopping = threading.Event()
        self._token = ""
        self._said = False  # an unreachable IMDS is logged once, not every 5 s
        self._thread = threading.Thread(target=self._watch, name="spot-watch", daemon=True)

    def start(self) -> SpotWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()

    def check(self) -> float | None:
        """The interruption's time (epoch seconds) if one is scheduled; None otherwise or when IMDS is silent."""
        try:
            body = self._get("/latest/meta-data/spot/instance-action")
        except urllib.error.HTTPError as error:
            if error.code == 401:  # the token expired: ask again next time
                self._token = ""
            elif error.code != 404:  # 404: no interruption scheduled
                self._once(f"the instance metadata answered {error.code}")
            return None
        except (urllib.error.URLError, OSError) as error:
            # not on EC2, or IMDS unreachable (in a container, the hop limit must be 2): no notice can be seen
            self._once(f"the instance metadata cannot be reached ({error})")
            return None
        try:
            notice = json.loads(body)
            return datetime.fromisoformat(str(notice["time"]).replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError, TypeError):
            return None

    def _once(self, problem: str) -> None:
        if not self._said:
            logger.warning("Spot notices cannot be watched", problem=problem, endpoint=self.endpoint)
            self._said = True

    def _watch(self) -> None:
        while not self.stopping.is_set():
            deadline = self.check()
            if deadline is not None:
                logger.warning("spot interruption scheduled", deadline=deadline)
                self.on_notice(deadline)
                return
            self.stopping.wait(self.poll_s)

    def _get(self, path: str) -> str:
        if not self._token:
            request = urllib.request.Request(
                f"{self.endpoint}/latest/api/token",
                method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_S)},
            )
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                self._token = response.read().decode()
        request = urllib.request.Request(
            f"{self.endpoint}{path}", headers={"X-aws-ec2-metadata-token": self._token}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return str(response.read().decode())
