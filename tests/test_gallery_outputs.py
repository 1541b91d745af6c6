"""The gallery's outputs kept across builds and clones (docs/_ext/gallery_outputs.py).

The key must change with everything it names and with nothing else; a kept
gallery must come back byte for byte, and a damaged one must never be used.
"""

from __future__ import annotations

import hashlib
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
    # A linter's cache, an editor's swap file and backup: not read by the build.
    _write(tree / "examples" / ".ruff_cache" / "0.1" / "123", "x")
    _write(tree / "examples" / "intro" / ".plot_01_a.py.swp", "x")
    _write(tree / "examples" / "intro" / "table.csv~", "x")
    _write(tree / "examples" / "intro" / "#table.csv#", "x")
    for end in (".orig", ".rej", ".bak"):  # a merge's, a patch's, an editor's leftovers
        _write(tree / "examples" / "intro" / f"table.csv{end}", "x")
    _write(tree / "examples" / "intro" / "GALLERY_HEADER.rst", "Intro\n=====\n")
    assert _key(tree) == first


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # Where the models and the data are: their checksums are in the key already.
        ("CNNVIZ_CACHE_DIR", None),
        ("CNNVIZ_DATA_DIR", "/elsewhere"),
        ("TF_CPP_MIN_LOG_LEVEL", "3"),  # TensorFlow's log level
        ("TF_CLI_CONFIG_FILE", "/x.tfrc"),  # Terraform's
        ("HOME_OF_SOMETHING_ELSE", "1"),
    ],
)
def test_key_ignores_where_files_are_and_log_levels(tree, monkeypatch, name, value):
    first = _key(tree)
    if name == "CNNVIZ_CACHE_DIR":  # the same directory, named another way
        monkeypatch.setenv(name, os.environ[name] + "/")
    else:
        monkeypatch.setenv(name, value)
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
        "NPY_DISABLE_CPU_FEATURES",
        "LD_PRELOAD",
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


def test_a_manifest_that_is_not_text_changes_the_key_without_an_error(tree):
    before = _key(tree)
    manifest = cnnviz.cache_path(**GALLERY_MODELS["valid"]) / "manifest.json"
    manifest.write_bytes(b"\xff\xfe" + manifest.read_bytes())
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
    assert outputs.restore(key, clone, kept_dir, tmp_path / "staging")
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
    assert not outputs.restore(
        "b" * 64, stale, kept_dir, tmp_path / "staging"
    )  # nothing kept under that key
    assert (stale / "only_here.txt").exists()
    assert outputs.restore("a" * 64, stale, kept_dir, tmp_path / "staging")
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
    assert not outputs.restore(key, target, kept_dir, tmp_path / "staging")
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


def test_a_copy_under_another_key_is_not_used(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    kept = outputs.keep("a" * 64, gallery, kept_dir)
    kept.rename(kept_dir / ("b" * 64))  # filed under the wrong key
    target = tmp_path / "clone" / "auto_examples"
    assert not outputs.restore("b" * 64, target, kept_dir, tmp_path / "staging")
    assert not target.exists()


@pytest.mark.parametrize("others", ["as old", "newer"])
def test_keep_never_prunes_the_copy_it_keeps(tmp_path, gallery, others):
    kept_dir = tmp_path / "kept"
    for i in range(outputs.KEEP + 1):
        outputs.keep(f"{i:064d}", gallery, kept_dir)
    # Other copies as old as the new one (a coarse clock), or newer (a skewed one).
    stamp = 2_000_000_000 if others == "newer" else 1_000_000
    for path in kept_dir.iterdir():
        os.utime(path, (stamp, stamp))
    kept = outputs.keep("f" * 64, gallery, kept_dir)
    assert kept.is_dir()
    assert len(list(kept_dir.iterdir())) == outputs.KEEP


def test_a_copy_that_changes_while_it_is_copied_is_refused(tmp_path, gallery, monkeypatch):
    kept_dir = tmp_path / "kept"
    key = "a" * 64
    outputs.keep(key, gallery, kept_dir)
    copytree = shutil.copytree

    def copy_then_change(source, target, *args, **kwargs):  # another build's keep, half-way
        result = copytree(source, target, *args, **kwargs)
        if str(target).endswith(".tmp"):  # the whole copy, not copytree's own recursion
            (Path(target) / "intro" / "plot_01_a.rst").write_text("out: other\n")
        return result

    monkeypatch.setattr(outputs.shutil, "copytree", copy_then_change)
    target = tmp_path / "clone" / "auto_examples"
    assert not outputs.restore(key, target, kept_dir, tmp_path / "staging")
    assert not target.exists()
    assert _leftovers(tmp_path / "staging") == []


def test_a_gallery_that_cannot_be_replaced_stays_as_it_was(tmp_path, gallery, monkeypatch):
    kept_dir = tmp_path / "kept"
    outputs.keep("a" * 64, gallery, kept_dir)
    target = tmp_path / "clone" / "auto_examples"
    _write(target / "mine.rst", "mine\n")
    rename = Path.rename

    def refuse_the_new_one(self, destination):
        if self.name.endswith(".tmp"):
            raise OSError(18, "Invalid cross-device link")
        return rename(self, destination)

    monkeypatch.setattr(Path, "rename", refuse_the_new_one)
    with pytest.raises(OSError, match="cross-device"):
        outputs.restore("a" * 64, target, kept_dir, tmp_path / "staging")
    assert _files(target) == {"mine.rst": b"mine\n"}
    assert _leftovers(tmp_path / "staging") == []


def test_a_file_in_the_way_of_a_kept_copy_is_replaced(tmp_path, gallery):
    kept_dir = tmp_path / "kept"
    _write(kept_dir / ("a" * 64), "not a directory")
    kept = outputs.keep("a" * 64, gallery, kept_dir)
    assert kept.is_dir()
    assert sorted(p.name for p in kept_dir.iterdir()) == [kept.name]


def test_outputs_of_examples_that_are_gone_are_removed(tmp_path, gallery):
    examples = tmp_path / "examples"
    _write(examples / "intro" / "README.txt", "Intro\n=====\n")
    _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    # A folder of examples without a header, which sphinx-gallery does not build (git
    # keeps a folder that still holds an untracked file).
    _write(examples / "old" / "notes.txt~", "x")
    _write(gallery / "old" / "index.rst", "x")
    # Outputs of an example of another branch, and of a section that is gone.
    gone = gallery / "intro"
    for name in ("plot_01_a_b.py", "plot_01_a_b.py.md5", "plot_01_a_b.rst", "plot_01_a_b.ipynb"):
        _write(gone / name, "x")
    _write(gone / "images" / "sphx_glr_plot_01_a_b_001.png", "x")
    _write(gone / "images" / "thumb" / "sphx_glr_plot_01_a_b_thumb.png", "x")
    _write(gallery / "other" / "plot_09_z.rst", "x")
    before = _files(gallery)
    removed = outputs.remove_orphans(gallery, examples)
    assert len(removed) == 8
    kept = {
        name: data
        for name, data in before.items()
        if "plot_01_a_b" not in name and not name.startswith(("other/", "old/"))
    }
    assert _files(gallery) == kept  # plot_01_a's own outputs and the index stay
    assert outputs.remove_orphans(gallery, examples) == []


def test_failed_examples_run_again_even_when_put_back(tmp_path, gallery):
    examples = tmp_path / "examples"
    source = _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    md5 = gallery / "intro" / "plot_01_a.py.md5"
    assert md5.exists()
    outputs.forget_failures(
        {str(source): "Traceback ...", "/elsewhere/plot.py": ""}, gallery, examples
    )
    assert not md5.exists()
    assert (gallery / "intro" / "plot_01_a.rst").exists()


def test_unstamp_removes_both_stamps_and_minds_no_gallery(tmp_path, gallery):
    # An earlier build's stamp of the sources alone, which that build would still trust.
    _write(gallery / outputs.OLD_STAMP, "0" * 64)
    kept = outputs.keep("a" * 64, gallery, tmp_path / "kept")
    assert not (kept / outputs.OLD_STAMP).exists()
    assert not (gallery / outputs.OLD_STAMP).exists()
    outputs.unstamp(gallery)
    assert outputs.stamped_key(gallery) is None
    outputs.unstamp(tmp_path / "no" / "gallery")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_examples_about_to_run_lose_their_md5_record_first(tmp_path, gallery):
    examples = tmp_path / "examples"
    changed = _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    same = _write(examples / "intro" / "plot_02_b.py", "print(2)\n")
    _write(gallery / "intro" / "plot_02_b.py.md5", _md5(same))
    assert (gallery / "intro" / "plot_01_a.py.md5").read_text() != _md5(changed)
    forgotten = outputs.forget_changed(gallery, examples, _md5)
    assert forgotten == [gallery / "intro" / "plot_01_a.py.md5"]
    assert (gallery / "intro" / "plot_02_b.py.md5").exists()
    assert (gallery / "intro" / "plot_01_a.rst").exists()  # its page stays until it runs


def test_failed_example_in_a_linked_section_runs_again(tmp_path, gallery):
    elsewhere = tmp_path / "elsewhere" / "intro"
    source = _write(elsewhere / "plot_01_a.py", "print(1)\n")
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "intro").symlink_to(elsewhere)
    outputs.forget_failures({str(examples / "intro" / source.name): ""}, gallery, examples)
    assert not (gallery / "intro" / "plot_01_a.py.md5").exists()


def test_outputs_gone_at_the_top_and_in_nested_sections_are_removed(tmp_path, gallery):
    examples = tmp_path / "examples"
    _write(examples / "intro" / "README.txt", "Intro\n=====\n")
    _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    _write(examples / "intro" / "deeper" / "GALLERY_HEADER.rst", "Deeper\n======\n")
    _write(examples / "intro" / "deeper" / "plot_05_c.py", "print(5)\n")
    # Gone: one at the top, one in a nested section, and one shown without running
    # (a name that is not plot_*): each known by the copy of its source beside its page.
    gone = ((gallery, "plot_top"), (gallery / "intro" / "deeper", "plot_06_d"), (gallery, "demo"))
    for folder, stem in gone:
        _write(folder / f"{stem}.rst", "x")
        _write(folder / f"{stem}.py", "x")
        _write(folder / f"{stem}.py.md5", "x")
        _write(folder / "images" / f"sphx_glr_{stem}_001.png", "x")
    _write(gallery / "intro" / "deeper" / "plot_05_c.rst", "x")
    _write(gallery / "intro" / "deeper" / "plot_05_c.py", "x")
    _write(gallery / "images" / "thumb" / "sphx_glr_plot_01_a_thumb.png", "x")
    removed = outputs.remove_orphans(gallery, examples)
    assert sorted(p.name for p in removed) == sorted(
        [f"{stem}{end}" for _, stem in gone for end in (".rst", ".py", ".py.md5")]
        + [f"sphx_glr_{stem}_001.png" for _, stem in gone]
    )
    assert (gallery / "intro" / "deeper" / "plot_05_c.rst").exists()
    assert (gallery / "images" / "thumb" / "sphx_glr_plot_01_a_thumb.png").exists()
    assert (gallery / "index.rst").exists()


def test_a_copy_replaced_while_it_is_read_is_not_thrown_away(tmp_path, gallery, monkeypatch):
    kept_dir = tmp_path / "kept"
    key = "a" * 64
    outputs.keep(key, gallery, kept_dir)
    newer = tmp_path / "newer" / "auto_examples"
    _write(newer / "index.rst", "Newer gallery\n")
    copytree = shutil.copytree

    def copy_while_another_build_keeps(source, target, *args, **kwargs):
        result = copytree(source, target, *args, **kwargs)
        if str(target).endswith(".tmp") and "staging" in str(target):
            (Path(target) / "index.rst").write_text("torn\n")  # read half old, half new
            monkeypatch.setattr(outputs.shutil, "copytree", copytree)
            outputs.keep(key, newer, kept_dir)  # the other build's copy takes its place
        return result

    monkeypatch.setattr(outputs.shutil, "copytree", copy_while_another_build_keeps)
    target = tmp_path / "clone" / "auto_examples"
    assert not outputs.restore(key, target, kept_dir, tmp_path / "staging")
    assert (kept_dir / key / "index.rst").read_text() == "Newer gallery\n"  # still there


def _sections(examples: Path) -> Path:
    """Examples in one section (intro), with its header."""
    _write(examples / "intro" / "README.txt", "Intro\n=====\n")
    _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    return examples


@pytest.mark.parametrize("stamped", [False, True])
def test_prepare_tidies_a_restored_gallery_for_this_checkout(tmp_path, gallery, stamped):
    examples = _sections(tmp_path / "examples")
    kept_dir, key = tmp_path / "kept", "a" * 64
    # The kept outputs hold an example this checkout renamed.
    _write(gallery / "intro" / "plot_01_renamed.rst", "x")
    _write(gallery / "intro" / "plot_01_renamed.py", "x")
    outputs.keep(key, gallery, kept_dir)
    clone = tmp_path / "clone" / "auto_examples"
    if stamped:  # a gallery of its own, current: nothing restored, still tidied
        shutil.copytree(gallery, clone)
    state = outputs.prepare(clone, examples, key, kept_dir, tmp_path / "staging", _md5)
    assert state == ("current" if stamped else "restored")
    assert not (clone / "intro" / "plot_01_renamed.rst").exists()
    assert (clone / "intro" / "plot_01_a.rst").exists()
    # plot_01_a's text differs from its record: it will run, and lost its record first.
    assert not (clone / "intro" / "plot_01_a.py.md5").exists()


def test_prepare_unstamps_a_stale_gallery_and_leaves_it_when_no_example_runs(tmp_path, gallery):
    examples = _sections(tmp_path / "examples")
    outputs.keep("a" * 64, gallery, tmp_path / "kept")
    _write(gallery / "intro" / "plot_09_gone.rst", "x")
    _write(gallery / "intro" / "plot_09_gone.py", "x")
    # No example runs (plot_gallery off): the stamp stays, the outputs are tidied.
    state = outputs.prepare(gallery, examples, None, tmp_path / "kept", tmp_path / "s", _md5)
    assert state == "stale"
    assert outputs.stamped_key(gallery) == "a" * 64
    assert not (gallery / "intro" / "plot_09_gone.rst").exists()
    assert not (gallery / "intro" / "plot_01_a.py.md5").exists()  # its text changed
    # Another key, kept nowhere: every example runs, and a stop leaves no stamp.
    state = outputs.prepare(gallery, examples, "b" * 64, tmp_path / "kept", tmp_path / "s", _md5)
    assert state == "stale"
    assert outputs.stamped_key(gallery) is None


def test_figures_stay_whatever_the_examples_hold_and_links_are_not_followed(tmp_path, gallery):
    examples = _sections(tmp_path / "examples")
    # A plain folder of data called images beside the examples: not a section.
    _write(examples / "intro" / "images" / "garment.png", "x")
    _write(gallery / "intro" / "images" / "thumb" / "sphx_glr_plot_01_a_thumb.png", "x")
    _write(gallery / "intro" / "plot_09_gone.rst", "x")
    _write(gallery / "intro" / "plot_09_gone.py", "x")
    _write(gallery / "intro" / "images" / "sphx_glr_plot_09_gone_001.png", "x")
    outside = _write(tmp_path / "outside" / "plot_09_gone.rst", "not the gallery's")
    (gallery / "intro" / "linked").symlink_to(outside.parent)
    removed = outputs.remove_orphans(gallery, examples)
    assert gallery / "intro" / "images" / "sphx_glr_plot_09_gone_001.png" in removed
    assert (gallery / "intro" / "images" / "sphx_glr_plot_01_a_001.png").exists()
    assert (gallery / "intro" / "images" / "thumb" / "sphx_glr_plot_01_a_thumb.png").exists()
    assert outside.exists()  # a link is removed as a link, never followed


def test_changed_examples_in_a_linked_section_lose_their_record(tmp_path, gallery):
    elsewhere = _write(tmp_path / "elsewhere" / "intro" / "plot_01_a.py", "print(9)\n").parent
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "intro").symlink_to(elsewhere)
    forgotten = outputs.forget_changed(gallery, examples, _md5)
    assert forgotten == [gallery / "intro" / "plot_01_a.py.md5"]


def test_a_record_sphinx_gallery_would_not_match_is_forgotten(tmp_path, gallery):
    examples = _sections(tmp_path / "examples")
    record = gallery / "intro" / "plot_01_a.py.md5"
    record.write_text(_md5(examples / "intro" / "plot_01_a.py") + "\n")  # not byte for byte
    assert outputs.forget_changed(gallery, examples, _md5) == [record]


def test_failed_example_given_by_its_real_path_runs_again(tmp_path, gallery):
    real = _sections(tmp_path / "real")
    examples = tmp_path / "examples"
    examples.symlink_to(real)
    source = (real / "intro" / "plot_01_a.py").resolve()
    outputs.forget_failures({str(source): ""}, gallery, examples)
    assert not (gallery / "intro" / "plot_01_a.py.md5").exists()


@pytest.mark.parametrize("in_the_way", ["file", "dangling link"])
def test_staging_clears_what_is_in_its_way(tmp_path, gallery, in_the_way):
    kept_dir = tmp_path / "kept"
    outputs.keep("a" * 64, gallery, kept_dir)
    staging = tmp_path / "staging"
    if in_the_way == "file":
        staging.write_text("x")
    else:
        staging.symlink_to(tmp_path / "nowhere")
    target = tmp_path / "clone" / "auto_examples"
    assert outputs.restore("a" * 64, target, kept_dir, staging)
    assert staging.is_dir()


def test_a_copy_pruned_just_after_it_was_restored_is_no_error(tmp_path, gallery, monkeypatch):
    kept_dir = tmp_path / "kept"
    outputs.keep("a" * 64, gallery, kept_dir)

    utime = os.utime

    def gone(path, *args, **kwargs):  # pruned by another build, right after the copy
        if Path(path) == kept_dir / ("a" * 64):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return utime(path, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "utime", gone)
    target = tmp_path / "clone" / "auto_examples"
    assert outputs.restore("a" * 64, target, kept_dir, tmp_path / "staging")
    assert outputs.stamped_key(target) == "a" * 64


def test_a_header_of_any_name_sphinx_gallery_reads_makes_a_section(tmp_path, gallery):
    examples = tmp_path / "examples"
    _write(examples / "intro" / "readme.rst", "Intro\n=====\n")
    _write(examples / "intro" / "plot_01_a.py", "print(1)\n")
    assert outputs.remove_orphans(gallery, examples) == []


def test_a_link_up_the_tree_is_not_walked(tmp_path):
    root = tmp_path / "repo" / "examples"
    _write(root / "intro" / "plot_01_a.py", "print(1)\n")
    _write(tmp_path / "repo" / "docs" / "auto_examples" / "x.rst", "x")
    (root / "up").symlink_to(tmp_path / "repo")
    assert [p.relative_to(root).as_posix() for p in outputs._files(root)] == ["intro/plot_01_a.py"]


def test_a_kept_dir_that_links_elsewhere_stays_a_link(tmp_path, gallery):
    elsewhere = tmp_path / "other-disk"
    elsewhere.mkdir()
    kept_dir = tmp_path / "kept"
    kept_dir.symlink_to(elsewhere)
    outputs.keep("a" * 64, gallery, kept_dir)
    assert kept_dir.is_symlink()
    assert (elsewhere / ("a" * 64) / "index.rst").exists()
