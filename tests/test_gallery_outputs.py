"""The gallery's outputs kept across builds and clones (docs/_ext/gallery_outputs.py).

The key must change with everything it names and with nothing else; a kept
gallery must come back byte for byte, and a damaged one must never be used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

EXT = Path(__file__).resolve().parents[1] / "docs" / "_ext"
sys.path.insert(0, str(EXT))  # gallery_outputs imports gallery_hooks from beside it
_spec = importlib.util.spec_from_file_location("cnnviz_gallery_outputs", EXT / "gallery_outputs.py")
outputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(outputs)

from gallery_hooks import GALLERY_MODELS

import cnnviz


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A docs, examples and package tree, and a cache holding every gallery model's manifest."""
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    for name, settings in GALLERY_MODELS.items():
        _write(cnnviz.cache_path(**settings) / "manifest.json", json.dumps({"entry": name}))
    _write(tmp_path / "docs" / "conf.py", "project = 'x'\n")
    _write(tmp_path / "docs" / "_ext" / "hooks.py", "A = 1\n")
    _write(tmp_path / "examples" / "intro" / "plot_01_a.py", "print(1)\n")
    _write(tmp_path / "examples" / "intro" / "README.txt", "Intro\n=====\n")
    _write(tmp_path / "examples" / "intro" / "table.csv", "a,b\n")
    _write(tmp_path / "package" / "__init__.py", "")
    _write(tmp_path / "package" / "layers.py", "def f():\n    return 1\n")
    return tmp_path


def _key(tree: Path) -> str:
    return outputs.gallery_key(tree / "docs", tree / "examples", tree / "package")


def test_key_is_stable_and_ignores_the_examples_text_and_bytecode(tree):
    first = _key(tree)
    assert len(first) == 64
    assert first == _key(tree)
    # sphinx-gallery hashes each example itself and runs only the changed ones;
    # section titles are not run; bytecode is not source.
    _write(tree / "examples" / "intro" / "plot_01_a.py", "print(2)\n")
    _write(tree / "examples" / "intro" / "README.txt", "Other\n=====\n")
    _write(tree / "package" / "__pycache__" / "layers.cpython-311.pyc", "x")
    assert _key(tree) == first


@pytest.mark.parametrize(
    "change",
    [
        "package source",
        "new package file",
        "conf.py",
        "a hook",
        "a file an example may read",
        "a model's manifest",
        "TF_ENABLE_ONEDNN_OPTS",
        "ONEDNN_MAX_CPU_ISA",
        "OMP_NUM_THREADS",
        "CNNVIZ_DATA_DIR",
    ],
)
def test_key_changes_with_what_it_names(tree, monkeypatch, change):
    before = _key(tree)
    if change == "package source":
        _write(tree / "package" / "layers.py", "def f():\n    return 2\n")
    elif change == "new package file":
        _write(tree / "package" / "data.json", "{}")
    elif change == "conf.py":
        _write(tree / "docs" / "conf.py", "project = 'y'\n")
    elif change == "a hook":
        _write(tree / "docs" / "_ext" / "hooks.py", "A = 2\n")
    elif change == "a file an example may read":
        _write(tree / "examples" / "intro" / "table.csv", "a,c\n")
    elif change == "a model's manifest":
        settings = GALLERY_MODELS["same"]
        _write(cnnviz.cache_path(**settings) / "manifest.json", json.dumps({"entry": "other"}))
    else:
        monkeypatch.setenv(change, os.environ.get(change, "") + "1")
    assert _key(tree) != before


def test_no_key_before_every_gallery_model_is_trained(tree):
    (cnnviz.cache_path(**GALLERY_MODELS["valid-seed1"]) / "manifest.json").unlink()
    assert _key(tree) is None


@pytest.fixture
def gallery(tmp_path):
    """A built gallery: nested files, binary and text."""
    root = tmp_path / "docs" / "auto_examples"
    _write(root / "index.rst", "Gallery\n")
    _write(root / "intro" / "plot_01_a.rst", "out: 1\n")
    _write(root / "intro" / "plot_01_a.py.md5", "abc\n")
    (root / "intro" / "images").mkdir(parents=True)
    (root / "intro" / "images" / "sphx_glr_plot_01_a_001.png").write_bytes(bytes(range(256)) * 9)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith((".tmp", ".trash")))


def test_kept_gallery_comes_back_byte_for_byte_with_its_stamp(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    key = "a" * 64
    kept = outputs.keep(key, gallery, kept_dir)
    assert kept == kept_dir / key
    assert outputs.stamped_key(gallery) == key
    built = _files(gallery)
    # A fresh clone: no gallery yet.
    clone = tmp_path / "clone" / "docs" / "auto_examples"
    clone.parent.mkdir(parents=True)
    assert outputs.restore(key, clone, kept_dir)
    assert _files(clone) == built  # the manifest stays behind
    assert outputs.stamped_key(clone) == key
    assert _leftovers(clone.parent) == []
    assert _leftovers(kept_dir) == []


def test_restore_replaces_a_stale_gallery_and_knows_only_its_own_key(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    outputs.keep("a" * 64, gallery, kept_dir)
    built = _files(gallery)
    stale = tmp_path / "clone" / "auto_examples"
    _write(stale / "intro" / "plot_01_a.rst", "out: stale\n")
    _write(stale / "only_here.txt", "x")
    assert not outputs.restore("b" * 64, stale, kept_dir)  # nothing kept under that key
    assert (stale / "only_here.txt").exists()
    assert outputs.restore("a" * 64, stale, kept_dir)
    assert _files(stale) == built


@pytest.mark.parametrize("damage", ["changed", "added", "removed", "no manifest", "bad manifest"])
def test_damaged_kept_gallery_is_removed_not_used(tmp_path, gallery, damage):
    kept_dir = tmp_path / "kept"
    key = "c" * 64
    kept = outputs.keep(key, gallery, kept_dir)
    if damage == "changed":
        (kept / "intro" / "plot_01_a.rst").write_text("out: 2\n")
    elif damage == "added":
        _write(kept / "intro" / "extra.rst", "x")
    elif damage == "removed":
        (kept / "intro" / "images" / "sphx_glr_plot_01_a_001.png").unlink()
    elif damage == "no manifest":
        (kept / outputs.MANIFEST).unlink()
    else:
        (kept / outputs.MANIFEST).write_text("{not json")
    target = tmp_path / "clone" / "auto_examples"
    _write(target / "mine.rst", "mine\n")
    assert not outputs.restore(key, target, kept_dir)
    assert not kept.exists()
    assert _files(target) == {"mine.rst": b"mine\n"}  # what was there is untouched


def test_keep_replaces_its_key_and_keeps_only_the_newest(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    for i in range(outputs.KEEP + 2):
        kept = outputs.keep(f"{i:064d}", gallery, kept_dir)
        os.utime(kept, (1_000_000 + i, 1_000_000 + i))  # distinct ages on any file system
    names = sorted(p.name for p in kept_dir.iterdir())
    assert names == [f"{i:064d}" for i in range(2, outputs.KEEP + 2)]
    # The same key again, after an example changed: the copy follows the gallery.
    _write(gallery / "intro" / "plot_01_a.rst", "out: new\n")
    kept = outputs.keep(f"{2:064d}", gallery, kept_dir)
    assert (kept / "intro" / "plot_01_a.rst").read_text() == "out: new\n"
    assert _leftovers(kept_dir) == []


def test_a_keep_that_fails_leaves_no_copy_and_no_leftovers(tmp_path, gallery, monkeypatch):
    kept_dir = tmp_path / "kept"

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "_files_sha256", fail)  # after the files are copied
    with pytest.raises(OSError, match="No space left"):
        outputs.keep("d" * 64, gallery, kept_dir)
    assert list(kept_dir.iterdir()) == []


def test_leftovers_of_a_dead_build_are_removed(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    dead = kept_dir / f".{'e' * 64}.999999999.abc.tmp"  # no such process
    _write(dead / "half.rst", "x")
    outputs.keep("e" * 64, gallery, kept_dir)
    assert not dead.exists()


def test_store_dir_is_in_the_cache_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path))
    assert outputs.store_dir() == tmp_path / "gallery-outputs"
    shutil.rmtree(tmp_path)
