"""cnnviz.explorer.export: the files it writes, the layers it runs, what it refuses.

The page's arithmetic (cnnviz/explorer/static/*.js) is tested by Node's test
runner on cases worked out by hand (tests/explorer/*.test.mjs, run here), and
on exported models against Keras, layer by layer, through
tests/explorer/forward.mjs. The page itself is tested in Chromium by
tests/site/test_explorer.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import struct
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz.explorer import export
from cnnviz.explorer._folder import MARKER, STATIC_FILES
from cnnviz.explorer._weights import ACTIVATIONS, HEADER_BYTES, MAGIC
from cnnviz.layers import Padding2D

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")


@pytest.fixture
def node() -> str:
    """Node.js, which runs the page's JavaScript: skipped without it, but required in CI."""
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required in CI (.ci/run installs nodejs)")
        pytest.skip("needs Node.js (apt-get install nodejs)")
    return NODE


def read_weights(directory: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The manifest of an export, and each model's weights (float32, in the arrays' order)."""
    raw = (directory / "weights.bin").read_bytes()
    assert raw[:8] == MAGIC == b"CNNVIZW4"
    # The checksum covers everything after it: the manifest's length and the manifest.
    assert raw[8:40] == hashlib.sha256(raw[40:]).digest()
    (size,) = struct.unpack("<I", raw[40:44])
    assert HEADER_BYTES == 44
    assert 44 + size == len(raw)
    manifest = json.loads(raw[44:])
    weights = {}
    for index, model in enumerate(manifest["models"]):
        # Each model's own file, named and checksummed by the manifest: byte planes, deflated.
        spec = model["weights"]
        assert spec["file"] == f"weights-{index}.bin"
        stored = (directory / spec["file"]).read_bytes()
        assert (len(stored), hashlib.sha256(stored).hexdigest()) == (spec["bytes"], spec["sha256"])
        planes = np.frombuffer(zlib.decompress(stored, -15), np.uint8)
        dtype = {"float32": "<f4", "float16": "<f2"}[spec["dtype"]]
        values = planes.reshape(np.dtype(dtype).itemsize, -1).T.copy().view(dtype).ravel()
        weights[model["key"]] = values.astype(np.float32)
        assert weights[model["key"]].size == spec["values"]
    return manifest, weights


def every_layer_model() -> keras.Model:
    """A model with every supported layer, strides, both paddings and a nested Sequential."""
    inputs = keras.Input((28, 28, 1), name="pixels")
    x = keras.layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh", name="c1")(inputs)
    x = keras.layers.ReLU(negative_slope=0.1, max_value=0.8, threshold=0.05, name="r1")(x)
    x = keras.layers.AveragePooling2D(3, strides=2, padding="same", name="a1")(x)
    x = keras.layers.Conv2D(4, (2, 3), padding="valid", name="c2")(x)
    block = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.Activation("sigmoid", name="s1"),
            keras.layers.MaxPooling2D(2, padding="same", name="m1"),
        ],
        name="block",
    )
    x = block(x)
    x = keras.layers.Flatten(name="f")(x)
    x = keras.layers.Dense(7, activation="relu", name="d1")(x)
    x = keras.layers.Dense(10, name="d2")(x)
    outputs = keras.layers.Softmax(name="p")(x)
    model = keras.Model(inputs, outputs, name="every_layer")
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def flat_names(model: keras.Model) -> list[str]:
    """The names of a chain model's layers, nested models' layers in their place, inputs left out."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += flat_names(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            names.append(layer.name)
    return names


def chain_outputs(model: keras.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every (flattened) layer's output, nested layers' by name, from cnnviz.layer_outputs."""
    return cnnviz.layer_outputs(model, x, layers=flat_names(model))


def run_node(node: str, directory: Path, pixels: np.ndarray, tmp_path: Path, *mode: str) -> dict:
    """The page's arithmetic on `pixels` in Node: every layer's output, or with
    `mode` ``("saliency", "K")`` each image's saliency map of class K."""
    path = tmp_path / "pixels.f32"
    path.write_bytes(np.ascontiguousarray(pixels, dtype="<f4").tobytes())
    result = subprocess.run(
        [node, str(HERE / "explorer" / "forward.mjs"), str(directory), str(path), *mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)


# -- the Node tests of the arithmetic ------------------------------------------------------


def test_node_unit_tests_pass(node):
    result = subprocess.run(
        [node, "--test", str(HERE / "explorer")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# -- the files ----------------------------------------------------------------------------


def test_the_page_files_are_installed_package_data():
    static = resources.files("cnnviz.explorer") / "static"
    for name in STATIC_FILES:
        assert (static / name).is_file(), f"{name} is not shipped with the package"


def test_export_writes_the_page_and_a_checked_weights_file(tmp_path):
    model = cnnviz.lenet5("same")
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    folder = export({"same": model}, tmp_path / "page", images=images, labels=[3, 9], title="A <b>")
    assert folder == tmp_path / "page"
    written = [*STATIC_FILES, "images.json", "weights-0.bin", "weights.bin"]
    assert {p.name for p in folder.iterdir()} == {*written, MARKER}
    assert "<title>A &lt;b&gt;</title>" in (folder / "index.html").read_text()
    assert "Models trained on Fashion-MNIST" in (folder / "index.html").read_text()
    marker = json.loads((folder / MARKER).read_text())
    assert marker["format"] == "cnnviz-explorer-export"
    assert marker["cnnviz"] == cnnviz.__version__
    assert marker["files"] == written

    manifest, weights = read_weights(folder)
    assert manifest["version"] == 4
    assert "sha256" not in manifest  # in the header, over the manifest too
    assert manifest["class_names"] == list(cnnviz.CLASS_NAMES)
    assert manifest["images"] == 2
    (entry,) = manifest["models"]
    assert entry["key"] == "same"
    assert [layer["name"] for layer in entry["layers"]] == [
        layer.name for layer in model.layers[1:]
    ]
    conv1 = entry["layers"][0]
    assert conv1["output_shape"] == [28, 28, 6]
    assert conv1["padding"] == "same"
    # Every array reads back as the model's weights, bit for bit, at its offset.
    expected = iter(model.get_weights())
    data = weights["same"]
    for layer in entry["layers"]:
        for array in layer["arrays"]:
            start = array["offset"] // 4
            values = data[start : start + array["length"]]
            np.testing.assert_array_equal(values.reshape(array["shape"]), next(expected))

    samples = json.loads((folder / "images.json").read_text())
    assert samples["labels"] == [3, 9]
    digest = hashlib.sha256((folder / "weights.bin").read_bytes()[40:]).hexdigest()
    assert samples["weights_sha256"] == digest
    import base64

    assert base64.b64decode(samples["pixels"]) == images.tobytes()


# -- where it writes: only an earlier export's files, all or nothing ---------------------------


def tiny(name: str = "tiny") -> keras.Model:
    """A model that exports in a moment: the folder, not the model, is under test."""
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten(name="f")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, name="d")(flat), name=name)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under `folder` by its relative path: a file's bytes, None for a folder."""
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


PAGE = {*STATIC_FILES, "weights.bin", "weights-0.bin", MARKER}


def test_re_exporting_replaces_only_the_files_the_earlier_export_wrote(tmp_path):
    target = tmp_path / "page"
    export(tiny("first"), target, images=np.zeros((2, 28, 28), np.uint8), labels=[0, 1])
    (target / "README.md").write_text("my notes")
    (target / "extra").mkdir()
    (target / "extra" / "weights.bin").write_text("mine too")
    export(tiny("second"), target)  # without images: the first export's images.json goes
    assert {p.name for p in target.iterdir()} == {*PAGE, "README.md", "extra"}
    assert (target / "README.md").read_text() == "my notes"
    assert (target / "extra" / "weights.bin").read_text() == "mine too"
    assert read_weights(target)[0]["models"][0]["name"] == "second"
    assert json.loads((target / MARKER).read_text())["files"] == [
        *STATIC_FILES,
        "weights-0.bin",
        "weights.bin",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["page"]


@pytest.mark.parametrize(
    "contents",
    [
        {"weights.bin": b"my own weights"},
        {"weights.bin": MAGIC + bytes(40), "notes.txt": b"mine"},
        {"index.html": b"<p>my site</p>"},
        {"sub/": None},
    ],
    ids=["a file named weights.bin", "an export and a note", "a page of mine", "a folder"],
)
def test_a_folder_that_is_not_an_export_is_refused_and_left_alone(tmp_path, contents):
    for name, content in contents.items():
        if content is None:
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_bytes(content)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="holds files that are not an explorer") as raised:
        export(tiny(), tmp_path)
    message = str(raised.value)
    assert message.startswith(f"directory {str(tmp_path)!r} holds files that are not an explorer")
    assert "give a new or empty directory" in message
    assert (
        "Nothing was written; in the way: "
        + ", ".join(repr(name.rstrip("/")) for name in sorted(contents))
        in message
    )
    assert snapshot(tmp_path) == before


def test_an_export_from_before_the_list_is_replaced(tmp_path):
    # Nothing but an export's files, weights.bin a weights file of version 1.
    for name in (*STATIC_FILES, "images.json"):
        (tmp_path / name).write_text("from an earlier version")
    (tmp_path / "weights.bin").write_bytes(b"CNNVIZW1" + bytes(8))
    export(tiny(), tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == PAGE
    assert read_weights(tmp_path)[0]["version"] == 4


def test_export_into_the_current_folder_and_a_relative_path(tmp_path, monkeypatch):
    work = tmp_path / "site"
    work.mkdir()
    monkeypatch.chdir(work)
    assert export(tiny(), ".") == Path()
    (work / "notes.txt").write_text("mine")
    export(tiny(), ".")
    assert {p.name for p in work.iterdir()} == {*PAGE, "notes.txt"}
    export(tiny(), "sub/page")
    export(tiny(), Path("sub") / "page")
    assert {p.name for p in (work / "sub" / "page").iterdir()} == PAGE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def replace_folder_with_file(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (
            lambda d: (d / MARKER).write_text("{not json"),
            (
                r"has a cnnviz-export\.json that cnnviz cannot read \(it is not JSON: .*\); it says "
                r"which files an earlier export wrote, so nothing is replaced without it\. Nothing "
                r"was written: give another directory, or remove"
            ),
        ),
        (
            lambda d: (d / MARKER).write_text(
                json.dumps({"format": "cnnviz-explorer-export", "files": ["../outside.txt"]})
            ),
            (
                r"cannot read \(it is not an export's list: it must be an object with "
                r'"format": "cnnviz-explorer-export" and "files", a list of file names\)'
            ),
        ),
        (lambda d: (d / MARKER).write_text('["index.html"]'), r"it is not an export's list"),
        (
            lambda d: replace_folder_with_file(d / "weights.bin"),
            (
                r"holds a folder \(or other non-file\) named 'weights\.bin' where the export writes "
                r"a file; nothing was written\. Move or remove it, or give another directory"
            ),
        ),
        (
            lambda d: replace_folder_with_file(d / MARKER),
            r"holds a folder named 'cnnviz-export\.json', the name of an export's list",
        ),
        (
            lambda d: (d / "images.json").write_text("my images"),
            (
                r"holds a file 'images\.json', which the earlier export did not write "
                r"\(cnnviz-export\.json does not list it\) and this export would overwrite; nothing "
                r"was written\. Move or remove it"
            ),
        ),
    ],
    ids=[
        "list not JSON",
        "list naming ../",
        "list not a dict",
        "folder for a file",
        "folder for the list",
        "a file of mine",
    ],
)
def test_an_earlier_export_with_something_in_the_way_is_refused_and_left_alone(
    tmp_path, damage, words
):
    target = tmp_path / "page"
    export(tiny(), target)
    damage(target)
    (tmp_path / "outside.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=words) as raised:
        export(tiny(), target, images=np.zeros((1, 28, 28), np.uint8), labels=[0])
    assert f"directory {str(target)!r} " in str(raised.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("to", ["a folder", "nothing"])
def test_a_list_that_is_a_symbolic_link_to_no_file_is_refused_and_left_alone(tmp_path, to):
    # Reading it raised IsADirectoryError or FileNotFoundError from inside pathlib.
    target = tmp_path / "page"
    export(tiny(), target)
    (target / MARKER).unlink()
    (target / MARKER).symlink_to(tmp_path if to == "a folder" else tmp_path / "missing")
    before = {p.name: p.readlink() if p.is_symlink() else p.read_bytes() for p in target.iterdir()}
    reason = "Is a directory" if to == "a folder" else "No such file or directory"
    with pytest.raises(
        ValueError,
        match=rf"has a cnnviz-export\.json that cnnviz cannot read \(it cannot be read: {reason}\); "
        r"it says which files an earlier export wrote, so nothing is replaced without it",
    ):
        export(tiny(), target)
    after = {p.name: p.readlink() if p.is_symlink() else p.read_bytes() for p in target.iterdir()}
    assert after == before


def fail_on(monkeypatch, name: str, call: int, error: BaseException) -> list:
    """Make os.`name` raise `error` on its `call`-th call (from 1); return the calls seen."""
    real = getattr(os, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == call:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)
    return calls


# A re-export without images renames 9 files into place: the page's 7, weights.bin, the list.
@pytest.mark.parametrize("call", range(1, 10))
def test_a_failure_while_replacing_puts_the_earlier_export_back(tmp_path, monkeypatch, call):
    target = tmp_path / "page"
    export(tiny("first"), target, images=np.zeros((2, 28, 28), np.uint8), labels=[0, 1])
    (target / "README.md").write_text("mine")
    before = snapshot(tmp_path)
    calls = fail_on(monkeypatch, "replace", call, OSError(28, "No space left (injected)"))
    with pytest.raises(OSError, match="injected"):
        export(tiny("second"), target)
    assert len(calls) >= call
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
    export(tiny("second"), target)  # and it works once the disk has room
    assert {p.name for p in target.iterdir()} == {*PAGE, "README.md"}


@pytest.mark.parametrize(
    ("name", "call", "error"),
    [
        ("replace", 2, OSError(5, "Input/output error (injected)")),
        ("replace", 5, KeyboardInterrupt("injected")),
        ("fsync", 3, OSError(28, "No space left (injected)")),
    ],
)
def test_a_failed_export_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch, name, call, error):
    fail_on(monkeypatch, name, call, error)
    with pytest.raises(type(error), match="injected"):
        export(tiny(), tmp_path / "new" / "page")
    assert list(tmp_path.iterdir()) == []


def test_two_exports_into_one_folder_at_once_run_one_after_the_other(tmp_path):
    target = tmp_path / "page"
    export(tiny(), target)
    models = [tiny(f"m{i}") for i in range(4)]
    images = np.zeros((1, 28, 28), np.uint8)
    for model in models:  # traced before the threads: the folder is under test, not Keras
        cnnviz.layer_outputs(model, images[..., None])
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            runs = [
                # Half with images, half without: a mix would show in images.json.
                pool.submit(export, model, target, images=images, labels=[0])
                if i % 2
                else pool.submit(export, model, target)
                for i, model in enumerate(models)
            ]
            for run in runs:
                run.result()
        # One export's files, whole: its list, its weights, its images if it had any.
        listed = json.loads((target / MARKER).read_text())["files"]
        assert {p.name for p in target.iterdir()} == {*listed, MARKER}
        manifest, _ = read_weights(target)
        assert ("images.json" in listed) == (manifest["images"] == 1)
        if "images.json" in listed:
            samples = json.loads((target / "images.json").read_text())
            digest = hashlib.sha256((target / "weights.bin").read_bytes()[40:]).hexdigest()
            assert samples["weights_sha256"] == digest


def test_an_empty_path_and_a_list_nested_too_deep_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"directory is an empty path; give '\.' for the current"):
        export(tiny(), "")
    (tmp_path / MARKER).write_text("[" * 100_000)
    with pytest.raises(
        ValueError, match=r"cnnviz-export\.json that cnnviz cannot read \(it is not JSON"
    ):
        export(tiny(), tmp_path)


class Killed(BaseException):
    """The process died: nothing after it is written, renamed or removed."""


def kill_at(monkeypatch, call: int) -> None:
    """Let os.replace run `call - 1` times, then stop every rename, unlink and rmdir."""
    real = {name: getattr(os, name) for name in ("replace", "unlink", "rmdir")}
    seen = []

    def stop(name):
        def run(*args, **kwargs):
            if name == "replace":
                seen.append(args)
                if len(seen) == call:
                    raise Killed
            if len(seen) >= call:
                raise OSError("the process is gone")
            return real[name](*args, **kwargs)

        return run

    for name in real:
        monkeypatch.setattr(os, name, stop(name))


# Over an export without images, with images: a list naming both first, the page's 7
# files, images.json, weights.bin, the list: 11 renames.
@pytest.mark.parametrize("call", range(1, 12))
def test_an_export_killed_halfway_leaves_a_page_that_is_whole_or_refused(
    tmp_path, monkeypatch, call
):
    target = tmp_path / "page"
    export(tiny("first"), target)
    (target / "README.md").write_text("mine")
    kill_at(monkeypatch, call)
    with pytest.raises(Killed):
        export(tiny("second"), target, images=np.zeros((2, 28, 28), np.uint8), labels=[0, 1])
    monkeypatch.undo()
    # What the page loads: weights.bin whole, of one export; images.json with it or refused.
    manifest, _ = read_weights(target)
    if (target / "images.json").exists():
        samples = json.loads((target / "images.json").read_text())
        digest = hashlib.sha256((target / "weights.bin").read_bytes()[40:]).hexdigest()
        assert (samples["weights_sha256"] == digest) == (manifest["images"] == 2)
    # Every file but the user's is on the list: the next export replaces them, and tidies up.
    listed = json.loads((target / MARKER).read_text())["files"]
    left = {p.name for p in target.iterdir() if not p.name.startswith(".cnnviz-export-")}
    assert left - {*listed, MARKER} == {"README.md"}
    export(tiny("third"), target)
    assert {p.name for p in target.iterdir()} == {*PAGE, "README.md"}


def test_where_there_are_no_hard_links_the_earlier_files_are_copied(tmp_path, monkeypatch):
    target = tmp_path / "page"
    export(tiny("first"), target)
    before = snapshot(tmp_path)

    def no_link(*args, **kwargs):
        raise OSError(1, "Operation not permitted (no hard links here)")

    monkeypatch.setattr(os, "link", no_link)
    fail_on(monkeypatch, "replace", 8, OSError(28, "No space left (injected)"))
    with pytest.raises(OSError, match="injected"):
        export(tiny("second"), target)
    assert snapshot(tmp_path) == before


def test_what_a_killed_export_left_behind_goes_with_the_next(tmp_path):
    target = tmp_path / "page"
    export(tiny(), target)
    (target / ".cnnviz-export-new.0123abcd.weights.bin").write_bytes(b"half written")
    (target / ".cnnviz-export-old.89abcdef.index.html").write_bytes(b"kept for a moment")
    (target / ".mine").write_text("mine")
    export(tiny(), target)
    assert {p.name for p in target.iterdir()} == {*PAGE, ".mine"}


def test_the_page_reads_what_export_writes_images_too(node, tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    folder = export(tiny(), tmp_path / "page", images=images, labels=[4, 0, 9])
    static = Path(str(resources.files("cnnviz.explorer") / "static"))
    script = (
        f"import {{ parseWeights }} from {json.dumps((static / 'weights.js').as_uri())};\n"
        f"import {{ parseImages }} from {json.dumps((static / 'images.js').as_uri())};\n"
        "import { readFileSync } from 'node:fs';\n"
        f"const file = readFileSync({json.dumps(str(folder / 'weights.bin'))});\n"
        "const weights = parseWeights(file.buffer.slice(file.byteOffset, file.byteOffset + file.length));\n"
        f"const samples = JSON.parse(readFileSync({json.dumps(str(folder / 'images.json'))}));\n"
        "const { labels, bytes } = parseImages(samples, weights);\n"
        "console.log(JSON.stringify({ labels, sum: bytes.reduce((a, b) => a + b, 0) }));\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == {"labels": [4, 0, 9], "sum": int(images.sum())}


def test_weights_that_are_not_finite_are_refused_before_a_file_is_written(tmp_path):
    model = tiny()
    kernel, bias = model.get_layer("d").get_weights()
    kernel[3, 4] = np.inf
    model.get_layer("d").set_weights([kernel, bias])
    with pytest.raises(ValueError, match=r"layer 'd' of model 'tiny' has 1 NaN or infinite value"):
        export(model, tmp_path / "page")
    assert list(tmp_path.iterdir()) == []


def test_a_single_model_is_keyed_by_its_name(tmp_path):
    manifest, _ = read_weights(export(cnnviz.lenet5("valid"), tmp_path / "page"))
    assert [m["key"] for m in manifest["models"]] == ["lenet5_valid"]


def test_a_sequential_model_works(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 5, name="c"),
            keras.layers.Flatten(name="f"),
            keras.layers.Dense(10, activation="softmax", name="d"),
        ]
    )
    manifest, _ = read_weights(export(model, tmp_path / "page"))
    assert [layer["name"] for layer in manifest["models"][0]["layers"]] == ["c", "f", "d"]


# -- the arithmetic against Keras ------------------------------------------------------------


def test_every_supported_layer_agrees_with_keras(node, tmp_path):
    model = every_layer_model()
    folder = export({"every": model}, tmp_path / "page")
    x = np.random.default_rng(2).random((3, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)["every"]
    expected = chain_outputs(model, x)
    assert list(page) == list(expected)
    for name, values in expected.items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, atol=1e-5, err_msg=name)
    final = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(expected["p"], final, atol=1e-6)


def test_both_lenet5_models_agree_with_layer_outputs(node, tmp_path):
    # The seed's two (the padding variants' Padding2D and blur are checked with the zoo's
    # models and in the site's explorer).
    models = {padding: cnnviz.lenet5(padding) for padding in ("valid", "same")}
    folder = export(models, tmp_path / "page")
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)
    for key, model in models.items():
        for name, values in cnnviz.layer_outputs(model, x).items():
            got = np.asarray(page[key][name], dtype=np.float32).reshape(values.shape)
            np.testing.assert_allclose(got, values, atol=1e-5, err_msg=f"{key} {name}")


@pytest.mark.parametrize("padding", ["valid", "circular"])
def test_float16_weights_are_numpys_rounding_and_the_page_runs_them(
    node, tmp_path, float16_copy, padding
):
    model = cnnviz.lenet5(padding, pooling="blur" if padding == "circular" else "max")
    whole = export({"m": model}, tmp_path / "f32")
    half = export({"m": model}, tmp_path / "f16", precision="float16")
    manifest, weights = read_weights(half)
    assert manifest["models"][0]["weights"]["dtype"] == "float16"
    assert read_weights(whole)[0]["models"][0]["weights"]["dtype"] == "float32"
    # The page says which weights it runs.
    assert "rounded to half precision (float16)" in (half / "index.html").read_text()
    assert "as they are in the model" in (whole / "index.html").read_text()
    # The file holds NumPy's float16 of every weight, bit for bit, at the float32 offsets.
    rounded = float16_copy(model)
    expected = iter(rounded.get_weights())
    for layer in manifest["models"][0]["layers"]:
        for array in layer["arrays"]:
            start = array["offset"] // 4
            values = weights["m"][start : start + array["length"]]
            np.testing.assert_array_equal(values.reshape(array["shape"]), next(expected))
    # About half the bytes: two per value, the byte planes deflated alike.
    ratio = (half / "weights-0.bin").stat().st_size / (whole / "weights-0.bin").stat().st_size
    assert 0.4 < ratio < 0.55, ratio
    # The page runs the rounded model: Keras with those weights, to float32's rounding,
    # and not the exported one exactly (the rounding changed its outputs).
    x = np.random.default_rng(5).random((4, 28, 28, 1), dtype=np.float32)
    page = run_node(node, half, x, tmp_path)["m"]
    expected = cnnviz.layer_outputs(rounded, x)
    for name, values in expected.items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, atol=1e-5, err_msg=name)
    original = cnnviz.layer_outputs(model, x, ["fc1"])["fc1"]
    assert np.abs(original - expected["fc1"]).max() > 1e-6


def test_float16_refuses_a_weight_beyond_its_range(tmp_path):
    model = cnnviz.lenet5("valid")
    kernel, bias = model.get_layer("fc2").get_weights()
    kernel[3, 7] = -7e4
    model.get_layer("fc2").set_weights([kernel, bias])
    with pytest.raises(ValueError, match="beyond float16") as error:
        export({"big": model}, tmp_path / "page", precision="float16")
    assert str(error.value) == (
        "layer 'fc2' of model 'lenet5_valid' has -70000 in its kernel at (3, 7), which rounds "
        'beyond float16\'s largest value, 65504: export it with precision="float32"'
    )
    assert not (tmp_path / "page").exists()
    # 65504 itself, and values that round to it (below 65520), are float16 numbers.
    kernel[3, 7] = -65519
    model.get_layer("fc2").set_weights([kernel, bias])
    _, weights = read_weights(export({"big": model}, tmp_path / "page", precision="float16"))
    assert weights["big"].min() == -65504


def test_float16_rounds_batch_norms_weights_and_keeps_rescaling(node, tmp_path, float16_copy):
    # A batch norm's four weights are rounded, then folded in float32 (the manifest holds
    # the folded numbers); a Rescaling's scale and offset are settings, kept as they are:
    # the page is then the model with every weight of get_weights() rounded.
    rng = np.random.default_rng(6)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 0.3081, offset=-0.1307 / 0.3081, name="standard")(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv")(x)
    bn = keras.layers.BatchNormalization(epsilon=1e-10, name="bn")
    x = keras.layers.Flatten(name="flat")(keras.layers.ReLU(name="relu")(bn(x)))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x))
    gamma, beta = rng.normal(1, 0.3, 4), rng.normal(0, 0.5, 4)
    mean, variance = rng.uniform(-0.5, 1.5, 4), np.array([0.3, 0.005, 0.1, 0.0])
    bn.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, variance)])
    folder = export({"bn": model}, tmp_path / "page", precision="float16")
    manifest, _ = read_weights(folder)
    layers = {layer["name"]: layer for layer in manifest["models"][0]["layers"]}
    assert layers["bn"]["arrays"] == []
    assert layers["standard"]["arrays"] == []
    assert layers["standard"]["scale"] == [float(np.float32(1 / 0.3081))]
    # The folded scale of a variance of 0 and an epsilon of 1e-10 is 1e5 times gamma:
    # beyond float16, and no weight of the model, so it is not refused.
    half = [w.astype(np.float16).astype(np.float32) for w in (gamma, beta, mean, variance)]
    scale = half[0] / np.sqrt(half[3] + np.float32(1e-10))
    np.testing.assert_array_equal(np.float32(layers["bn"]["scale"]), scale)
    assert max(abs(v) for v in layers["bn"]["scale"]) > 65504
    x = np.random.default_rng(7).random((3, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)["bn"]
    for name, values in cnnviz.layer_outputs(float16_copy(model), x).items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        scale = max(1.0, float(np.abs(values).max()))
        np.testing.assert_allclose(got, values, atol=1e-5 * scale, err_msg=name)
    # A batch norm weight beyond float16's range is refused by its own name.
    bn.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, np.full(4, 1e5))])
    with pytest.raises(
        ValueError, match=r"layer 'bn' of model .* has 100000 in its moving_variance at \(0,\)"
    ):
        export({"bn": model}, tmp_path / "other", precision="float16")


def test_layers_and_models_named_as_javascripts_own_properties_run(node, tmp_path):
    # Names the page keys objects by: "__proto__" became the outputs' prototype, not an entry.
    names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 5, name=names[0])(inputs)
    x = keras.layers.ReLU(name=names[1])(x)
    x = keras.layers.MaxPooling2D(2, name=names[2])(x)
    x = keras.layers.Flatten(name=names[3])(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name=names[4])(x))
    folder = export({"__proto__": model}, tmp_path / "page")
    x = np.random.default_rng(4).random((2, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)
    assert list(page) == ["__proto__"]
    assert list(page["__proto__"]) == names
    for name, values in cnnviz.layer_outputs(model, x, names).items():
        got = np.asarray(page["__proto__"][name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, atol=1e-5, err_msg=name)


def residual_model() -> keras.Model:
    """A functional graph of the layers readers' models hold: residual blocks with batch
    normalization, a depthwise and a separable convolution, both paddings of cnnviz's
    Padding2D, cropping, a concatenation of two global poolings, dropout, rescaling."""
    inputs = keras.Input((28, 28, 1), name="pixels")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="stem")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    # A residual block: conv, BN, ReLU, conv, BN, added to its input.
    y = Padding2D(1, "reflect", name="b1_pad")(x)
    y = keras.layers.Conv2D(4, 3, name="b1_conv1")(y)
    y = keras.layers.BatchNormalization(name="b1_bn1")(y)
    y = keras.layers.Activation("gelu", name="b1_gelu")(y)
    y = keras.layers.SpatialDropout2D(0.3, name="b1_drop")(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=1, name="b1_dw")(y)
    y = keras.layers.BatchNormalization(name="b1_bn2")(y)
    x = keras.layers.Add(name="b1_add")([x, y])
    x = keras.layers.LeakyReLU(0.1, name="b1_out")(x)
    # A downsampling block with a projection shortcut.
    y = Padding2D((1, 2), "circular", name="b2_pad")(x)
    y = keras.layers.SeparableConv2D(
        6, 3, strides=2, depth_multiplier=2, activation="silu", name="b2_sep"
    )(y)
    y = keras.layers.Cropping2D(((0, 1), (1, 1)), name="b2_crop")(y)
    short = keras.layers.ZeroPadding2D(((0, 0), (0, 1)), name="b2_zpad")(x)
    short = keras.layers.Conv2D(6, 1, strides=2, activation="elu", name="b2_proj")(short)
    short = keras.layers.Cropping2D(((1, 0), (1, 1)), name="b2_scrop")(short)
    x = keras.layers.Add(name="b2_add")([y, short])
    x = keras.layers.ELU(0.5, name="b2_elu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    pooled = keras.layers.Concatenate(name="both")(
        [
            keras.layers.GlobalAveragePooling2D(name="gap")(x),
            keras.layers.GlobalMaxPooling2D(name="gmp")(x),
        ]
    )
    pooled = keras.layers.Dropout(0.5, name="drop")(pooled)
    hidden = keras.layers.Dense(12, activation="selu", name="fc")(pooled)
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs, name="residual")
    # Weights, and batch statistics, that are not the initial ones.
    rng = np.random.default_rng(5)
    weights = []
    for layer in model.layers:
        for variable in layer.weights:
            shape = tuple(variable.shape)
            if "variance" in variable.path:
                weights.append(rng.uniform(0.5, 2.0, shape).astype(np.float32))
            elif "blur" in variable.path:
                weights.append(np.asarray(variable))
            else:
                weights.append(rng.normal(0, 0.5, shape).astype(np.float32))
    model.set_weights(weights)
    return model


def test_a_residual_model_with_batch_norm_agrees_with_keras_on_every_layer(node, tmp_path):
    model = residual_model()
    folder = export({"residual": model}, tmp_path / "page")
    manifest, _ = read_weights(folder)
    layers = manifest["models"][0]["layers"]
    by_name = {layer["name"]: i for i, layer in enumerate(layers)}
    # The graph: each layer reads the layers it is called on (-1: the pixels).
    assert layers[0]["inputs"] == [-1]
    assert layers[by_name["b1_add"]]["inputs"] == [by_name["stem_relu"], by_name["b1_bn2"]]
    assert layers[by_name["both"]]["inputs"] == [by_name["gap"], by_name["gmp"]]
    x = np.random.default_rng(6).random((3, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)["residual"]
    expected = cnnviz.layer_outputs(model, x, list(by_name))
    for name, values in expected.items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        scale = max(1.0, float(np.abs(values).max()))
        np.testing.assert_allclose(got, values, atol=1e-4 * scale, err_msg=name)
    np.testing.assert_allclose(
        expected["out"], keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-6
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_agrees_with_keras(node, tmp_path, activation):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 3, strides=3, activation=activation, name="conv")(inputs)
    x = keras.layers.Activation(activation, name="again")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(7)
    # Pre-activations from about -6 to 6: every piece of each activation is crossed.
    model.set_weights([rng.normal(0, 1.5, w.shape).astype(np.float32) for w in model.get_weights()])
    folder = export({"m": model}, tmp_path / "page")
    x = np.random.default_rng(8).random((2, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)["m"]
    for name, values in cnnviz.layer_outputs(model, x, ["conv", "again", "out"]).items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, rtol=1e-5, atol=1e-5, err_msg=name)


def blurred_reflect() -> keras.Model:
    model = cnnviz.lenet5("reflect", pooling="blur")
    rng = np.random.default_rng(9)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and layer.trainable:
            layer.set_weights(
                [rng.normal(0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()]
            )
    return model


@pytest.mark.parametrize(
    "build",
    [
        lambda: cnnviz.lenet5("valid"),
        lambda: cnnviz.lenet5("same"),
        residual_model,
        blurred_reflect,
    ],
    ids=["lenet5_valid", "lenet5_same", "residual", "lenet5_reflect_blur"],
)
def test_the_pages_saliency_is_cnnvizs_gradients(node, tmp_path, build):
    model = build()
    folder = export({"m": model}, tmp_path / "page")
    x = np.random.default_rng(10).random((3, 28, 28, 1), dtype=np.float32)
    for target in (0, 7):
        page = run_node(node, folder, x, tmp_path, "saliency", str(target))["m"]
        page = np.asarray(page, dtype=np.float32)
        expected = cnnviz.gradients(model, x, target=target)
        got = page.reshape(expected.shape)
        # Relative to each map's largest value: the 1e-3.
        peak = expected.reshape(len(x), -1).max(axis=1)[:, None, None]
        assert np.all(peak > 0)
        np.testing.assert_array_less(np.abs(got - expected) / peak, 1e-3)


def colour_model() -> keras.Model:
    """Three channels, 20x24 images: the page's canvas takes the models' size."""
    inputs = keras.Input((20, 24, 3), name="rgb")
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x))
    rng = np.random.default_rng(11)
    model.set_weights(
        [
            rng.uniform(0.5, 2.0, w.shape).astype(np.float32)
            if "variance" in v.path
            else rng.normal(0, 0.5, w.shape).astype(np.float32)
            for v, w in zip(model.weights, model.get_weights(), strict=True)
        ]
    )
    return model


def test_a_colour_model_of_another_size_runs_as_keras_does(node, tmp_path):
    model = colour_model()
    images = np.random.default_rng(12).integers(0, 256, (3, 20, 24, 3), dtype=np.uint8)
    folder = export({"rgb": model}, tmp_path / "page", images=images, labels=[1, 2, 3])
    manifest, _ = read_weights(folder)
    assert manifest["models"][0]["input_shape"] == [20, 24, 3]
    samples = json.loads((folder / "images.json").read_text())
    assert samples["shape"] == [20, 24, 3]
    # Not Fashion-MNIST's models: the page does not say they learned from product photos.
    page_text = (folder / "index.html").read_text()
    assert "learned from product photos" not in page_text
    assert "A drawing or an upload may lie outside the data" in page_text
    x = images.astype(np.float32) / 255
    page = run_node(node, folder, x, tmp_path)["rgb"]
    for name, values in cnnviz.layer_outputs(model, x, ["conv", "bn", "pool", "out"]).items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, atol=1e-5 * max(1.0, float(np.abs(values).max())))
    maps = run_node(node, folder, x, tmp_path, "saliency", "4")["rgb"]
    expected = cnnviz.gradients(model, x, target=4)
    got = np.asarray(maps, dtype=np.float32).reshape(expected.shape)  # (3, 20, 24): max over RGB
    peak = expected.reshape(3, -1).max(axis=1)[:, None, None]
    np.testing.assert_array_less(np.abs(got - expected) / peak, 1e-3)


# -- what it refuses -----------------------------------------------------------------------


def test_a_nested_chain_works_and_a_reused_layer_is_refused(tmp_path):
    inputs = keras.Input((28, 28, 1))
    inner = keras.Model(inputs, keras.layers.Activation("relu", name="a")(inputs), name="inner")
    outer_in = keras.Input((28, 28, 1))
    nested = keras.Model(outer_in, keras.layers.Activation("tanh", name="b")(inner(outer_in)))
    manifest, _ = read_weights(export(nested, tmp_path / "fine"))
    assert [layer["name"] for layer in manifest["models"][0]["layers"]] == ["a", "b"]

    shared = keras.layers.Activation("tanh", name="twice")
    twice = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(
        ValueError, match=r"layer .twice. of model .* is called 2 times \(a shared layer\)"
    ):
        export(twice, tmp_path / "page")


def test_channels_first_is_refused(tmp_path):
    inputs = keras.Input((28, 28, 1))
    pooled = keras.layers.MaxPooling2D(1, data_format="channels_first", name="cf")(inputs)
    with pytest.raises(ValueError, match=r"'cf' .*channels_first"):
        export(keras.Model(inputs, pooled), tmp_path / "page")


def test_the_pages_same_padding_is_cnnvizs(node):
    # One rule in two languages: the page's axisPlan against cnnviz.same_padding.
    layers_js = resources.files("cnnviz.explorer") / "static" / "layers.js"
    cases = [(n, k, s) for n in range(1, 30) for k in range(1, 8) for s in range(1, 4)]
    script = (
        f"import {{ axisPlan }} from {json.dumps(Path(str(layers_js)).as_uri())};\n"
        f"const cases = {json.dumps(cases)};\n"
        "console.log(JSON.stringify(cases.map(([n, k, s]) => {\n"
        "  const plan = axisPlan(n, k, s, 'same');\n"
        "  return [plan.out, plan.before];\n"
        "})));\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    page = json.loads(result.stdout)
    for (n, k, s), (out, before) in zip(cases, page, strict=True):
        assert out == cnnviz.output_size(n, k, stride=s, padding="same"), (n, k, s)
        assert before == cnnviz.same_padding(n, k, s)[0], (n, k, s)


def test_a_subclassed_model_inside_is_refused_by_name(tmp_path):
    class Sub(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, x):
            return self.conv(x)

    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Flatten()(Sub(name="sub")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    with pytest.raises(ValueError, match=r"layer 'sub' \(Sub\) .* is not a layer the page can run"):
        export(model, tmp_path / "page")
    assert not (tmp_path / "page").exists()


def test_a_subclass_of_a_keras_layer_is_refused_as_one(tmp_path):
    # Same class name as Keras' own, another call: the page cannot know what it computes.
    class Conv2D(keras.layers.Conv2D):
        def call(self, x):
            return super().call(x) * 2

    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Flatten()(Conv2D(2, 3, name="sneaky")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    with pytest.raises(
        ValueError,
        match=r"layer 'sneaky' \(Conv2D\) .* is .*Conv2D, not Keras' own Conv2D \(a subclass",
    ) as info:
        export(model, tmp_path / "page")
    assert "the page runs Keras' own layers only" in str(info.value)
    assert not (tmp_path / "page").exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"dilation_rate": 2}, r"dilation_rate=\(2, 2\) and groups=1"),
        ({"groups": 2}, r"dilation_rate=\(1, 1\) and groups=2"),
    ],
)
def test_dilation_and_groups_are_refused_with_their_values(tmp_path, options, said):
    inputs = keras.Input((8, 8, 1))
    two = keras.layers.Conv2D(2, 1, name="two")(inputs)  # groups=2 needs 2 input channels
    hidden = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, name="conv", **options)(two))
    model = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    with pytest.raises(
        ValueError, match=rf"layer 'conv' \(Conv2D\) .* has {said}, and the page runs only"
    ):
        export(model, tmp_path / "page")


@pytest.mark.parametrize(
    ("activation", "named"),
    [
        (lambda t: t * 2, "<lambda>"),
        (functools.partial(keras.activations.leaky_relu, negative_slope=0.01), "partial"),
    ],
    ids=["lambda", "partial"],
)
def test_an_activation_of_its_own_is_refused_by_name_not_by_bytecode(tmp_path, activation, named):
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(2, 3, activation=activation, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(hidden)))
    with pytest.raises(
        ValueError,
        match=rf"layer 'conv' \(Conv2D\) .* has the activation '{named}', a function of its own",
    ) as info:
        export(model, tmp_path / "page")
    assert len(str(info.value)) < 600  # no serialized bytecode
    assert not (tmp_path / "page").exists()


def small_dense() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x))


def with_lora() -> keras.Model:
    model = small_dense()
    model.get_layer("out").enable_lora(2)
    for variable in model.get_layer("out").weights:
        if "lora" in variable.path:
            variable.assign(np.full(variable.shape, 0.5, np.float32))
    return model


def quantized(mode: str):
    def build() -> keras.Model:
        model = small_dense()
        model.get_layer("out").quantize(mode)
        return model

    return build


def mixed_precision() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(3, 3, dtype="mixed_float16", name="conv")(inputs)
    flat = keras.layers.Flatten(name="flat")(conv)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(flat))


def broadcast_add() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    mean = keras.layers.GlobalAveragePooling2D(keepdims=True, name="mean")(conv)
    added = keras.layers.Add(name="add")([conv, mean])
    flat = keras.layers.Flatten(name="flat")(added)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(flat))


def byte_pixels() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (with_lora, r"layer 'out' \(Dense\) .* has LoRA enabled, which the page does not add"),
        (quantized("int8"), r"layer 'out' \(Dense\) .* is quantized \(int8\)"),
        (quantized("float8"), r"layer 'out' \(Dense\) .* is quantized \(float8\)"),
        (
            mixed_precision,
            r"layer 'conv' \(Conv2D\) .* computes in float16, and the page computes in float32",
        ),
        (
            broadcast_add,
            r"layer 'add' \(Add\) .* adds inputs of shapes \(4, 4, 3\), \(1, 1, 3\); the page adds inputs of one shape",
        ),
        (
            byte_pixels,
            r"model\[.m.\] .* takes pixels in \[0, 255\] .*the page gives its models pixels in \[0, 1\]",
        ),
    ],
    ids=["lora", "int8", "float8", "mixed_float16", "broadcast_add", "byte_pixels"],
)
def test_models_the_page_would_compute_wrongly_are_refused(tmp_path, build, message):
    """What the hostile review found accepted: each would have given the page silently
    different numbers from Keras' (or, for the Add, a page that refuses every model)."""
    with pytest.raises(ValueError, match=message):
        export({"m": build()}, tmp_path / "page")
    assert not (tmp_path / "page").exists()


def test_the_last_axis_by_its_number_and_rescaling_by_arrays_run(node, tmp_path):
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Rescaling(np.array([1.0, 2.0, 0.5], np.float32), offset=np.float32(0.25))(
        inputs
    )
    a = keras.layers.Conv2D(2, 3, name="a")(x)
    b = keras.layers.Conv2D(3, 3, name="b")(x)
    joined = keras.layers.Concatenate(axis=3, name="joined")([a, b])
    flat = keras.layers.Flatten(name="flat")(keras.layers.Softmax(axis=3, name="soft")(joined))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(flat))
    folder = export({"m": model}, tmp_path / "page")
    x = np.random.default_rng(14).random((2, 6, 6, 3), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)["m"]
    for name, values in cnnviz.layer_outputs(model, x, ["joined", "soft", "out"]).items():
        got = np.asarray(page[name], dtype=np.float32).reshape(values.shape)
        np.testing.assert_allclose(got, values, atol=1e-5, err_msg=name)


def assert_corner_gradients(node, tmp_path, scaling: keras.layers.Layer, kink) -> None:
    """Pixels of 0, 0.5 and 1, scaled onto `kink`'s corners: the page's saliency is TensorFlow's."""
    inputs = keras.Input((3, 3, 1))
    x = keras.layers.Flatten(name="flat")(kink(scaling(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(10, name="out")(x))
    rng = np.random.default_rng(15)
    model.set_weights([rng.normal(0, 1, w.shape).astype(np.float32) for w in model.get_weights()])
    pixels = np.array([0, 0.5, 1, 0.5, 1, 0, 1, 0, 0.5], np.float32).reshape(1, 3, 3, 1)
    folder = export({"m": model}, tmp_path / "page")
    got = np.asarray(run_node(node, folder, pixels, tmp_path, "saliency", "3")["m"], np.float32)
    expected = cnnviz.gradients(model, pixels, target=3)
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("offset", [-3.0, 0.0])
@pytest.mark.parametrize(
    "activation",
    [
        "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "sigmoid",
        "hard_sigmoid", "hard_silu", "tanh", "softplus", "softsign", "mish",
    ],
)  # fmt: skip
def test_activations_at_their_corners_have_tensorflows_gradient(node, tmp_path, activation, offset):
    """Pixels of 0, 0.5 and 1 become -3, 0 and 3 (or 0, 3 and 6): every activation's kinks."""
    scaling = keras.layers.Rescaling(6.0, offset=offset, name="scale")
    assert_corner_gradients(node, tmp_path, scaling, keras.layers.Activation(activation))


@pytest.mark.parametrize(
    ("scale", "relu"),
    [
        (6.0, {"max_value": 6.0}),  # Keras' relu6: no gradient at 6
        (2.0, {"max_value": 2.0}),  # a clip: the gradient passes at the cap
        (2.0, {"threshold": 1.0, "negative_slope": 0.1}),  # none at the threshold
        (2.0, {"threshold": 1.0, "max_value": 2.0}),
        (2.0, {"max_value": 2.0, "negative_slope": 0.1}),
        (2.0, {"negative_slope": 0.1}),  # leaky_relu: the slope at 0
    ],
    ids=["relu6", "cap", "threshold_slope", "threshold_cap", "cap_slope", "leaky"],
)
def test_relus_corners_have_tensorflows_gradient(node, tmp_path, scale, relu):
    """Pixels of 0, 0.5 and 1, scaled to land on the ReLU's threshold and cap exactly."""
    scaling = keras.layers.Rescaling(scale, name="scale")
    assert_corner_gradients(node, tmp_path, scaling, keras.layers.ReLU(**relu, name="relu"))
