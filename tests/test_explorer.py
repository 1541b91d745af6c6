"""cnnviz.explorer.export: the files it writes, the layers it runs, what it refuses.

The page's arithmetic (cnnviz/explorer/static/*.js) is tested by Node's test
runner on cases worked out by hand (tests/explorer/*.test.mjs, run here), and
on exported models against Keras, layer by layer, through
tests/explorer/forward.mjs. The page itself is tested in Chromium by
tests/site/test_explorer.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz.explorer import MAGIC, STATIC_FILES, export

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


def read_weights(directory: Path) -> tuple[dict, bytes]:
    raw = (directory / "weights.bin").read_bytes()
    assert raw[:8] == MAGIC
    (size,) = struct.unpack("<I", raw[8:12])
    assert (12 + size) % 4 == 0, "the data must start 4-byte aligned"
    return json.loads(raw[12 : 12 + size]), raw[12 + size :]


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


def run_node(node: str, directory: Path, pixels: np.ndarray, tmp_path: Path) -> dict:
    path = tmp_path / "pixels.f32"
    path.write_bytes(np.ascontiguousarray(pixels, dtype="<f4").tobytes())
    result = subprocess.run(
        [node, str(HERE / "explorer" / "forward.mjs"), str(directory), str(path)],
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
    assert {p.name for p in folder.iterdir()} == {*STATIC_FILES, "weights.bin", "images.json"}
    assert "<title>A &lt;b&gt;</title>" in (folder / "index.html").read_text()

    manifest, data = read_weights(folder)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["data_bytes"] == len(data)
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
    # Every array reads back as the model's weights, little-endian float32 at its offset.
    weights = iter(model.get_weights())
    for layer in entry["layers"]:
        for array in layer["arrays"]:
            values = np.frombuffer(data, "<f4", array["length"], array["offset"])
            np.testing.assert_array_equal(values.reshape(array["shape"]), next(weights))

    samples = json.loads((folder / "images.json").read_text())
    assert samples["labels"] == [3, 9]
    import base64

    assert base64.b64decode(samples["pixels"]) == images.tobytes()


def test_export_replaces_an_earlier_export_and_leaves_no_temporary_folder(tmp_path):
    target = tmp_path / "page"
    export(cnnviz.lenet5(), target)
    (target / "stale.txt").write_text("from before")
    export(cnnviz.lenet5(), target)
    assert not (target / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["page"]
    assert not (target / "images.json").exists()
    assert read_weights(target)[0]["images"] == 0


def test_a_failed_export_leaves_nothing_behind(tmp_path):
    inputs = keras.Input((28, 28, 1))
    dropping = keras.Model(inputs, keras.layers.Dropout(0.5)(inputs))
    with pytest.raises(ValueError, match="Dropout"):
        export(dropping, tmp_path / "page")
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
    models = {padding: cnnviz.lenet5(padding) for padding in cnnviz.PADDINGS}
    folder = export(models, tmp_path / "page")
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    page = run_node(node, folder, x, tmp_path)
    for key, model in models.items():
        for name, values in cnnviz.layer_outputs(model, x).items():
            got = np.asarray(page[key][name], dtype=np.float32).reshape(values.shape)
            np.testing.assert_allclose(got, values, atol=1e-5, err_msg=f"{key} {name}")


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
    with pytest.raises(ValueError, match="not its layers run one after the other"):
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
