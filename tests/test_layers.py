"""Tests of cnnviz.layers: Padding2D against NumPy's np.pad, its config and its loading."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import Padding2D

NUMPY_MODE = {"reflect": "reflect", "circular": "wrap"}


def images(shape=(2, 7, 9, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
@pytest.mark.parametrize(
    ("padding", "edges"),
    [
        (2, ((2, 2), (2, 2))),
        ((1, 3), ((1, 1), (3, 3))),
        (((0, 2), (3, 1)), ((0, 2), (3, 1))),
        ([[1, 0], [0, 4]], ((1, 0), (0, 4))),
        (0, ((0, 0), (0, 0))),
        (np.int64(1), ((1, 1), (1, 1))),
    ],
)
def test_the_output_is_numpys_pad(mode, padding, edges):
    x = images()
    layer = Padding2D(padding, mode)
    assert layer.padding == edges
    got = keras.ops.convert_to_numpy(layer(x))
    # Copied values: exact, on any CPU.
    np.testing.assert_array_equal(got, np.pad(x, ((0, 0), *edges, (0, 0)), NUMPY_MODE[mode]))
    assert layer.compute_output_shape(x.shape) == got.shape


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_the_widest_borders_the_image_allows(mode):
    # Mirrored: the edge pixel is not repeated, so a border is at most size - 1; wrapped:
    # at most the size (the whole image again).
    x = images((1, 5, 4, 2))
    rows, cols = (4, 3) if mode == "reflect" else (5, 4)
    got = keras.ops.convert_to_numpy(Padding2D((rows, cols), mode)(x))
    expected = np.pad(x, ((0, 0), (rows, rows), (cols, cols), (0, 0)), NUMPY_MODE[mode])
    np.testing.assert_array_equal(got, expected)


def test_the_docstrings_rows_by_hand():
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1)
    reflect = keras.ops.convert_to_numpy(Padding2D((0, 2), "reflect")(x))[0, 0, :, 0]
    circular = keras.ops.convert_to_numpy(Padding2D((0, 2), "circular")(x))[0, 0, :, 0]
    assert reflect.tolist() == [2, 1, 0, 1, 2, 3, 2, 1]
    assert circular.tolist() == [2, 3, 0, 1, 2, 3, 0, 1]


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_images_of_any_size(mode):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, Padding2D(((2, 1), (0, 3)), mode)(inputs))
    assert tuple(model.output.shape) == (None, None, None, 3)
    for shape in ((1, 6, 5, 3), (2, 9, 4, 3)):
        x = images(shape)
        expected = np.pad(x, ((0, 0), (2, 1), (0, 3), (0, 0)), NUMPY_MODE[mode])
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), expected)


def test_it_has_no_weights_and_keeps_the_dtype():
    layer = Padding2D(1, "circular")
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    out = keras.ops.convert_to_numpy(layer(x))
    assert layer.weights == []
    assert out.dtype == np.float32  # Keras' float policy, as for ZeroPadding2D
    assert keras.ops.convert_to_numpy(keras.layers.ZeroPadding2D(1)(x)).dtype == out.dtype


def test_the_config_round_trips_through_json():
    layer = Padding2D(((1, 2), (3, 0)), "circular", name="pad")
    config = layer.get_config()
    assert config["padding"] == ((1, 2), (3, 0))
    assert config["mode"] == "circular"
    again = Padding2D.from_config(json.loads(json.dumps(config)))
    assert again.padding == layer.padding
    assert again.mode == layer.mode
    assert again.name == "pad"


def test_it_is_registered_under_cnnvizs_package():
    assert keras.saving.get_registered_name(Padding2D) == "cnnviz>Padding2D"
    assert keras.saving.get_registered_object("cnnviz>Padding2D") is Padding2D


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_a_model_with_it_saves_and_loads_with_safe_mode(mode, tmp_path):
    model = cnnviz.lenet5(mode, pooling="blur")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("pad1"), Padding2D)
    assert loaded.get_layer("pad2").mode == mode
    assert loaded.to_json() == model.to_json()
    x = images((3, 28, 28, 1))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["zeros", "wrap", "symmetric", "Reflect", None, 1])
def test_other_modes_are_refused_naming_the_allowed_ones(mode):
    with pytest.raises(ValueError, match=r"mode must be one of \('reflect', 'circular'\)") as info:
        Padding2D(1, mode)
    assert repr(mode) in str(info.value)


@pytest.mark.parametrize(
    "padding", [-1, 1.5, True, "2", None, (1, 2, 3), ((1, 2), 3), ((1, -2), (0, 0)), (1,)]
)
def test_malformed_paddings_are_refused(padding):
    with pytest.raises(ValueError, match="padding must be a non-negative integer") as info:
        Padding2D(padding)
    assert repr(padding) in str(info.value)


@pytest.mark.parametrize(
    ("mode", "padding", "shape", "message"),
    [
        ("reflect", (3, 0), (1, 3, 8, 1), "height by 3 and 3, but its input's height is 3"),
        ("reflect", ((0, 0), (0, 8)), (1, 3, 8, 1), "width by 0 and 8, but its input's width is 8"),
        ("circular", (0, 9), (1, 3, 8, 1), "width by 9 and 9, but its input's width is 8"),
    ],
)
def test_a_border_wider_than_the_image_allows_is_refused(mode, padding, shape, message):
    with pytest.raises(ValueError, match=message) as info:
        Padding2D(padding, mode, name="border")(np.zeros(shape, np.float32))
    assert "'border' (Padding2D" in str(info.value)
    assert ("less than" if mode == "reflect" else "at most") in str(info.value)


def test_an_input_that_is_not_4d_is_refused():
    with pytest.raises(ValueError, match="expected ndim=4"):
        Padding2D(1)(np.zeros((3, 8, 1), np.float32))
