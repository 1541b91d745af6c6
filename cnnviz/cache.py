"""The trained-model cache: keys, atomic entries, a lock per entry, discarding bad entries.

An entry is a directory holding ``model.keras``, ``history.json``,
``epochs.npz`` (the weights at the start and after every epoch, float32)
and ``manifest.json`` (the SHA-256 of the other three, written last). It is
written to a temporary directory beside its final place and renamed into
place, so an entry is either complete or absent. Loading checks the
SHA-256s and uses Keras' ``safe_mode=True``; an entry that fails either is
reported, moved aside and removed, and the caller builds it again.

:func:`~cnnviz.trained_lenet5` is the public face of this module; what goes
into a key (the model's configuration, the recipe's settings and version, the
data checksums) is decided there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

#: Environment variable naming the trained-model cache directory.
CACHE_DIR_ENV = "CNNVIZ_CACHE_DIR"

History = dict[str, list[float]]
#: The weights (``model.get_weights()``) before training, then after each epoch.
EpochWeights = list[list[np.ndarray]]


def cache_dir(directory: str | os.PathLike | None = None) -> Path:
    """Return the cache directory: `directory`, else ``$CNNVIZ_CACHE_DIR``, else XDG's."""
    if directory is not None:
        return Path(directory).expanduser()
    setting = os.environ.get(CACHE_DIR_ENV)
    if setting is not None and setting.strip():
        if setting != setting.strip():
            raise ValueError(
                f"{CACHE_DIR_ENV}={setting!r} starts or ends with white space; "
                "give the directory's path without it"
            )
        return Path(setting).expanduser()
    if setting is not None and setting:
        raise ValueError(
            f"{CACHE_DIR_ENV}={setting!r} names no directory; unset it or give a directory"
        )
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnviz"


def key(material: dict[str, Any]) -> str:
    """Return the SHA-256 of `material` plus the versions of Keras and TensorFlow.

    `material` must be JSON-serialisable: everything that changes what the
    entry holds (the model's configuration, the recipe's settings and
    version, the data checksums); keys are sorted, so the order in which it
    was built does not count. cnnviz's own version is not part of it: a
    release that changes what training computes bumps the recipe's version,
    and one that does not keeps its users' cached models.
    """
    import tensorflow as tf

    versions = {"keras": keras.__version__, "tensorflow": tf.__version__}
    return hashlib.sha256(json.dumps({**material, **versions}, sort_keys=True).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The files of an entry besides its manifest; the manifest must name each of them.
_FILES = ("model.keras", "history.json", "epochs.npz")


def _epoch_key(epoch: int, index: int) -> str:
    """Name weight array `index` after `epoch` in ``epochs.npz``."""
    return f"epoch{epoch:04d}_weight{index:04d}"


def read_entry(entry: Path) -> tuple[keras.Model, History]:
    """Load an entry after checking that it is complete and unchanged; raise if not.

    The manifest must say which entry it belongs to (its directory's name,
    which is the key) and give the SHA-256 of every file: a manifest copied
    from another entry, or one that leaves a file out, makes a bad entry.
    """
    manifest = json.loads((entry / "manifest.json").read_text())
    if not isinstance(manifest, dict) or manifest.get("entry") != entry.name:
        raise ValueError(f"{entry / 'manifest.json'} does not belong to the entry {entry.name}")
    recorded = manifest.get("sha256")
    if not isinstance(recorded, dict) or sorted(recorded) != sorted(_FILES):
        raise ValueError(
            f"{entry / 'manifest.json'} must give the SHA-256 of {list(_FILES)}; "
            f"it gives {sorted(recorded) if isinstance(recorded, dict) else recorded!r}"
        )
    for name, sha in recorded.items():
        if file_sha256(entry / name) != sha:
            raise ValueError(f"{entry / name} does not match its recorded SHA-256")
    history = json.loads((entry / "history.json").read_text())
    model = keras.models.load_model(entry / "model.keras", safe_mode=True)
    return model, history


def epoch_weights(entry: Path, epoch: int) -> list[np.ndarray]:
    """Return the weights after `epoch` (0: before training) from an entry :func:`load` accepted."""
    with np.load(entry / "epochs.npz", allow_pickle=False) as stored:
        count = sum(name.startswith(f"epoch{epoch:04d}_") for name in stored.files)
        if count == 0:
            raise ValueError(f"{entry / 'epochs.npz'} holds no weights for epoch {epoch}")
        return [stored[_epoch_key(epoch, i)] for i in range(count)]


def write_entry(entry: Path, model: keras.Model, history: History, epochs: EpochWeights) -> None:
    """Write an entry into a temporary directory beside it, then rename it into place."""
    tmp = temporary_dir(entry.parent, entry.name)
    try:
        model.save(tmp / "model.keras")
        (tmp / "history.json").write_text(json.dumps(history))
        np.savez(
            tmp / "epochs.npz",
            **{
                _epoch_key(epoch, i): np.asarray(w, np.float32)
                for epoch, weights in enumerate(epochs)
                for i, w in enumerate(weights)
            },
        )
        manifest = {
            "entry": entry.name,
            "sha256": {name: file_sha256(tmp / name) for name in _FILES},
        }
        # The manifest is written last: an entry without it is incomplete.
        (tmp / "manifest.json").write_text(json.dumps(manifest))
        try:
            tmp.rename(entry)
        except OSError:
            if not (entry / "manifest.json").is_file():
                raise
            # Another process stored the same entry first; theirs is as good.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(entry: Path) -> tuple[keras.Model, History] | None:
    """Return the model and history stored in `entry`, or None; discard a bad entry."""
    if not entry.exists():
        return None
    try:
        return read_entry(entry)
    except Exception as error:  # noqa: BLE001 - whatever is wrong with an entry, rebuild it
        warnings.warn(
            f"cnnviz: the cached model {entry} is unusable ({type(error).__name__}: "
            f"{error}); training it again",
            UserWarning,
            stacklevel=3,
        )
        discard(entry)
        return None


def store(entry: Path, model: keras.Model, history: History, epochs: EpochWeights) -> None:
    """Write an entry; if the cache cannot be written, warn and go on without it."""
    try:
        write_entry(entry, model, history, epochs)
    except OSError as error:
        warnings.warn(
            f"cnnviz: could not write the model cache {entry.parent} ({error}); "
            "returning the trained model uncached",
            UserWarning,
            stacklevel=3,
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def remove_leftovers(directory: Path) -> list[Path]:
    """Remove the temporary and discarded directories of processes that died; return them.

    A process killed while it wrote an entry leaves ``.<entry>.<pid>.<random>.tmp``;
    one killed while it removed a bad entry leaves ``.<entry>.<pid>.trash``. Those
    of live processes (which may still be writing) are left alone.
    """
    removed = []
    for path in directory.glob(".*.*"):
        parts = path.name.split(".")
        if not path.is_dir() or parts[-1] not in ("tmp", "trash"):
            continue
        pid = parts[-3] if parts[-1] == "tmp" else parts[-2]
        if pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def temporary_dir(parent: Path, name: str) -> Path:
    """Make a temporary directory in `parent` for what becomes the directory `name` there.

    `parent` is created if need be, and the leftovers of dead processes in it
    are removed first. The name, ``.<name>.<pid>.<random>.tmp``, tells
    :func:`remove_leftovers` whose it is.
    """
    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(parent)
    return Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=parent))


def set_aside(path: Path, directory: Path) -> Path:
    """Rename `path` to ``.<name>.<pid>.trash`` in `directory`, to be removed; return that.

    A removal that is cut short leaves the set-aside copy, for
    :func:`remove_leftovers`, never a half-removed `path`. One left under this
    name by an earlier process with the same process id (it died; ids are
    reused) is removed first. Raises OSError if `path` cannot be renamed.
    """
    trash = directory / f".{path.name}.{os.getpid()}.trash"
    if trash.exists() or trash.is_symlink():
        if trash.is_dir() and not trash.is_symlink():
            shutil.rmtree(trash, ignore_errors=True)
        else:
            trash.unlink(missing_ok=True)
    path.rename(trash)
    return trash


def discard(entry: Path) -> None:
    """Remove a bad entry without ever leaving a half-removed one in place."""
    try:
        trash = set_aside(entry, entry.parent)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def locked(entry: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `entry` while it is being built.

    A second process (or thread) that wants the same entry waits here and
    then finds it stored, instead of building it again. It says once, with
    a ``UserWarning``, that it waits and for which lock, and raises
    ``TimeoutError`` naming the lock after `timeout` seconds. The lock is a
    file beside the entry (``.<entry>.lock``, left in place) locked with
    ``flock``; it is released when the holder finishes or dies. Where there
    is no ``fcntl`` (Windows), the lock file cannot be created or the file
    system cannot lock, nothing is locked and the worst case is the same
    model trained twice.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        lock = entry.with_name(f".{entry.name}.lock")
        handle = lock.open("a")
    except OSError:
        yield
        return
    with handle:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            except OSError:  # a file system without locks (some network ones)
                break
            if not waiting:
                waiting = True
                warnings.warn(
                    f"cnnviz: another process is training {entry.name}; waiting up to "
                    f"{timeout:g} s for it to finish (lock {lock})",
                    UserWarning,
                    stacklevel=4,
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"waited {timeout:g} s for the lock {lock}: another process (perhaps a "
                    "stopped one) holds it while it trains the same model; end that process "
                    "or wait longer with a larger lock_timeout"
                )
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))
        yield
