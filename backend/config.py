"""The environment variables studiobot reads, and the settings built from them (the links': `render.links`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.limits import Costs, Limits
from backend.render.lanes import LaneSettings
from backend.render.links import LinkSettings
from backend.workstations.presence import SessionPolicy

ENV_STAGE = "STUDIOBOT_STAGE"
ENV_SCENES_BUCKET = "STUDIOBOT_SCENES_BUCKET"
ENV_SCENES_PREFIX = "STUDIOBOT_SCENES_PREFIX"
ENV_OUTPUTS_BUCKET = "STUDIOBOT_OUTPUTS_BUCKET"
ENV_TABLE = "STUDIOBOT_TABLE"
ENV_RENDER_QUEUE_URL = "STUDIOBOT_RENDER_QUEUE_URL"
ENV_EVENTS_TOPIC_ARN = "STUDIOBOT_EVENTS_TOPIC_ARN"
ENV_MAX_FRAMES = "STUDIOBOT_MAX_FRAMES_PER_JOB"
ENV_MAX_SHOT_GB = "STUDIOBOT_MAX_SHOT_GB"  # a worker refuses a shot larger than this before downloading it
ENV_PROGRESS_INTERVAL = "STUDIOBOT_PROGRESS_INTERVAL_S"
ENV_WORK_DIR = "STUDIOBOT_WORK_DIR"
# The embedded local stack only.
ENV_RENDER_DLQ_URL = "STUDIOBOT_RENDER_DLQ_URL"
ENV_GPU_DLQ_URL = "STUDIOBOT_GPU_DLQ_URL"  # its dead letters (the local stack's worker reads it)
ENV_GPU_QUEUE_URL = "STUDIOBOT_GPU_QUEUE_URL"
ENV_GPU_JOB_QUEUE = "STUDIOBOT_GPU_JOB_QUEUE"  # AWS Batch: where GPU nodes are started ("" without Batch)
ENV_GPU_JOB_DEFINITION = "STUDIOBOT_GPU_JOB_DEFINITION"
ENV_MAX_GPU_NODES = "STUDIOBOT_MAX_GPU_NODES"
ENV_GPU_INSTANCE_TYPE = "STUDIOBOT_GPU_INSTANCE_TYPE"
ENV_GPU_FALLBACK_PRICE = "STUDIOBOT_GPU_FALLBACK_USD_PER_HOUR"
ENV_LOCAL_HOME = "STUDIOBOT_HOME"
ENV_LOCAL_VISIBILITY_TIMEOUT = "STUDIOBOT_LOCAL_VISIBILITY_TIMEOUT_S"
# The render function's time limit (the deploy's renderTimeoutS).
ENV_RENDER_TIMEOUT = "STUDIOBOT_RENDER_TIMEOUT_S"
ENV_LOCAL_RETRY_DELAY = "STUDIOBOT_LOCAL_RETRY_DELAY_S"
# "off": the local stack's queues hand tasks out first in, first out, as before fair queues (`make bench` compares).
ENV_LOCAL_FAIR_QUEUES = "STUDIOBOT_LOCAL_FAIR_QUEUES"
ENV_STITCH_LEASE = "STUDIOBOT_STITCH_LEASE_S"  # a claim to stitch a frame older than this is taken over
ENV_JOB_HISTORY_DAYS = "STUDIOBOT_JOB_HISTORY_DAYS"  # a job's items expire (TTL) this long after written
# Slack. Tokens are read by the composition roots only and never logged.
ENV_SLACK_BOT_TOKEN = "SLACK_BOT_TOKEN"
ENV_SLACK_SIGNING_SECRET = "SLACK_SIGNING_SECRET"
ENV_SLACK_APP_TOKEN = "SLACK_APP_TOKEN"
ENV_SLACK_API_URL = "SLACK_API_URL"
# Our workspace and our app: a request naming another `team_id` / `api_app_id` is refused (unset: any, said at start).
ENV_SLACK_TEAM_ID = "STUDIOBOT_SLACK_TEAM_ID"
ENV_SLACK_APP_ID = "STUDIOBOT_SLACK_APP_ID"
# On AWS the secrets live in SSM Parameter Store (SecureString); these name the parameters.
ENV_SLACK_BOT_TOKEN_PARAM = "SLACK_BOT_TOKEN_PARAMETER"
ENV_SLACK_SIGNING_SECRET_PARAM = "SLACK_SIGNING_SECRET_PARAMETER"
ENV_ALLOWED_CHANNELS = "STUDIOBOT_ALLOWED_CHANNELS"
ENV_ALLOWED_USERS = "STUDIOBOT_ALLOWED_USERS"
ENV_ADMINS = "STUDIOBOT_ADMINS"
ENV_CARD_INTERVAL = "STUDIOBOT_CARD_UPDATE_INTERVAL_S"
ENV_BOT_PORT = "STUDIOBOT_BOT_PORT"
ENV_OPS_CHANNEL = "STUDIOBOT_OPS_CHANNEL"  # where workstation and budget alerts go
ENV_BUDGET_ACTION = "STUDIOBOT_BUDGET_ACTION"  # ask | stop-and-finish | stop-and-cancel (budgets.stopping)
ENV_UNDELIVERED_NOTICES_URL = "STUDIOBOT_UNDELIVERED_NOTICES_URL"  # notices Slack did not take, redriven
ENV_SWEEP_INTERVAL = "STUDIOBOT_SWEEP_INTERVAL_S"  # the expiry sweep's schedule (AWS: rate(5 minutes))
ENV_KEEPALIVE_AT = "STUDIOBOT_KEEPALIVE_AT"  # daily keep-alive time, HH:MM (the seed's cron: 0 4 * * ? *)
ENV_KEEPALIVE_TZ = "STUDIOBOT_KEEPALIVE_TIMEZONE"
ENV_KEEPALIVE_WAIT = "STUDIOBOT_KEEPALIVE_WAIT_S"  # the local stack's HTTP port for Slack (default 3000)
# boto3 reads this one itself (since 1.28) and sends every client to it: the local stack sets it.
ENV_AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"
# botocore's own names for the instance metadata service, where a render node hears of a Spot interruption.
ENV_IMDS = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
ENV_IMDS_DISABLED = "AWS_EC2_METADATA_DISABLED"
DEFAULT_IMDS = "http://169.254.169.254"
# Cost: prices (AWS's published x86 Lambda prices in us-east-1 by default), the render function's size, the farm's
# concurrency, and the guardrails (probe jobs over N frames, confirm over $X, admins only over $Y).
ENV_PRICE_GB_S = "STUDIOBOT_PRICE_PER_GB_S"
ENV_PRICE_REQUEST = "STUDIOBOT_PRICE_PER_REQUEST"
ENV_PRICE_STORAGE_GB_S = "STUDIOBOT_PRICE_PER_STORAGE_GB_S"
ENV_RENDER_MEMORY_MB = "STUDIOBOT_RENDER_MEMORY_MB"
ENV_RENDER_EPHEMERAL_MB = "STUDIOBOT_RENDER_EPHEMERAL_MB"
ENV_RENDER_CONCURRENCY = "STUDIOBOT_RENDER_CONCURRENCY"
ENV_PROBE_OVER = "STUDIOBOT_PROBE_OVER_FRAMES"
ENV_CONFIRM_OVER = "STUDIOBOT_CONFIRM_OVER_USD"
ENV_ADMIN_OVER = "STUDIOBOT_ADMIN_OVER_USD"
ENV_CONFIRM_EXPIRY = "STUDIOBOT_CONFIRM_EXPIRY_S"

# Jobs submitted from `studiobot render` on the local stack are listed under this pseudo-channel.
CLI_CHANNEL = "cli"


LISTED_CHANNELS = 10  # a refusal names this many of the channels studiobot works in, and counts the rest


@dataclass(frozen=True)
class Access:
    """Who may use the bot where (Slack IDs). An empty allow-list allows everyone; admins may act on any job."""

    allowed_channels: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    def refusal(self, user_id: str, channel_id: str) -> str | None:
        """Why this user may not use the bot here, or None if they may."""
        if self.allowed_users and user_id not in self.allowed_users and user_id not in self.admins:
            return "You are not on studiobot's list of users: ask a studio admin to add you."
        if self.allowed_channels and channel_id not in self.allowed_channels:
            channels = sorted(self.allowed_channels)
            listed = ", ".join(f"<#{channel}>" for channel in channels[:LISTED_CHANNELS])
            if len(channels) > LISTED_CHANNELS:
                listed += f" or one of {len(channels) - LISTED_CHANNELS:,} more"
            return f"studiobot does not take commands in this channel: use {listed}."
        return None

    def may_manage(self, user_id: str, owner_id: str) -> bool:
        """The owner of a job (or workstation) and admins may change it."""
        return user_id == owner_id or user_id in self.admins


def _ids(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Names of the resources a function talks to, and the limits it enforces."""

    stage: str = "local"
    scenes_bucket: str = ""
    scenes_prefix: str = "scenes/"
    outputs_bucket: str = ""
    table_name: str = ""
    render_queue_url: str = ""
    gpu_queue_url: str = ""  # the `gpu` class's task queue (render nodes); "" where the deployment has none
    lanes: LaneSettings = field(default_factory=LaneSettings)  # the urgent and low lanes beside those two
    gpu_job_queue: str = ""  # AWS Batch's job queue that starts GPU nodes; "" (a studio's own nodes only)
    gpu_job_definition: str = ""
    events_topic_arn: str = ""
    limits: Limits = field(default_factory=Limits)
    progress_interval_s: float = 5.0
    work_dir: str = "/tmp/studiobot"
    access: Access = field(default_factory=Access)
    slack_api_url: str = "https://slack.com/api/"
    slack_team_id: str = ""  # the one workspace the bot answers ("" answers any: local development only)
    slack_app_id: str = ""  # the one app (`api_app_id`) it answers as
    card_update_interval_s: float = 5.0
    ops_channel: str = ""
    budget_action: str = "ask"  # what the guard does to jobs still going when actual spend passes a limit
    costs: Costs = field(default_factory=Costs)
    render_timeout_s: float = 900.0  # how long one render may run: Lambda's limit, kept locally too
    stitch_lease_s: float = 900.0  # see `_stitch_lease`
    links: LinkSettings = field(default_factory=LinkSettings)  # the download links studiobot signs
    sessions: SessionPolicy = field(default_factory=SessionPolicy)  # a workstation session, when stopping it
    undelivered_notices_url: str = ""  # notices Slack did not take (the notifier's on-failure queue)
    imds_endpoint: str = DEFAULT_IMDS  # a node's Spot notices ("": the metadata service is off)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from the environment; an explicit keyword argument wins over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "stage": env.get(ENV_STAGE, "local"),
            "scenes_bucket": env.get(ENV_SCENES_BUCKET, ""),
            "scenes_prefix": env.get(ENV_SCENES_PREFIX, "scenes/"),
            "outputs_bucket": env.get(ENV_OUTPUTS_BUCKET, ""),
            "table_name": env.get(ENV_TABLE, ""),
            "render_queue_url": env.get(ENV_RENDER_QUEUE_URL, ""),
            "gpu_queue_url": env.get(ENV_GPU_QUEUE_URL, ""),
            "lanes": LaneSettings.from_env(env),
            "gpu_job_queue": env.get(ENV_GPU_JOB_QUEUE, ""),
            "gpu_job_definition": env.get(ENV_GPU_JOB_DEFINITION, ""),
            "events_topic_arn": env.get(ENV_EVENTS_TOPIC_ARN, ""),
            "limits": Limits(
                max_frames_per_job=int(env.get(ENV_MAX_FRAMES, "10000")),
                max_shot_bytes=int(float(env.get(ENV_MAX_SHOT_GB, "50")) * 10**9),
                job_history_days=float(env.get(ENV_JOB_HISTORY_DAYS, "90")),
            ),
            "progress_interval_s": float(env.get(ENV_PROGRESS_INTERVAL, "5")),
            "work_dir": env.get(ENV_WORK_DIR, "/tmp/studiobot"),
            "access": Access(
                allowed_channels=_ids(env.get(ENV_ALLOWED_CHANNELS, "")),
                allowed_users=_ids(env.get(ENV_ALLOWED_USERS, "")),
                admins=_ids(env.get(ENV_ADMINS, "")),
            ),
            "slack_api_url": env.get(ENV_SLACK_API_URL, "https://slack.com/api/"),
            "slack_team_id": env.get(ENV_SLACK_TEAM_ID, "").strip(),
            "slack_app_id": env.get(ENV_SLACK_APP_ID, "").strip(),
            "card_update_interval_s": float(env.get(ENV_CARD_INTERVAL, "5")),
            "ops_channel": env.get(ENV_OPS_CHANNEL, ""),
            "budget_action": env.get(ENV_BUDGET_ACTION, "").strip().lower() or "ask",
            "costs": _costs(env),
            "render_timeout_s": float(env.get(ENV_RENDER_TIMEOUT, "900")),
            "stitch_lease_s": _stitch_lease(env),
            "links": LinkSettings.from_env(env),
            "sessions": SessionPolicy.from_env(env),
            "undelivered_notices_url": env.get(ENV_UNDELIVERED_NOTICES_URL, ""),
            "imds_endpoint": _imds(env),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return these settings (for worker processes)."""
        return {
            ENV_STAGE: self.stage,
            ENV_SCENES_BUCKET: self.scenes_bucket,
            ENV_SCENES_PREFIX: self.scenes_prefix,
            ENV_OUTPUTS_BUCKET: self.outputs_bucket,
            ENV_TABLE: self.table_name,
            ENV_RENDER_QUEUE_URL: self.render_queue_url,
            ENV_GPU_QUEUE_URL: self.gpu_queue_url,
            ENV_GPU_JOB_QUEUE: self.gpu_job_queue,
            ENV_GPU_JOB_DEFINITION: self.gpu_job_definition,
            ENV_MAX_GPU_NODES: str(self.costs.max_gpu_nodes),
            ENV_GPU_INSTANCE_TYPE: self.costs.gpu_instance_type,
            ENV_GPU_FALLBACK_PRICE: repr(self.costs.gpu_fallback_usd_per_hour),
            ENV_EVENTS_TOPIC_ARN: self.events_topic_arn,
            ENV_MAX_FRAMES: str(self.limits.max_frames_per_job),
            ENV_MAX_SHOT_GB: repr(self.limits.max_shot_bytes / 10**9),
            ENV_JOB_HISTORY_DAYS: f"{self.limits.job_history_days:g}",
            ENV_PROGRESS_INTERVAL: str(self.progress_interval_s),
            ENV_RENDER_TIMEOUT: str(self.render_timeout_s),
            ENV_STITCH_LEASE: repr(self.stitch_lease_s),
            ENV_WORK_DIR: self.work_dir,
            ENV_ALLOWED_CHANNELS: ",".join(sorted(self.access.allowed_channels)),
            ENV_ALLOWED_USERS: ",".join(sorted(self.access.allowed_users)),
            ENV_ADMINS: ",".join(sorted(self.access.admins)),
            ENV_SLACK_API_URL: self.slack_api_url,
            ENV_SLACK_TEAM_ID: self.slack_team_id,
            ENV_SLACK_APP_ID: self.slack_app_id,
            ENV_CARD_INTERVAL: str(self.card_update_interval_s),
            ENV_OPS_CHANNEL: self.ops_channel,
            ENV_BUDGET_ACTION: self.budget_action,
            ENV_PRICE_GB_S: repr(self.costs.price_per_gb_s),
            ENV_PRICE_REQUEST: repr(self.costs.price_per_request),
            ENV_PRICE_STORAGE_GB_S: repr(self.costs.price_per_storage_gb_s),
            ENV_RENDER_MEMORY_MB: str(self.costs.render_memory_mb),
            ENV_RENDER_EPHEMERAL_MB: str(self.costs.render_ephemeral_mb),
            ENV_RENDER_CONCURRENCY: str(self.costs.concurrency),
            ENV_PROBE_OVER: str(self.costs.probe_over_frames),
            ENV_CONFIRM_OVER: repr(self.costs.confirm_over_usd),
            ENV_ADMIN_OVER: repr(self.costs.admin_over_usd),
            ENV_CONFIRM_EXPIRY: repr(self.costs.confirm_expiry_s),
            ENV_UNDELIVERED_NOTICES_URL: self.undelivered_notices_url,
            **self.links.to_env(),
            **self.lanes.to_env(),
            **self.sessions.to_env(),
            # not the metadata service's: botocore reads those names too, so they stay as the process found them
        }


def _stitch_lease(env: Mapping[str, str]) -> float:
    """How long a claim to stitch a frame holds before a retry takes it over (its stitcher died).

    On AWS the render function's longest run: the task comes back only after the queue's visibility timeout (6 ×
    that). Locally a worker renews its task's visibility every half timeout, so the task of a worker killed after
    its claim is back half a timeout later at the earliest: a lease of a third has run out by then, and the retry
    stitches (with the 900 s lease it was refused until the task reached the dead-letter queue).
    """
    if ENV_STITCH_LEASE in env:
        return float(env[ENV_STITCH_LEASE])
    if ENV_LOCAL_VISIBILITY_TIMEOUT in env:
        return float(env[ENV_LOCAL_VISIBILITY_TIMEOUT]) / 3
    return 900.0


def _imds(env: Mapping[str, str]) -> str:
    """Where a render node polls for a Spot notice: botocore's endpoint setting; "" where the service is off."""
    return "" if env.get(ENV_IMDS_DISABLED, "").lower() == "true" else env.get(ENV_IMDS, DEFAULT_IMDS)


def _costs(env: Mapping[str, str]) -> Costs:
    default = Costs()
    return Costs(
        price_per_gb_s=float(env.get(ENV_PRICE_GB_S, default.price_per_gb_s)),
        price_per_request=float(env.get(ENV_PRICE_REQUEST, default.price_per_request)),
        price_per_storage_gb_s=float(env.get(ENV_PRICE_STORAGE_GB_S, default.price_per_storage_gb_s)),
        render_memory_mb=int(env.get(ENV_RENDER_MEMORY_MB, default.render_memory_mb)),
        render_ephemeral_mb=int(env.get(ENV_RENDER_EPHEMERAL_MB, default.render_ephemeral_mb)),
        concurrency=int(env.get(ENV_RENDER_CONCURRENCY, default.concurrency)),
        probe_over_frames=int(env.get(ENV_PROBE_OVER, default.probe_over_frames)),
        confirm_over_usd=float(env.get(ENV_CONFIRM_OVER, default.confirm_over_usd)),
        admin_over_usd=float(env.get(ENV_ADMIN_OVER, default.admin_over_usd)),
        confirm_expiry_s=float(env.get(ENV_CONFIRM_EXPIRY, default.confirm_expiry_s)),
        max_gpu_nodes=int(env.get(ENV_MAX_GPU_NODES, default.max_gpu_nodes)),
        gpu_instance_type=env.get(ENV_GPU_INSTANCE_TYPE, default.gpu_instance_type),
        gpu_fallback_usd_per_hour=float(env.get(ENV_GPU_FALLBACK_PRICE, default.gpu_fallback_usd_per_hour)),
    )


@dataclass(frozen=True)
class SlackCredentials:
    """Slack secrets; `repr` hides them so they never reach a log."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)


SECRET_CACHE_S = 300


def slack_credentials(environ: Mapping[str, str] | None = None) -> SlackCredentials:
    """Slack secrets: from SSM Parameter Store (SecureString, cached 5 min) where a parameter is named, else the
    environment (the local stack). An explicit value in the environment wins over a parameter."""
    env = os.environ if environ is None else environ

    def secret(value_name: str, parameter_name: str) -> str:
        if env.get(value_name):
            return env[value_name]
        parameter = env.get(parameter_name, "")
        if not parameter:
            return ""
        from aws_lambda_powertools.utilities import parameters  # loads boto3: only where SSM is used

        return str(parameters.get_parameter(parameter, decrypt=True, max_age=SECRET_CACHE_S))

    return SlackCredentials(
        bot_token=secret(ENV_SLACK_BOT_TOKEN, ENV_SLACK_BOT_TOKEN_PARAM),
        signing_secret=secret(ENV_SLACK_SIGNING_SECRET, ENV_SLACK_SIGNING_SECRET_PARAM),
        app_token=env.get(ENV_SLACK_APP_TOKEN, ""),
    )
