"""The export's folder: writing it safely, and replacing only an earlier export's files.

An export writes the page's files into a folder that must be new, empty or an
earlier export's, known by the list it left, ``cnnviz-export.json`` (the
marker), which names the files that export wrote. Anything else in the way is
refused before a file is written. The files are written under scratch names
beside their places and renamed over them, the marker last; the earlier
export's files are kept as hard links until the end, so that a failure
anywhere puts the folder back as it was, and scratch files left by a process
that died are removed by the next export. The folder is locked while it is
written, so that two exports into it run one after the other.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Collection, Iterator
from pathlib import Path

from ._weights import MAGIC

#: The files of the page, shipped as package data in the explorer's ``static/`` folder.
STATIC_FILES = (
    "index.html",
    "layers.js",
    "weights.js",
    "images.js",
    "view.js",
    "state.js",
    "main.js",
    "style.css",
)
#: The list of the files an export wrote, written last: what a later export may replace.
MARKER = "cnnviz-export.json"
#: Every file an export may write besides the marker.
EXPORT_FILES = (*STATIC_FILES, "weights.bin", "images.json")
# What an export being written leaves for a moment beside the files it replaces: its new
# files before they are renamed into place, and hard links to the earlier export's files
# (to put back if the export fails). Found after a crash, the next export removes them.
_SCRATCH = ".cnnviz-export-{kind}.{token}.{name}"
_DEBRIS = re.compile(r"\.cnnviz-export-(?:new|old)\.[0-9a-f]{8}\..+", re.DOTALL)


def _target(directory: object) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path (str or os.PathLike); got {directory!r}")
    if not os.fspath(directory):
        raise ValueError("directory is an empty path; give '.' for the current folder")
    target = Path(directory)
    if (target.exists() or target.is_symlink()) and not target.is_dir():
        what = "a broken symbolic link" if target.is_symlink() else "a file"
        raise NotADirectoryError(
            f"directory names {str(target)!r}, which is {what}, not a directory"
        )
    return target


def _named(target: Path) -> str:
    """`target` as given, and where it is when that is not plain (".", a relative path)."""
    where = os.path.abspath(target)  # noqa: PTH100 (resolve() would follow links too)
    return repr(str(target)) + ("" if str(target) == where else f" ({where})")


def _in_the_way(target: Path, what: str) -> ValueError:
    return ValueError(
        f"directory {_named(target)} {what}; nothing was written. Move or remove it, or "
        "give another directory"
    )


def _earlier_export(target: Path, writing: Collection[str]) -> list[str]:
    """Return the files of the earlier export in `target` that are there (none if it is new).

    Refuse a folder that holds files and is not an earlier export, and anything in the
    way of the files to write: a folder, or a file the earlier export did not write.
    """
    if not target.is_dir():
        return []
    entries = {path.name: path for path in target.iterdir() if not _DEBRIS.fullmatch(path.name)}
    if not entries:
        return []
    if MARKER in entries:
        if not _is_file(entries[MARKER]):
            raise _in_the_way(
                target, f"holds a folder named {MARKER!r}, the name of an export's list"
            )
        listed = _read_marker(target, entries[MARKER])
    else:
        listed = _unlisted_export(entries)
        if listed is None:
            others = sorted(entries)
            shown = ", ".join(map(repr, others[:5])) + (", ..." if len(others) > 5 else "")
            raise ValueError(
                f"directory {_named(target)} holds files that are not an explorer export; give "
                f"a new or empty directory, or one an earlier export wrote (it has {MARKER}, "
                f"the list of the files it wrote, which the next export replaces). Nothing "
                f"was written; in the way: {shown} ({len(others)} "
                f"{'entry' if len(others) == 1 else 'entries'}, no {MARKER})"
            )
    for name in sorted({*writing, *listed}):
        path = entries.get(name)
        if path is None:
            continue
        if not _is_file(path):
            where = (
                "where the export writes a file"
                if name in writing
                else f"where {MARKER} lists a file the earlier export wrote"
            )
            raise _in_the_way(target, f"holds a folder (or other non-file) named {name!r} {where}")
        if name not in listed:
            raise _in_the_way(
                target,
                f"holds a file {name!r}, which the earlier export did not write ({MARKER} "
                "does not list it) and this export would overwrite",
            )
    return [name for name in listed if name in entries]


def _is_file(path: Path) -> bool:
    """Whether `path` is a file or a symbolic link, which an export may replace, not a folder."""
    return path.is_symlink() or path.is_file()


def _read_marker(target: Path, path: Path) -> list[str]:
    """Return the files an earlier export's list names, refusing a list that is not one."""
    try:
        text = path.read_bytes()
    except OSError as error:  # a symbolic link to a folder or to nothing, no permission
        marker, why = None, f"it cannot be read: {error.strerror or error}"
    else:
        try:
            marker = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            marker, why = None, f"it is not JSON: {error}"
        else:
            why = (
                "it is not an export's list: it must be an object with "
                '"format": "cnnviz-explorer-export" and "files", a list of file names'
            )
    files = marker.get("files") if isinstance(marker, dict) else None
    if (
        not isinstance(marker, dict)
        or marker.get("format") != "cnnviz-explorer-export"
        or not isinstance(files, list)
        or not all(isinstance(name, str) and _plain_name(name) for name in files)
    ):
        raise ValueError(
            f"directory {_named(target)} has a {MARKER} that cnnviz cannot read ({why}); it "
            "says which files an earlier export wrote, so nothing is replaced without it. "
            "Nothing was written: give another directory, or remove the earlier export's "
            f"files and {MARKER}"
        )
    return list(dict.fromkeys(files))


def _plain_name(name: str) -> bool:
    """Whether `name` is a file in the folder itself: no path, not the list, not scratch."""
    return (
        name not in ("", ".", "..", MARKER)
        and not any(sep in name for sep in ("/", "\\", "\0"))
        and not _DEBRIS.fullmatch(name)
    )


def _unlisted_export(entries: dict[str, Path]) -> list[str] | None:
    """Return the files of an export written before exports kept a list, or None.

    Only a folder holding nothing but files an export writes, weights.bin among them and
    starting as a weights file starts, is taken for one.
    """
    if "weights.bin" not in entries or not set(entries) <= set(EXPORT_FILES):
        return None
    if not all(path.is_file() and not path.is_symlink() for path in entries.values()):
        return None
    with entries["weights.bin"].open("rb") as file:
        if file.read(len(MAGIC) - 1) != MAGIC[:-1]:
            return None
    return sorted(entries)


def _write_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` (name to content, in order) into `target`, replacing the earlier export.

    The folder is made if it is missing (and removed again if the export fails) and
    locked while the files are written, so that two exports into it run one after the
    other.
    """
    created: list[Path] = []
    try:
        _make_directory(target, created)
        with _locked(target):
            _replace_files(target, files)
    except BaseException:
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _replace_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` into the folder `target`, replacing the earlier export's, all or nothing.

    Each file is written beside its place under a scratch name, then renamed over it;
    the files of the earlier export that are not written again are removed, and the list
    of the files written goes last. The earlier export's files are kept as hard links
    until the end, so that a failure anywhere puts the folder back as it was. Where the
    export makes files the earlier one did not have, a list naming both goes first, so
    that a process killed halfway leaves no file the next export would take for the
    user's; its scratch files are removed by the next export.
    """
    old = _earlier_export(target, files)
    made = [name for name in files if name not in old]
    stale = [name for name in old if name not in files]
    files = {**files, MARKER: _marker(list(files))}
    if made:
        # First a list of every file this export may leave behind, its own and the earlier
        # one's: if the process dies halfway, the next export knows them all as an export's.
        files = {f"interim.{MARKER}": _marker([*old, *made]), **files}
    debris = [path for path in target.glob(".cnnviz-export-*") if _DEBRIS.fullmatch(path.name)]
    token = secrets.token_hex(4)
    scratch = {kind: {} for kind in ("new", "old")}

    def place(kind: str, name: str) -> Path:
        path = target / _SCRATCH.format(kind=kind, token=token, name=name)
        scratch[kind][name] = path  # before it is made: a failure removes it too
        return path

    done: list[str] = []  # the names replaced or removed so far, to put back on failure
    try:
        for name, content in files.items():
            with place("new", name).open("xb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
        for name in (*old, MARKER):
            if name in old or os.path.lexists(target / name):
                _keep(target / name, place("old", name))
        for name in files:
            if name == MARKER:
                for gone in stale:
                    (target / gone).unlink()
                    done.append(gone)
            place_of = MARKER if name == f"interim.{MARKER}" else name
            scratch["new"][name].replace(target / place_of)
            if place_of not in done:
                done.append(place_of)
    except BaseException:
        for name in reversed(done):
            with contextlib.suppress(OSError):
                if name in scratch["old"]:
                    # Taken off the list first: if it cannot be put back, it is kept.
                    scratch["old"].pop(name).replace(target / name)
                else:
                    (target / name).unlink()
        _remove([*scratch["new"].values(), *scratch["old"].values()])
        raise
    _remove([*scratch["old"].values(), *debris])


def _marker(names: list[str]) -> bytes:
    """Return the text of cnnviz-export.json listing `names`."""
    from .. import __version__

    marker = {
        "format": "cnnviz-explorer-export",
        "version": 1,
        "cnnviz": __version__,
        "note": (
            "Written by cnnviz.explorer.export: the files it wrote. The next export into "
            "this folder replaces them and leaves every other file alone."
        ),
        "files": names,
    }
    return (json.dumps(marker, indent=1) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on `folder` itself: no lock file, released if we die.

    Where there is no ``fcntl`` (Windows) or the file system cannot lock, nothing is
    locked: two exports into one folder at once may then mix their files, and the page
    refuses images.json with another export's weights.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        fcntl = None
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        handle = None
    try:
        if fcntl is not None and handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            os.close(handle)


def _make_directory(target: Path, created: list[Path]) -> None:
    """Make `target` and its missing parents, adding each folder made to `created`."""
    missing = []
    folder = Path(os.path.abspath(target))  # noqa: PTH100 (no "..": each parent is real)
    while not folder.exists() and not folder.is_symlink():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        created.append(folder)


def _keep(path: Path, copy: Path) -> None:
    """Keep the file at `path` under the name `copy`: a hard link, else a copy."""
    try:
        os.link(path, copy, follow_symlinks=False)
    # No hard links on this file system, or no link() that leaves a symlink as it is.
    except (OSError, NotImplementedError):
        shutil.copy2(path, copy, follow_symlinks=False)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
