"""The local stack's state across `down`/`up` and crashes: moto's backends pickled into `.studiobot/state/`.

As LocalStack's persistence does, but in three small pieces:
- `local.embedded.gate.Gate`, in front of moto's server: requests share the backends, a snapshot has them to itself while it pickles
  them, so a snapshot never holds half a request (a transaction half applied, a publish in one subscribed queue
  and not yet in another). Between two requests it may fall (a frame recorded, its task not yet deleted): a
  restore then delivers that task again, which the handlers take as AWS's at-least-once delivery, counting nothing
  twice.
- `StateFolder.save`: every moto backend the stack has used (CloudFormation's aside: `up` deploys the stack again),
  pickled whole and renamed into place. What moto holds that pickle cannot is reduced here: locks and events come back
  new, a Batch job (a thread) as one that never ran, a defaultdict subclass through its own class; SSM's lambda
  factory is replaced in `local.embedded.moto_patches`. A save that fails anyway is recorded by the stack (`local.embedded.unsaved`). S3 objects of `INLINE_BYTES` or more are kept once each, by content, in
  `blobs/<sha256>` beside the pickle, so a snapshot costs the state that changed, not every frame ever rendered.
- `local.embedded.carry.carry_over`, after `up` has deployed `infra/resources.yml` afresh (today's queue URLs, topic, notifications
  subscription, table indexes): the saved S3 objects, DynamoDB items and SQS messages move into the buckets, tables
  and queues of the same names; services the template makes nothing in come back as they were. Messages that were
  in flight are visible again: the workers that held them are gone.
"""

from __future__ import annotations

import _thread
import copyreg
import hashlib
import io
import os
import pickle
import shutil
import threading
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.embedded.gate import Gate

FORMAT = 1  # of the snapshot file; a snapshot of another format or moto version is set aside, not loaded
SNAPSHOT = "moto.pickle"
BLOBS = "blobs"
INLINE_BYTES = 16 * 1024  # smaller S3 objects (manifests, JSON) stay inside the pickle
NEVER_SAVED = frozenset({"cloudformation"})  # `up` deploys the stack from the template every time

# moto's service name → account → region → that service's backend
Backends = dict[str, dict[str, dict[str, Any]]]


class StateUnreadable(Exception):
    """A snapshot this moto cannot load (another moto version, a damaged file)."""


@dataclass
class Saved:
    """A snapshot as loaded: when it was taken, and the backends."""

    saved_at: float
    backends: Backends


class StateFolder:
    """`.studiobot/state/`: the latest snapshot of moto's backends and the S3 objects it refers to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blobs = path / BLOBS
        # S3 object → its content's digest (moto never changes an object's bytes: a new version is a new object)
        self._digests: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._stored: set[str] | None = None  # digests in blobs/, listed at the first save
        self._saving = threading.Lock()
        self.paused_s = 0.0  # how long the last snapshot kept moto to itself

    @property
    def snapshot(self) -> Path:
        return self.path / SNAPSHOT

    def save(self, gate: Gate, *, always: bool = False) -> bool:
        """Snapshot moto's backends if a request may have changed them since the last one; True when written."""
        with self._saving:
            with gate.held():
                if not (gate.changed or always):
                    return False
                gate.changed = False
                started = time.monotonic()
                try:
                    payload, new_blobs, used = self._pickle()
                except BaseException:
                    gate.changed = True
                    raise
                finally:
                    self.paused_s = time.monotonic() - started
            try:
                self._write(payload, new_blobs, used)  # outside the gate: moto serves while the disk works
            except BaseException:
                gate.changed = True
                raise
            return True

    def load(self) -> Saved | None:
        """The snapshot, or None when there is none; `StateUnreadable` when there is one this moto cannot load."""
        if not self.snapshot.exists():
            return None
        import moto

        try:
            with self.snapshot.open("rb") as file:
                header = pickle.load(file)
                if header.get("format") != FORMAT or header.get("moto") != moto.__version__:
                    raise StateUnreadable(
                        f"it was saved by moto {header.get('moto')} (format {header.get('format')}); "
                        f"this is moto {moto.__version__} (format {FORMAT})"
                    )
                backends = _Unpickler(file, self.blobs).load()
        except StateUnreadable:
            raise
        except Exception as error:
            raise StateUnreadable(f"{type(error).__name__}: {error}") from error
        return Saved(float(header["saved_at"]), backends)

    def set_aside(self) -> Path:
        """Move the folder out of the way (kept, not deleted) so that `up` starts empty; return where it went."""
        aside = self.path.with_name(f"{self.path.name}-set-aside-{time.strftime('%Y%m%d-%H%M%S')}")
        self.path.rename(aside)
        self._stored = None
        return aside

    def _pickle(self) -> tuple[bytes, dict[str, bytes], set[str]]:
        import moto
        from moto.core.base_backend import BackendDict

        if self._stored is None:
            self._stored = self._list_blobs()
        backends = {
            backend_dict.service_name: {account: dict(regions) for account, regions in backend_dict.items()}
            for backend_dict in list(BackendDict._instances)  # type: ignore[misc]
            if backend_dict.service_name not in NEVER_SAVED and not _a_view(backend_dict.backend)
        }
        buffer = io.BytesIO()
        pickle.dump({"format": FORMAT, "moto": moto.__version__, "saved_at": time.time()}, buffer)
        pickler = _Pickler(buffer, self._digests, self._stored)
        pickler.dump(backends)
        return buffer.getvalue(), pickler.new_blobs, pickler.used

    def _write(self, payload: bytes, new_blobs: dict[str, bytes], used: set[str]) -> None:
        assert self._stored is not None
        self.blobs.mkdir(parents=True, exist_ok=True)
        for digest, value in new_blobs.items():  # before the snapshot that names them
            _write_whole(self.blobs / digest, value)
            self._stored.add(digest)
        _write_whole(self.snapshot, payload)
        for digest in self._stored - used:  # only the snapshot now in place counts
            (self.blobs / digest).unlink(missing_ok=True)
        self._stored &= used

    def _list_blobs(self) -> set[str]:
        if not self.blobs.is_dir():
            return set()
        for partial in self.blobs.glob("*.part"):  # a save that did not finish
            partial.unlink(missing_ok=True)
        return {path.name for path in self.blobs.iterdir()}


def forget(path: Path) -> bool:
    """Delete the saved state (`studiobot down --forget`); False when there was none."""
    if not path.exists():
        return False
    shutil.rmtree(path)
    return True


def _write_whole(path: Path, data: bytes) -> None:
    """Write `path` so that a crash leaves the old file or the new one, never a part of one."""
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _a_view(backend_class: type) -> bool:
    """moto's Docker-less Batch is a view of the real Batch backend (same service name, no state of its own):
    saving it would overwrite Batch's state with a view, which does not even pickle."""
    from moto.batch_simple.models import BatchSimpleBackend

    return issubclass(backend_class, BatchSimpleBackend)


def _batch_view(account_id: str, region_name: str) -> Any:
    """The Docker-less Batch view of this account and region (a Batch job names the backend it was sent to)."""
    from moto.batch_simple.models import batch_simple_backends

    return batch_simple_backends[account_id][region_name]


def _new_defaultdict(kind: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    """A defaultdict subclass made without its own `__init__` (SSM's takes an account and a region)."""
    made = defaultdict.__new__(kind)
    defaultdict.__init__(made, factory)
    return made


def _thread_state(thread: threading.Thread, state: dict[str, Any]) -> None:
    """A thread (a Batch job is one) back as a thread that never ran: its own attributes and no running state."""
    threading.Thread.__init__(thread)
    vars(thread).update(state)


_THREAD_OWN = frozenset(vars(threading.Thread()))  # what `Thread.__init__` sets: made afresh, never saved


@dataclass(frozen=True)
class _Blob:
    digest: str


_LOCK, _RLOCK = _thread.LockType, type(threading.RLock())


class _Pickler(pickle.Pickler):
    """Pickles moto's backends: locks come back new and free, big S3 objects are left out and named by digest."""

    def __init__(
        self, file: io.BytesIO, digests: weakref.WeakKeyDictionary[Any, str], stored: set[str]
    ) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        from moto.batch_simple.models import BatchSimpleBackend
        from moto.s3.models import FakeKey

        self.fake_key = FakeKey
        self.batch_view = BatchSimpleBackend
        self.digests = digests
        self.stored = stored
        self.new_blobs: dict[str, bytes] = {}
        self.used: set[str] = set()

    def persistent_id(self, obj: Any) -> str | None:
        return obj.digest if type(obj) is _Blob else None

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _LOCK:
            return threading.Lock, ()
        if kind is _RLOCK:
            return threading.RLock, ()
        if kind is threading.Condition:
            return threading.Condition, ()
        if kind is threading.Event:
            return threading.Event, ()
        if kind is self.batch_view:
            return _batch_view, (obj.account_id, obj.region_name)
        if isinstance(obj, threading.Thread):
            state = {name: value for name, value in vars(obj).items() if name not in _THREAD_OWN}
            return copyreg.__newobj__, (kind,), state, None, None, _thread_state  # type: ignore[attr-defined]
        if isinstance(obj, defaultdict) and kind is not defaultdict:
            return _new_defaultdict, (kind, obj.default_factory), vars(obj) or None, None, iter(obj.items())
        if isinstance(obj, self.fake_key):
            digest = self._digest(obj)
            if digest is not None:  # as moto's own __getstate__, with the value as a reference to its blob
                state = {
                    name: value for name, value in vars(obj).items() if name not in ("_value_buffer", "lock")
                }
                state["value"] = _Blob(digest)
                return copyreg.__newobj__, (kind,), state  # type: ignore[attr-defined]
        return NotImplemented

    def _digest(self, key: Any) -> str | None:
        digest = self.digests.get(key)
        if digest is None or (digest not in self.stored and digest not in self.new_blobs):
            if vars(key).get("contentsize", 0) < INLINE_BYTES:
                return None
            try:
                value = key.value
            except ValueError:  # a deleted object's buffer is closed: moto's own pickling keeps it empty
                return None
            digest = hashlib.sha256(value).hexdigest()
            self.digests[key] = digest
            if digest not in self.stored:
                self.new_blobs[digest] = value
        self.used.add(digest)
        return digest


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, blobs: Path) -> None:
        super().__init__(file)
        self.blobs = blobs

    def persistent_load(self, pid: Any) -> bytes:
        return (self.blobs / str(pid)).read_bytes()
