"""Shared fixtures. Fake AWS credentials and Powertools settings are set before any handler is imported."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# pytest-xdist starts its workers with COLUMNS=80; the CLI's console would keep that width from its import on, where
# each test that reads a table gives its terminal's width through the environment of the command, as a shell does.
os.environ.pop("COLUMNS", None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "studiobot-tests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "studiobot-tests",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)  # never let a test reach a server it did not start
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def fresh_composition_root() -> Iterator[None]:
    """Lambda handlers build their services once per container from the environment; each test is a new one."""
    from entry import wiring

    wiring.from_env.cache_clear()
    yield
    wiring.from_env.cache_clear()
