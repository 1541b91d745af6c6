"""The gallery's outputs, kept in the cache directory and reused while what made them is unchanged.

sphinx-gallery runs an example again only when the example's own MD5
changed: it does not know what else an output depends on. This module
names all of it in one key, :func:`gallery_key`: the cnnviz sources, the
build's configuration and hooks, the installed packages, the processor
and the settings that choose TensorFlow's, NumPy's and BLAS's kernels and
threads, and the gallery's trained models (their manifests, which give
each file's SHA-256). Then:

- the examples run again, all of them, when the key differs from the one
  the gallery was built with (its stamp, :data:`STAMP`); the stamp is
  removed before they run, so a build that stops half-way leaves none;
- after a build in which every example ran or was current, none failed and
  the key did not change, ``docs/auto_examples`` is kept in the cache
  directory under its key (``gallery-outputs/<key>``, with a manifest of
  its key and its files' SHA-256, written last, and renamed into place
  whole), at most :data:`KEEP` of them;
- a build whose own outputs are missing or stale, such as the first one in
  a fresh clone, takes the kept outputs of its key if they are whole, and
  sphinx-gallery then runs only the examples whose MD5 differ from those
  outputs'. Outputs of examples that no longer exist are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from gallery_hooks import GALLERY_MODELS

#: Bumped when what the key holds, or how a kept gallery is laid out, changes.
FORMAT = 2
#: The kept galleries: the one just kept and the most recently kept or used others.
KEEP = 3
#: The stamp, in the gallery directory, of the key its outputs were built with.
STAMP = ".cnnviz-gallery-key"
#: The stamp of earlier builds (the cnnviz sources alone), which they would still trust.
OLD_STAMP = ".cnnviz-sources.sha256"
#: Written last into a kept gallery: its key and its files' SHA-256. Without it, it is incomplete.
MANIFEST = ".cnnviz-gallery-manifest.json"
#: Environment variables that choose kernels, threads, backends or instruction sets.
SETTINGS_PREFIXES = (
    "CNNVIZ_",
    "TF_",
    "ONEDNN_",
    "DNNL_",
    "XLA_",
    "NPY_",
    "OMP_",
    "KMP_",
    "MKL_",
    "OPENBLAS_",
    "GOTO_",
    "KERAS_",
    "MPL",
)
SETTINGS_NAMES = ("PYTHONHASHSEED", "LD_PRELOAD", "LD_LIBRARY_PATH")
#: Not what the outputs are made of: where the models and the data are (their checksums
#: are in the key), TensorFlow's log level, and Terraform's settings, which share TF_.
IGNORED_SETTINGS = ("CNNVIZ_CACHE_DIR", "CNNVIZ_DATA_DIR")
IGNORED_PREFIXES = ("TF_CPP_", "TF_CLI_", "TF_VAR_")


#: The files that make a folder of examples a section: sphinx-gallery's headers (its
#: names, with .txt or the site's source suffix, .rst).
_HEADERS = tuple(
    f"{name}{suffix}"
    for name in ("GALLERY_HEADER", "README", "readme")
    for suffix in (".txt", ".rst")
)
#: Files no build reads: editors' backups and autosaves, a merge's or a patch's leftovers.
_NOT_READ = re.compile(r".*~|#.*#|.*\.(orig|rej|bak)")


def _files(root: Path) -> Iterator[Path]:
    """Yield the files under `root`, through linked folders too (as sphinx-gallery reads them).

    A folder reached twice is read once, and a link to a folder that holds
    `root` (up the tree) is not followed.
    """
    seen: set[str] = set()
    top = os.path.realpath(root)
    for folder, names, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        # A folder read before, or one that holds the root (a link up the tree).
        if real in seen or (real != top and (top + os.sep).startswith(real + os.sep)):
            names[:] = []
            continue
        seen.add(real)
        names.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file():
                yield path


def _sources(root: Path) -> Iterator[Path]:
    """Yield the files under `root` that a build reads: not hidden, cached or backup files.

    Hidden files and folders (``.ruff_cache``, an editor's ``.x.swp``),
    ``__pycache__`` and the files of :data:`_NOT_READ` are left out.
    """
    for path in _files(root):
        parts = path.relative_to(root).parts
        if not any(
            part.startswith(".") or part == "__pycache__" for part in parts
        ) and not _NOT_READ.fullmatch(path.name):
            yield path


def _files_sha256(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """Return the SHA-256 of each file of `paths` (under `root`), by its relative POSIX path."""
    from cnnviz.cache import file_sha256

    return {path.relative_to(root).as_posix(): file_sha256(path) for path in sorted(paths)}


def _processor() -> dict[str, object]:
    """The processor's model and extensions (Linux's /proc/cpuinfo), and the cores usable."""
    described = {"machine": platform.machine(), "processor": platform.processor()}
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("model name", "flags") and name.strip() not in described:
            described[name.strip()] = value.strip()
    try:
        described["cores"] = len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS or Windows
        described["cores"] = os.cpu_count()
    return described


def _settings() -> dict[str, str]:
    """The environment variables of :data:`SETTINGS_PREFIXES` and :data:`SETTINGS_NAMES`."""
    return {
        key: value
        for key, value in os.environ.items()
        if (key.startswith(SETTINGS_PREFIXES) or key in SETTINGS_NAMES)
        and key not in IGNORED_SETTINGS
        and not key.startswith(IGNORED_PREFIXES)
    }


def gallery_key(docs: Path, examples: Path, package: Path | None = None) -> str | None:
    """Return the SHA-256 of what, besides the examples' own text, the gallery's outputs depend on.

    `docs` and `examples` are the site's and the examples' directories;
    `package` is cnnviz's (by default the one imported). None when a gallery
    model is not in the cache yet: its outputs cannot be known before it is
    trained.
    """
    import cnnviz

    package = Path(cnnviz.__file__).parent if package is None else package
    models = {}
    for name, settings in GALLERY_MODELS.items():
        manifest = cnnviz.cache_path(**settings) / "manifest.json"
        if not manifest.is_file():
            return None
        models[name] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    material = {
        "format": FORMAT,
        "cnnviz": _files_sha256(package, _sources(package)),
        # The configuration and its hooks (reset_modules, the trainings); not the pages' text.
        "docs": _files_sha256(docs, [docs / "conf.py", *(docs / "_ext").glob("*.py")]),
        # Anything an example might read beside the examples themselves (sphinx-gallery
        # hashes each example) and the sections' headers.
        "examples": _files_sha256(
            examples,
            (
                p
                for p in _sources(examples)
                if not (p.name.startswith("plot_") and p.suffix == ".py") and p.name not in _HEADERS
            ),
        ),
        # Not the interpreter's path: a clone's environment is elsewhere, with the same packages.
        "python": [sys.version, sys.platform],
        "packages": sorted(
            f"{dist.metadata['Name']}=={dist.version}"  # the project's own too: cnnviz's sources
            for dist in importlib.metadata.distributions()
        ),
        "processor": _processor(),
        "settings": _settings(),
        "models": models,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def store_dir() -> Path:
    """The directory of kept galleries: ``gallery-outputs`` in cnnviz's cache directory."""
    from cnnviz.cache import cache_dir

    return cache_dir() / "gallery-outputs"


def stamped_key(gallery: Path) -> str | None:
    """Return the key `gallery` was built with, or None if it has no stamp."""
    try:
        return (gallery / STAMP).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def unstamp(gallery: Path) -> None:
    """Remove `gallery`'s stamps: its outputs are about to change, or may have been made otherwise."""
    for name in (STAMP, OLD_STAMP):
        (gallery / name).unlink(missing_ok=True)


def _whole(copy: Path, key: str) -> bool:
    """Say whether `copy` is the gallery of `key` its manifest describes: every file, unchanged."""
    try:
        recorded = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
        files = [p for p in copy.rglob("*") if p.is_file() and p.name != MANIFEST]
        return recorded == {"format": FORMAT, "key": key, "files": _files_sha256(copy, files)}
    except (OSError, ValueError):
        return False


def _read(path: Path) -> bytes | None:
    """Return a file's bytes, or None if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _remove(path: Path) -> None:
    """Remove a file, a symbolic link or a directory tree, if there is one."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _staged(parent: Path, name: str) -> Path:
    """Make a temporary directory in `parent` for what becomes a directory called `name`."""
    from cnnviz.cache import temporary_dir

    if not parent.is_dir() and (parent.exists() or parent.is_symlink()):
        _remove(parent)  # a file or a dangling link in the way (a link to a folder is fine)
    return temporary_dir(parent, name)


def _swap_in(staged: Path, target: Path) -> None:
    """Rename the complete directory `staged` to `target`; the old `target` goes aside, then away.

    `target` is never a partly written directory: it is the old one, the new
    one, or, for the moment between two renames, absent. The old one is set
    aside beside `staged` (so, for the gallery, outside what Sphinx reads) and
    put back if the new one cannot take its place.
    """
    from cnnviz.cache import set_aside

    moved = target.exists() or target.is_symlink()
    if moved:
        old = set_aside(target, staged.parent)
    try:
        staged.rename(target)
    except OSError:
        if moved:
            old.rename(target)
        raise
    if moved:
        _remove(old)


def restore(key: str, gallery: Path, kept_dir: Path, staging: Path) -> bool:
    """Put the outputs kept under `key` in `gallery`'s place, if they are there and whole.

    They are copied into `staging` (a directory on `gallery`'s file system
    that Sphinx does not read), checked there against their manifest, and
    renamed into place. A kept gallery that fails its manifest is removed.
    Returns whether the outputs were put in place.
    """
    from cnnviz.cache import discard

    kept = kept_dir / key
    if not kept.is_dir():
        return False
    before = _read(kept / MANIFEST)
    staged = _staged(staging, gallery.name)
    try:
        shutil.copytree(kept, staged, dirs_exist_ok=True)
        if not _whole(staged, key):  # what was copied, not what was there before
            if _read(kept / MANIFEST) == before:  # damaged, not replaced by another build
                discard(kept)
            return False
        (staged / MANIFEST).unlink()
        gallery.parent.mkdir(parents=True, exist_ok=True)
        _swap_in(staged, gallery)
    finally:
        _remove(staged)
    with contextlib.suppress(OSError):  # another build may have replaced or pruned it
        os.utime(kept)  # recently used: kept longer
    return True


def keep(key: str, gallery: Path, kept_dir: Path) -> Path:
    """Stamp `gallery` with `key` and keep a copy under `kept_dir`; remove the oldest others.

    The copy's manifest (its key and its files' SHA-256) is written last, and
    the copy is renamed into place whole. Returns the copy's directory.
    """
    from cnnviz.cache import discard

    unstamp(gallery)
    (gallery / STAMP).write_text(key + "\n", encoding="utf-8")
    staged = _staged(kept_dir, key)
    try:
        shutil.copytree(gallery, staged, dirs_exist_ok=True)
        files = [p for p in staged.rglob("*") if p.is_file()]
        manifest = {"format": FORMAT, "key": key, "files": _files_sha256(staged, files)}
        (staged / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        _swap_in(staged, kept_dir / key)
    finally:
        _remove(staged)
    others = sorted(
        (
            p
            for p in kept_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name != key
        ),
        key=lambda p: (p.stat().st_mtime, p.name),
        reverse=True,
    )
    for old in others[KEEP - 1 :]:
        discard(old)
    return kept_dir / key


def _output_names(stem: str) -> re.Pattern:
    """The names of one example's outputs, beside its copy and among the images."""
    return re.compile(
        rf"{re.escape(stem)}(\.py|\.py\.md5|\.rst|\.ipynb|\.zip|\.codeobj\.json|\.cost\.json)"
        rf"|sphx_glr_{re.escape(stem)}_(\d+|thumb)\.\w+"
    )


def _is_section(folder: Path) -> bool:
    """Say whether `folder` of examples is a section sphinx-gallery builds: it has a header."""
    return any((folder / name).is_file() for name in _HEADERS)


def remove_orphans(gallery: Path, examples: Path) -> list[Path]:
    """Remove the outputs of examples that are not in `examples` (any more); return them.

    An example deleted, renamed, or one of another branch's restored with
    the kept outputs, would otherwise leave a page that no table of contents
    names. An example's outputs are known by the copy of its source that
    sphinx-gallery puts beside its page (``<name>.py`` beside ``<name>.rst``),
    whether it runs or not. The gallery's top and its sections are looked
    at, nested ones too; a gallery folder whose folder of examples is gone,
    or is no section (no header), goes as a whole. The ``images`` folders
    hold the figures (their names say which example made them) and are
    never removed whole. Links inside the gallery are not followed.
    """
    removed: list[Path] = []

    def visit(folder: Path, source: Path) -> None:
        pages = {p.stem for p in folder.glob("*.rst") if (folder / f"{p.stem}.py").is_file()}
        gone = sorted(pages - {p.stem for p in source.glob("*.py")})
        names = [_output_names(stem) for stem in gone]
        figures = folder / "images"
        candidates = list(folder.iterdir())
        if figures.is_dir() and not figures.is_symlink():
            candidates += [p for p in figures.rglob("*") if not p.is_dir()]
        for path in sorted(candidates):
            if path.is_dir() and not path.is_symlink():
                if path == figures:
                    continue
                if _is_section(source / path.name):
                    visit(path, source / path.name)
                else:
                    _remove(path)
                    removed.append(path)
            elif any(pattern.fullmatch(path.name) for pattern in names):
                path.unlink()
                removed.append(path)

    if gallery.is_dir():
        visit(gallery, examples)
    return removed


def _copy_of(source: str | Path, gallery: Path, examples: Path) -> Path | None:
    """Return the gallery's copy of example `source`, or None if it is not under `examples`."""
    for inside, top in (
        (Path(os.path.normpath(source)), Path(os.path.normpath(examples))),
        (Path(source).resolve(), examples.resolve()),
    ):
        try:
            return gallery / inside.relative_to(top)
        except ValueError:
            continue
    return None


def forget_changed(gallery: Path, examples: Path, md5: Callable[[Path], str]) -> list[Path]:
    """Remove the MD5 records of the examples whose text changed, before they run; return them.

    Those examples run anyway. Without their old record, a build stopped
    while they ran (or one of them failed) does not leave a record that the
    example's old text matches: put back as it was, it would be served from
    the outputs of the text that changed, without running. `md5` is
    sphinx-gallery's MD5 of an example's text.
    """
    forgotten = []
    for example in _files(examples):
        if not (example.name.startswith("plot_") and example.suffix == ".py"):
            continue
        record = _copy_of(example, gallery, examples)
        record = record and Path(f"{record}.md5")
        if record and record.is_file() and _read(record) != md5(example).encode():
            record.unlink()
            forgotten.append(record)
    return forgotten


def forget_failures(failing: Iterable[str], gallery: Path, examples: Path) -> None:
    """Remove the MD5 that sphinx-gallery left beside the copies of examples that failed.

    sphinx-gallery keeps an example's last MD5 until it runs again without
    error: an example that failed and is then put back as it was would match
    that MD5 and keep the failure's page, without running.
    """
    for source in failing:
        copy = _copy_of(source, gallery, examples)
        if copy is not None:
            Path(f"{copy}.md5").unlink(missing_ok=True)


def prepare(
    gallery: Path,
    examples: Path,
    key: str | None,
    kept_dir: Path,
    staging: Path,
    md5: Callable[[Path], str],
) -> str:
    """Make the gallery ready for sphinx-gallery; say what it holds.

    Returns ``"current"`` when its stamp is `key`, ``"restored"`` when the
    outputs kept under `key` took its place, ``"stale"`` otherwise (its stamp
    is then removed: every example must run). Then, whatever the case, the
    outputs of examples that are gone are removed and the MD5 records of
    those whose text changed are forgotten (so that they run when examples
    next run). `key` None (no example runs, or no key) restores nothing and
    leaves the stamp as it is.
    """
    state = "stale"
    try:
        if key is not None and stamped_key(gallery) == key:
            state = "current"
        elif key is not None and restore(key, gallery, kept_dir, staging):
            state = "restored"
        elif key is not None:
            unstamp(gallery)  # a build that stops half-way leaves no stamp
    finally:
        # After a restore (the kept outputs may hold examples this checkout does not
        # have), and even if it failed: a page in no table of contents fails the build.
        remove_orphans(gallery, examples)
    # Before the examples run, not after: a build stopped while they ran, or one that
    # failed, leaves no record that the old text would match.
    forget_changed(gallery, examples, md5)
    return state
