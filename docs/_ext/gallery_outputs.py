"""The gallery's outputs, kept in the cache directory and reused while what made them is unchanged.

sphinx-gallery runs an example again only when the example's own MD5
changed: it does not know what else an output depends on. This module
names all of it in one key, :func:`gallery_key`: the cnnviz sources, the
build's configuration and hooks, the installed packages, the processor
and the settings that choose TensorFlow's and BLAS's kernels and threads,
and the gallery's trained models (their manifests, which give each file's
SHA-256). Then:

- the examples run again, all of them, when the key differs from the one
  the gallery was built with (``docs/auto_examples/.cnnviz-gallery-key``);
- after a build in which every example ran or was current and none failed,
  ``docs/auto_examples`` is kept in the cache directory under its key
  (``gallery-outputs/<key>``, written beside its place and renamed into
  it, with a manifest of its files' SHA-256 written last), at most
  :data:`KEEP` of them, the newest;
- a build whose own outputs are missing or stale, such as the first one in
  a fresh clone, takes the kept outputs of its key if they are there and
  whole, and sphinx-gallery then runs only the examples whose MD5 differ
  from those outputs'.

So a fresh clone on a machine that has built the same library with the same
models and packages builds the site without running the examples again,
and any change to what the key names runs every example.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from gallery_hooks import GALLERY_MODELS

#: Bumped when what the key holds, or how an entry is laid out, changes.
FORMAT = 1
#: The kept galleries, the most recently built or used first; older ones are removed.
KEEP = 3
#: The stamp, in the gallery directory, of the key its outputs were built with.
STAMP = ".cnnviz-gallery-key"
#: Written last into a kept gallery: its files' SHA-256. A gallery without it is incomplete.
MANIFEST = ".cnnviz-gallery-manifest.json"
#: Environment variables that choose kernels, threads, backends or cnnviz's files.
SETTINGS_PREFIXES = (
    "CNNVIZ_",
    "TF_",
    "ONEDNN_",
    "DNNL_",
    "OMP_",
    "KMP_",
    "MKL_",
    "OPENBLAS_",
    "GOTO_",
    "KERAS_",
    "MPL",
    "PYTHONHASHSEED",
)


def _files_sha256(root: Path, paths) -> dict[str, str]:
    """Return the SHA-256 of each file of `paths` (under `root`), by its relative POSIX path."""
    from cnnviz.cache import file_sha256

    return {path.relative_to(root).as_posix(): file_sha256(path) for path in sorted(paths)}


def _processor() -> dict[str, object]:
    """The processor's model and extensions (Linux's /proc/cpuinfo), and the cores usable."""
    described = {"machine": platform.machine(), "processor": platform.processor()}
    try:
        text = Path("/proc/cpuinfo").read_text()
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


def gallery_key(docs: Path, examples: Path, package: Path | None = None) -> str | None:
    """Return the SHA-256 of what, besides the examples' own text, the gallery's outputs depend on.

    `docs` and `examples` are the site's and the examples' directories;
    `package` is cnnviz's (by default the one imported). None when a gallery
    model is not in the cache yet: its outputs cannot be known before it is
    trained.
    """
    import cnnviz
    from cnnviz.cache import cache_dir

    package = Path(cnnviz.__file__).parent if package is None else package
    models = {}
    for name, settings in GALLERY_MODELS.items():
        manifest = cnnviz.cache_path(**settings) / "manifest.json"
        if not manifest.is_file():
            return None
        models[name] = manifest.read_text(encoding="utf-8")
    material = {
        "format": FORMAT,
        "cnnviz": _files_sha256(
            package, (p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        ),
        # The configuration and its hooks (reset_modules, the trainings); not the pages' text.
        "docs": _files_sha256(docs, [docs / "conf.py", *(docs / "_ext").glob("*.py")]),
        # Anything an example might read beside the examples themselves (sphinx-gallery
        # hashes each example) and the section titles (README.txt, not run).
        "examples": _files_sha256(
            examples,
            (
                p
                for p in examples.rglob("*")
                if p.is_file()
                and not (p.name.startswith("plot_") and p.suffix == ".py")
                and p.name != "README.txt"
                and "__pycache__" not in p.parts
            ),
        ),
        # Not the interpreter's path: a clone's environment is elsewhere, with the same packages.
        "python": [sys.version, sys.platform],
        "packages": sorted(
            f"{dist.metadata['Name']}=={dist.version}"  # the project's own too: cnnviz's sources
            for dist in importlib.metadata.distributions()
        ),
        "processor": _processor(),
        "settings": {
            key: value for key, value in os.environ.items() if key.startswith(SETTINGS_PREFIXES)
        },
        "cache": str(cache_dir()),
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
    except OSError:
        return None


def _whole(kept: Path) -> bool:
    """Say whether a kept gallery holds every file of its manifest, unchanged, and no other."""
    try:
        recorded = json.loads((kept / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = [p for p in kept.rglob("*") if p.is_file() and p.name != MANIFEST]
    return isinstance(recorded, dict) and _files_sha256(kept, files) == recorded


def _staged(parent: Path, name: str) -> Path:
    """Make a temporary directory in `parent` for what becomes `parent / name`."""
    from cnnviz.cache import remove_leftovers

    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(parent)
    # The process id in the name tells remove_leftovers whose it is.
    return Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=parent))


def _swap_in(staged: Path, target: Path) -> None:
    """Rename the complete directory `staged` to `target`, the old `target` aside and removed.

    `target` is never a partly written directory: it is the old one, the new
    one, or, for the moment between two renames, absent.
    """
    old = target.with_name(f".{target.name}.{os.getpid()}.trash")
    try:
        if target.exists():
            target.rename(old)
        staged.rename(target)
    finally:
        shutil.rmtree(old, ignore_errors=True)


def restore(key: str, gallery: Path, kept_dir: Path) -> bool:
    """Put the outputs kept under `key` in `gallery`'s place, if they are there and whole.

    A kept gallery that fails its manifest is removed. Returns whether the
    outputs were put in place.
    """
    from cnnviz.cache import discard

    kept = kept_dir / key
    if not kept.is_dir():
        return False
    if not _whole(kept):
        discard(kept)
        return False
    staged = _staged(gallery.parent, gallery.name)
    try:
        shutil.copytree(kept, staged, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST))
        _swap_in(staged, gallery)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    os.utime(kept)  # recently used: kept longest
    return True


def keep(key: str, gallery: Path, kept_dir: Path) -> Path:
    """Stamp `gallery` with `key` and keep a copy under `kept_dir`; remove all but the newest.

    The copy's manifest of SHA-256 is written last, and the copy is renamed
    into place whole. Returns the copy's directory.
    """
    from cnnviz.cache import discard

    (gallery / STAMP).write_text(key + "\n", encoding="utf-8")
    staged = _staged(kept_dir, key)
    try:
        shutil.copytree(gallery, staged, dirs_exist_ok=True)
        files = [p for p in staged.rglob("*") if p.is_file()]
        (staged / MANIFEST).write_text(
            json.dumps(_files_sha256(staged, files), sort_keys=True), encoding="utf-8"
        )
        _swap_in(staged, kept_dir / key)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    kept = sorted(
        (p for p in kept_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in kept[KEEP:]:
        discard(old)
    return kept_dir / key
