"""The grammar of `/render SCENE FRAMES [options]` in Slack and `studiobot render …` on the command line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backend.commands import Caller, CommandGrammar, Help, Reply, Said, whole_number
from backend.config import Limits, Settings
from backend.errors import ValidationError
from backend.render.blenders import major_minor, short
from backend.render.frames import check_frame_spec
from backend.render.movie_grammar import MovieRequest, parse_movie
from backend.render.records import Priority
from backend.render.spend import CostsCommand, parse_costs
from backend.render.tasks import CPU, ENGINES, FORMATS, RENDER_CLASSES, RenderSettings
from backend.render.tiles import parse_grid

RENDER_USAGE = (
    "`/render SCENE FRAMES [--res WxH] [--samples N] [--engine CYCLES|BLENDER_WORKBENCH|BLENDER_EEVEE] "
    "[--format PNG|JPEG|OPEN_EXR|OPEN_EXR_MULTILAYER] [--chunk N] [--tiles 4x4|auto] [--on cpu|gpu] [--assets PREFIX] "
    "[--blender 4.5|5.0] [--priority urgent|normal|low] [--allow-missing] [--dry-run]`, "
    "e.g. `/render shot010/shot.blend 1-240 --res 1920x1080 --samples 64`"
)
# `/render WORD …`: these first words are subcommands; any other first word is a scene to render.
RENDER_SUBCOMMANDS = frozenset({"help", "status", "list", "cancel", "retry", "submit", "costs"})
RENDER_SUBCOMMANDS |= {"hold", "resume", "priority"}  # a running job held, resumed, re-prioritised
RENDER_SUBCOMMANDS |= {"movie"}  # a job's dailies movie made again (`backend.render.movie_grammar`)
# Subcommands that act on one job and so need its id.
RENDER_JOB_SUBCOMMANDS = frozenset({"cancel", "retry", "submit", "hold", "resume"})
PRIORITY_USAGE = "`/render priority JOB urgent|normal|low`, e.g. `/render priority r1a2b3c4d5 urgent`"
_VALUE_OPTIONS = (
    "--res", "--samples", "--engine", "--format", "--chunk", "--tiles", "--on", "--assets", "--priority",
    "--blender",
)  # fmt: skip
_FLAG_OPTIONS = ("--dry-run", "--allow-missing")
RETRY_USAGE = "`/render retry JOB [--tiles 4x4|auto] [--samples N] [--res WxH]`"
_RETRY_OPTIONS = ("--tiles", "--samples", "--res")  # what makes a failed frame lighter, or cut
_RESOLUTION = re.compile(r"^([0-9]+)[x×]([0-9]+)$")  # ASCII digits: `\d` also matches `١٩٢٠`


@dataclass(frozen=True)
class RenderRequest:
    """What the person asked to render, checked for form (not yet against S3)."""

    scene: str
    frames: str
    settings: RenderSettings
    assets_prefix: str | None = None
    dry_run: bool = False
    allow_missing: bool = False  # render although the shot's manifest lists missing files
    # Frames chosen by the farm, not typed (a retry's failed frames, any count and pattern): used instead of `frames`.
    frame_list: tuple[int, ...] = ()
    priority: Priority = Priority.NORMAL  # the lane its tasks wait in (`--priority`)


@dataclass(frozen=True)
class RetryRequest:
    """`/render retry JOB [--tiles …] [--samples N] [--res WxH]`: what to change for the failed frames."""

    job_id: str
    tiles: tuple[int, int] | None = None
    tiles_auto: bool = False
    samples: int | None = None
    resolution: tuple[int, int] | None = None

    @property
    def changes(self) -> bool:
        return bool(self.tiles or self.tiles_auto or self.samples or self.resolution)


def parse_retry(words: Sequence[str], limits: Limits | None = None) -> RetryRequest:
    """Parse the words after `retry` into a RetryRequest; raise ValidationError with a usage hint."""
    limits = limits or Limits()
    positional, options, flags = _words(words, _RETRY_OPTIONS, RETRY_USAGE, "retry")
    if len(positional) != 1 or flags:
        raise ValidationError(
            f"Say which job to retry, e.g. `/render retry r1a2b3c4d5` (`/render list` shows them). "
            f"Usage: {RETRY_USAGE}."
        )
    tiles, tiles_auto = _tiles(options.get("--tiles"))
    return RetryRequest(
        job_id=positional[0],
        tiles=tiles,
        tiles_auto=tiles_auto,
        samples=_positive("--samples", options.get("--samples"), limits.max_samples),
        resolution=_resolution(options.get("--res"), limits),
    )


def _words(
    words: Sequence[str], value_options: Sequence[str], usage: str, sub: str = ""
) -> tuple[list[str], dict[str, str], set[str]]:
    """The positional words, the options with their values and the flags; ValidationError for an unknown one."""
    positional: list[str] = []
    options: dict[str, str] = {}
    flags: set[str] = set()
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, has_value, value = word.partition("=")
        if name in _FLAG_OPTIONS and not has_value and not sub:
            flags.add(name)
            continue
        if name not in value_options:
            said = f"`{name}` is not an option of `{sub}`" if sub else f"Unknown option `{name}`"
            raise ValidationError(f"{said}. Usage: {usage}.")
        if not has_value:
            if index >= len(words) or words[index].startswith("--"):
                raise ValidationError(f"`{name}` needs a value. Usage: {usage}.")
            value = words[index]
            index += 1
        if name in options:
            raise ValidationError(f"`{name}` is given twice: give it once.")
        options[name] = value
    return positional, options, flags


def parse_render(words: Sequence[str], limits: Limits | None = None) -> RenderRequest:
    """Parse the words after `render` into a RenderRequest; raise ValidationError with a usage hint."""
    limits = limits or Limits()
    positional, options, flags = _words(words, _VALUE_OPTIONS, RENDER_USAGE)
    if not positional:
        raise ValidationError(f"Say which scene and frames to render. Usage: {RENDER_USAGE}.")
    if len(positional) == 1:
        raise ValidationError(f"Say which frames of `{positional[0]}` to render, e.g. `1-240`.")
    frames = " ".join(positional[1:])  # `1-10 20-30`: spaces separate parts as commas do
    check_frame_spec(frames, limits.max_frames_per_job)  # its form, cheaply (no fileseq): the ack answers it
    tiles, tiles_auto = _tiles(options.get("--tiles"))
    if tiles and options.get("--chunk") not in (None, "1"):
        raise ValidationError("`--tiles` renders one frame as many tasks: leave out `--chunk`.")
    settings = RenderSettings(
        resolution=_resolution(options.get("--res"), limits),
        samples=_positive("--samples", options.get("--samples"), limits.max_samples),
        engine=_choice("--engine", options.get("--engine"), ENGINES),
        file_format=_choice("--format", options.get("--format"), tuple(FORMATS)),
        chunk=_positive("--chunk", options.get("--chunk"), limits.max_chunk) or 1,
        tiles=tiles,
        tiles_auto=tiles_auto,
        render_class=(
            _choice("--on", options.get("--on"), [name.upper() for name in RENDER_CLASSES]) or CPU
        ).lower(),
        blender=_blender(options.get("--blender")),
    )
    return RenderRequest(
        scene=positional[0],
        frames=frames,
        settings=settings,
        assets_prefix=options.get("--assets"),
        dry_run="--dry-run" in flags,
        allow_missing="--allow-missing" in flags,
        priority=parse_priority(options.get("--priority")),
    )


def parse_priority(value: str | None) -> Priority:
    """`--priority urgent|normal|low` (any case); NORMAL when not given; ValidationError naming the three."""
    if value is None:
        return Priority.NORMAL
    try:
        return Priority(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"`--priority {value}` is not a priority: use `urgent`, `normal` or `low`."
        ) from None


def _resolution(value: str | None, limits: Limits) -> tuple[int, int] | None:
    if value is None:
        return None
    match = _RESOLUTION.match(value.strip().lower())
    if match is None:
        raise ValidationError(
            f"`--res {value}` is not a resolution: use width x height, e.g. `--res 1920x1080`."
        )
    max_width, max_height = limits.max_resolution
    outside = f"`--res {value}` is outside 1x1 to {max_width}x{max_height}: e.g. `--res 1920x1080`."
    return whole_number(match[1], 1, max_width, outside), whole_number(match[2], 1, max_height, outside)


def _tiles(value: str | None) -> tuple[tuple[int, int] | None, bool]:
    """`--tiles 4x4` → ((4, 4), False); `--tiles auto` → (None, True): the probes plan them."""
    if value is None:
        return None, False
    try:
        grid = parse_grid(value)
    except ValueError as error:
        raise ValidationError(str(error)) from error
    return grid, grid is None


def _positive(name: str, value: str | None, maximum: int) -> int | None:
    if value is None:
        return None
    return whole_number(
        value, 1, maximum, f"`{name} {value}` must be a whole number from 1 to {maximum:,}, e.g. `{name} 16`."
    )


def _blender(value: str | None) -> str:
    """`--blender 4.5` (major.minor; the farm's versions are checked at submission); "" when not given."""
    if value is None:
        return ""
    if major_minor(value) is None:
        raise ValidationError(
            f"`--blender {value}` is not a Blender version: give major.minor, e.g. `--blender 4.5`."
        )
    return short(value)


def _choice(name: str, value: str | None, choices: Sequence[str]) -> str | None:
    if value is None:
        return None
    upper = value.upper()
    if upper == "EEVEE":
        upper = "BLENDER_EEVEE"
    elif upper == "WORKBENCH":
        upper = "BLENDER_WORKBENCH"
    elif upper in ("EXR", "OPENEXR"):
        upper = "OPEN_EXR"
    elif upper in ("EXR_MULTILAYER", "MULTILAYER", "OPEN_EXR_MULTI_LAYER"):
        upper = "OPEN_EXR_MULTILAYER"
    elif upper == "JPG":
        upper = "JPEG"
    if upper not in choices:
        raise ValidationError(
            f"`{name} {value}` is not one of {', '.join(choices)}: e.g. `{name} {choices[0]}`."
        )
    return upper


def render_subcommand(words: list[str]) -> str | None:
    """The subcommand of `/render WORDS` (`status`, `cancel`…), or None when the words ask for a render."""
    return words[0].lower() if words and words[0].lower() in RENDER_SUBCOMMANDS else None


# -- `/render`'s commands, as the desk runs them -------------------------------------------------------------------


@dataclass(frozen=True)
class RenderJob:
    """`/render SCENE FRAMES [options]`: render it."""

    request: RenderRequest


@dataclass(frozen=True)
class JobCommand:
    """`/render status|list|cancel|retry|submit|help [JOB]`: about one job (`status` without one: the latest, `list`
    and `help`: none); `retry` with what to change for the failed frames."""

    action: str
    job_id: str | None = None
    changes: RetryRequest | None = None
    priority: Priority | None = None  # `priority`'s new level
    movie: MovieRequest | None = None  # `movie`'s frame rate and frames


RenderCommand = RenderJob | JobCommand | CostsCommand


def parse_command(words: Sequence[str], limits: Limits | None = None) -> RenderCommand:
    """The words after `/render` as a command; ValidationError for anything wrong that needs no AWS call to see."""
    limits = limits or Limits()
    sub = render_subcommand(list(words))
    if not words or sub == "help":
        return JobCommand("help")
    if sub is None:
        return RenderJob(parse_render(words, limits))
    rest = list(words[1:])
    if sub == "costs":  # who spent what in a month (`backend.render.spend`)
        return parse_costs(rest)
    if sub == "priority":  # its job, and the lane its frames wait in from now on
        return parse_reprioritise(rest)
    if sub == "movie":  # its job, and the frame rate and frames of the cut
        request = parse_movie(rest, limits)
        return JobCommand(sub, request.job_id, movie=request)
    if sub == "retry":  # its job, and what to change for the failed frames
        changes = parse_retry(rest, limits)
        return JobCommand(sub, changes.job_id, changes)
    if sub in RENDER_JOB_SUBCOMMANDS and len(rest) != 1:
        raise ValidationError(
            f"Say which job to {sub}, e.g. `/render {sub} r1a2b3c4d5` (`/render list` shows them)."
        )
    if (sub == "status" and len(rest) > 1) or (sub == "list" and rest):
        raise ValidationError(f"`/render {sub}` takes {'one job id' if sub == 'status' else 'nothing more'}.")
    return JobCommand(sub, rest[0] if rest else None)


def parse_reprioritise(words: Sequence[str]) -> JobCommand:
    """The words after `priority`: a job and its new level; ValidationError with the usage otherwise."""
    if len(words) != 2 or words[0].startswith("--"):
        raise ValidationError(f"Say which job and which priority. Usage: {PRIORITY_USAGE}.")
    level = words[1].lower()
    if level not in {priority.value for priority in Priority}:
        raise ValidationError(
            f"`{words[1]}` is not a priority: say urgent, normal or low. Usage: {PRIORITY_USAGE}."
        )
    return JobCommand("priority", words[0], priority=Priority(level))


class RenderGrammar(CommandGrammar[RenderCommand]):
    """`/render`: help, refusals and mistakes in the words are answered at once; the rest asks AWS."""

    refusal_reply = Said

    def parse(self, words: Sequence[str], settings: Settings) -> RenderCommand:
        return parse_command(words, settings.limits)

    def at_once(self, command: RenderCommand, caller: Caller, settings: Settings) -> Reply | None:
        return Help() if isinstance(command, JobCommand) and command.action == "help" else None
