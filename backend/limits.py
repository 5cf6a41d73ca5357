"""What a render job may ask for (`Limits`) and what rendering costs, with when a person must agree to it
(`Costs`): plain settings, read from the environment by `backend.config`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one render job may ask for."""

    max_frames_per_job: int = 10_000
    max_chunk: int = 100
    max_samples: int = 16_384
    max_resolution: tuple[int, int] = (7680, 4320)
    max_shot_bytes: int = 50 * 10**9  # every file of one shot (or its `--assets` folder) together
    job_history_days: float = 90.0  # the deploy's jobHistoryDays (README "What `osls remove` leaves")


@dataclass(frozen=True)
class Costs:
    """What rendering costs and when a person must agree to it (README "What it costs")."""

    price_per_gb_s: float = 0.0000166667  # Lambda x86, us-east-1
    price_per_request: float = 0.20 / 1_000_000
    price_per_storage_gb_s: float = 0.0000000309  # ephemeral storage above the free 512 MB
    render_memory_mb: int = 10_240
    render_ephemeral_mb: int = 10_240
    concurrency: int = 100  # render Lambdas at once (the local stack: its worker processes)
    probe_over_frames: int = 50  # jobs with more frames render first, middle and last first
    confirm_over_usd: float = 5.0  # the submitter (or an admin) presses Submit above this estimate
    admin_over_usd: float = 50.0  # only an admin may submit above this one
    confirm_expiry_s: float = 30 * 60  # an unconfirmed job expires after this long
    max_gpu_nodes: int = 16  # GPU nodes a phase of a `--on gpu` job may start (AWS Batch on Spot)
    gpu_instance_type: str = "g5.xlarge"  # what a GPU node-second is priced as (EC2's Spot price history)
    gpu_fallback_usd_per_hour: float = 1.006  # when EC2 gives no Spot price (g5.xlarge On-Demand, us-east-1)
