"""Render submission: validate a request against limits and S3, store the job, fan its tasks out over SQS."""

from __future__ import annotations

import hashlib
import posixpath
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from backend.aws.s3 import ObjectInfo
from backend.config import Settings
from backend.errors import NotFoundError, ValidationError
from backend.names import check
from backend.render.bare_scenes import missing_in_bucket, traced_in_bucket
from backend.render.blenders import DEFAULT_BLENDER, Route, route
from backend.render.frames import compact, normal_spec, parse_frame_spec, plan_tasks
from backend.render.grammar import RenderRequest, RetryRequest
from backend.render.manifest import FileUse, Manifest, image_gaps, manifest_key_for, missing_text
from backend.render.manifest_schema import BadManifest
from backend.render.ports import Phases, SceneStore, SubmittedJobs
from backend.render.records import Job, job_id_for
from backend.render.retrying import check_retryable, retry_request, retry_token
from backend.render.store.roster import NO_GPU_NODE, NodePresence, a_node_can_come
from backend.render.tasks import GPU, RenderSettings
from backend.render.tiles import tile_count


@dataclass(frozen=True)
class RenderPlan:
    """What a job will do (`bot.messages.render_plan` words it for `--dry-run` and the CLI)."""

    scene_bucket: str
    scene_key: str
    scene_etag: str
    frames: list[int]
    tasks: list[list[int]]
    request: RenderRequest
    assets: list[ObjectInfo]
    manifest: Manifest | None = None  # the shot's, when it was shipped with one
    manifest_etag: str = ""
    missing: int = 0  # files, tiles and sequence frames the render reads that are not there
    blender: Route | None = None  # the Blender that renders it, and why (`backend.render.blenders`)

    @property
    def shot_version(self) -> str:
        """What the job would render, as one digest: the scene's, its manifest's and every support file's ETag."""
        assets = sorted(f"{item.key}={item.etag}" for item in self.assets)
        parts = [self.scene_bucket, self.scene_key, self.scene_etag, self.manifest_etag, *assets]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Submission:
    """The outcome of a submit: the plan, and the job unless it was a dry run."""

    plan: RenderPlan
    job: Job | None
    created: bool


class SubmissionService:
    """Turns a RenderRequest into a stored job and its tasks on the render queue."""

    def __init__(
        self,
        scenes: SceneStore,
        jobs: SubmittedJobs,
        fanout: Phases,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        nodes: NodePresence | None = None,
    ) -> None:
        self.scenes = scenes
        self.jobs = jobs
        self.fanout = fanout
        self.settings = settings
        self.clock = clock
        self.nodes = nodes  # where no node is launched for a job, a gpu job needs one that is there

    def plan(self, request: RenderRequest) -> RenderPlan:
        """Check everything about a request; nothing changes but the manifest written when a scene put in the
        bucket by hand is traced for the first time."""
        if request.settings.render_class == GPU and not self.settings.gpu_queue_url:
            raise ValidationError(
                "This deployment has no GPU render nodes: leave out `--on gpu` (the CPU farm renders it), or ask "
                "an admin to deploy the `gpu` class (README: Render classes)."
            )
        if request.settings.render_class == GPU and not a_node_can_come(
            self.fanout.gpu_nodes, self.nodes, GPU
        ):
            raise ValidationError(NO_GPU_NODE)
        if request.frame_list:  # a retry's failed frames: from the store, not through the spec grammar
            frames = sorted(set(request.frame_list))
        else:
            frames = parse_frame_spec(request.frames, self.settings.limits.max_frames_per_job)
        scene_key = scene_key_for(request.scene, self.settings.scenes_prefix)
        bucket = self.settings.scenes_bucket
        try:
            scene = self.scenes.head(bucket, scene_key)
        except NotFoundError as error:
            raise ValidationError(
                f"There is no scene `{scene_key}` in the bucket `{bucket}`: check the name, or upload it first "
                f"(`studiobot render path/to/scene.blend 1-24` uploads a local file)."
            ) from error
        recorded, manifest_etag = self._recorded_manifest(bucket, scene_key)
        assets: list[ObjectInfo] = []
        missing: tuple[FileUse, ...] | list[FileUse] = ()
        if request.assets_prefix:
            assets_prefix = assets_prefix_for(request.assets_prefix, self.settings.scenes_prefix, scene_key)
            assets = self.scenes.list_prefix(bucket, assets_prefix)
            if not assets:
                raise ValidationError(
                    f"There are no support files under `{assets_prefix}` in the bucket `{bucket}`: "
                    f"upload them there, or leave out `--assets`."
                )
            self._within_cap(sum(item.size for item in assets), assets_prefix)
        if recorded is not None and _replaced_by_hand(recorded, scene):
            recorded = None  # its shipped manifest describes the scene that was there before
        if recorded is not None and not recorded.traced:  # shipped as a shot
            manifest: Manifest | None = recorded
            gaps = image_gaps(recorded.images, set(recorded.files), frames, recorded.missing)
            missing = (*recorded.missing, *gaps)
            blender = self._check(recorded, missing, request)
            self._within_cap(recorded.total_bytes, scene_key)
        else:  # put in the bucket by hand: traced once, its files looked for under --assets
            manifest, manifest_etag, blender = None, "", self._route(scene_key, "", request)
            traced = traced_in_bucket(self.scenes, bucket, scene, recorded)
            if traced is not None:
                missing = missing_in_bucket(traced, scene_key, assets, frames)
                blender = self._check(traced, missing, request)
        return RenderPlan(
            scene_bucket=bucket,
            scene_key=scene_key,
            scene_etag=scene.etag,
            frames=frames,
            tasks=plan_tasks(frames, 1 if request.settings.tiles else request.settings.chunk),
            request=request,
            assets=assets,
            manifest=manifest,
            manifest_etag=manifest_etag,
            missing=len(missing),
            blender=blender,
        )

    def _recorded_manifest(self, bucket: str, scene_key: str) -> tuple[Manifest | None, str]:
        """The manifest beside the scene, shipped with it or written when it was traced; None when there is none."""
        key = manifest_key_for(scene_key)
        # Looked for by listing: without s3:ListBucket on the key itself, S3 answers a missing key with 403.
        if not any(item.key == key for item in self.scenes.list_prefix(bucket, key)):
            return None, ""
        try:
            text, etag = self.scenes.read(bucket, key)
            return Manifest.from_json(text), etag
        except BadManifest as error:
            raise ValidationError(f"`{scene_key}`: {error}") from error
        except (NotFoundError, ValueError, KeyError) as error:
            raise ValidationError(
                f"The manifest of `{scene_key}` cannot be read: ship the shot again with `studiobot upload`."
            ) from error

    def _within_cap(self, total: int, name: str) -> None:
        """Refused when a render node would refuse it: more bytes than one shot may hold."""
        cap = self.settings.limits.max_shot_bytes
        if total > cap:
            raise ValidationError(
                f"`{name}` holds {total / 1e9:,.1f} GB, more than the {cap / 1e9:,.0f} GB a render node takes for "
                "one shot: render a smaller shot, or name only the folder it needs with `--assets`."
            )

    def _check(
        self, manifest: Manifest, missing: tuple[FileUse, ...] | list[FileUse], request: RenderRequest
    ) -> Route:
        """The Blender that renders the shot (refused when the farm has none as new as the one that saved it), or
        refused when files are missing (unless `--allow-missing`)."""
        blender = self._route(manifest.scene, manifest.blender, request)
        if missing and not request.allow_missing:
            raise ValidationError(missing_text(missing, manifest.scene))
        return blender

    def _rendered_by(self, settings: RenderSettings, blender: Route | None) -> RenderSettings:
        """The job's settings with the Blender that renders it and the one that saved the shot; as asked on a
        one-version farm rendering a shot with the Blender that saved it (its jobs and tasks read as before)."""
        plain = self.settings.lanes.blenders == (DEFAULT_BLENDER,) and not (blender and blender.note)
        if blender is None or (plain and not blender.overridden):
            return settings
        return replace(settings, blender=blender.blender, saved_by=blender.saved_by)

    def _route(self, scene: str, saved_by: str, request: RenderRequest) -> Route:
        chosen = route(scene, saved_by, self.settings.lanes.blenders, request.settings.blender or None)
        if not self.settings.lanes.deploys(request.settings.render_class, chosen.blender):
            raise ValidationError(
                f"This farm has no `{request.settings.render_class}` class of Blender {chosen.blender}, which "
                f"renders `{scene}`: leave out `--on {request.settings.render_class}`."
            )
        return chosen

    def submit(
        self,
        request: RenderRequest,
        requested_by: str,
        channel: str = "",
        client_token: str | None = None,
        retry_of: str = "",
        plan: RenderPlan | None = None,
    ) -> Submission:
        """Validate (unless given the request's `plan`), store and enqueue; the same client token returns the same
        job and enqueues nothing new."""
        plan = plan or self.plan(request)
        if request.dry_run:
            return Submission(plan=plan, job=None, created=False)
        job_id = job_id_for(client_token or uuid.uuid4().hex)
        status, probe_frames, approval = self.fanout.first_phase(
            plan.frames, requested_by, request.settings.tiles_auto
        )
        now = self.clock()
        assets_prefix = (
            assets_prefix_for(request.assets_prefix, self.settings.scenes_prefix, plan.scene_key)
            if request.assets_prefix
            else None
        )
        job, created = self.jobs.create(
            Job(
                job_id=job_id,
                status=status,
                scene_bucket=plan.scene_bucket,
                scene_key=plan.scene_key,
                scene_etag=plan.scene_etag,
                frames_spec=compact(plan.frames) if request.frame_list else normal_spec(request.frames),
                total=len(plan.frames),
                task_count=len(plan.tasks) * tile_count(request.settings.tiles),
                settings=self._rendered_by(request.settings, plan.blender),
                output_bucket=self.settings.outputs_bucket,
                output_prefix=f"outputs/{job_id}/",
                assets_prefix=assets_prefix,
                manifest_key=manifest_key_for(plan.scene_key) if plan.manifest else "",
                manifest_etag=plan.manifest_etag,
                shot_version=plan.shot_version,
                missing_allowed=plan.missing,
                requested_by=requested_by,
                channel=channel,
                created_at=now,
                retry_of=retry_of,
                probe_frames=probe_frames,
                approval=approval.who if approval else "",
                approval_reason=approval.reason if approval else "",
                awaiting_since=now if approval else None,
                priority=request.priority,
            )
        )
        # A resubmission queues only what the first attempt did not get to (each phase's claim is a lease).
        job = self.fanout.go(job)
        if created and job.settings.render_class == GPU and self.nodes is not None:
            self.nodes.watch(job.job_id)  # the sweep says so if no node has taken it in 10 min
        return Submission(plan=plan, job=job, created=created)

    def retry(
        self,
        job: Job,
        failed_frames: list[int],
        requested_by: str,
        channel: str,
        changes: RetryRequest | None = None,
    ) -> Submission:
        """A new job for a finished job's failed frames (`retrying.retry_request`); asking again the same way
        returns that same retry job."""
        check_retryable(job, failed_frames)
        request = retry_request(job, self.jobs.frames_at(job.job_id, failed_frames), changes)
        token = retry_token(job.job_id, changes)
        return self.submit(request, requested_by, channel, client_token=token, retry_of=job.job_id)


def _relative_key(text: str, what: str, example: str) -> PurePosixPath:
    path = PurePosixPath(text.strip())
    if not text.strip() or path.is_absolute() or text.strip().startswith(("s3:", "\\")):
        raise ValidationError(f"{what} `{text}` must be a path inside the scenes bucket, e.g. `{example}`.")
    if ".." in path.parts:
        raise ValidationError(
            f"{what} `{text}` may not contain `..`: give its path from the top, e.g. `{example}`."
        )
    # Backslashes, drive letters, control characters, look-alikes of `/` and `.`: the one rule for names.
    check(str(path), what, example)
    return path


def scene_key_for(scene: str, scenes_prefix: str) -> str:
    """The S3 key of a scene named by a user: relative, no `..`, a `.blend`, under the scenes prefix."""
    path = _relative_key(scene, "The scene", "shot010/shot.blend")
    if path.suffix.lower() != ".blend":
        raise ValidationError(
            f"`{scene}` is not a Blender scene: give a `.blend` file, e.g. `shot010/shot.blend`."
        )
    key = str(path)
    return key if key.startswith(scenes_prefix) else scenes_prefix + key


def assets_prefix_for(prefix: str, scenes_prefix: str, scene_key: str = "") -> str:
    """The S3 prefix of a job's support files, ending in `/`: with `scene_key` (every submission), the scene's own
    folder or one inside it — never the whole scenes bucket, which every worker would download."""
    key = str(_relative_key(prefix, "The support files folder", "shot010/textures/")) + "/"
    key = key if key.startswith(scenes_prefix) else scenes_prefix + key
    own = posixpath.dirname(scene_key) + "/"
    if scene_key and (not key.startswith(own) or key == scenes_prefix):
        folder = own.removeprefix(scenes_prefix) or "shot010/"
        raise ValidationError(
            f"`--assets {prefix.strip()}` is not the folder of `{scene_key.removeprefix(scenes_prefix)}`: name the "
            f"shot's own folder or one inside it, e.g. `--assets {folder}textures`."
        )
    return key


def _replaced_by_hand(manifest: Manifest, scene: ObjectInfo) -> bool:
    """Whether the scene at a shipped shot's key is no longer the one shipped (someone put another there)."""
    return not manifest.traced and bool(manifest.scene_etag) and manifest.scene_etag != scene.etag
