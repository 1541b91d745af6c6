"""Attribution maps against known answers on small hand-built models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import attribution

METHODS = [
    cnnviz.gradients,
    cnnviz.smoothgrad,
    cnnviz.integrated_gradients,
    cnnviz.grad_cam,
    cnnviz.occlusion,
]
FAST = {"smoothgrad": {"samples": 4}, "integrated_gradients": {"steps": 8}}


def options(method) -> dict:
    return FAST.get(method.__name__, {})


def conv_layers(channels: int = 1) -> list:
    return [
        keras.layers.Conv2D(3, 3, padding="same", name="conv"),
        keras.layers.Activation("relu", name="relu"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(4, activation="softmax", name="out"),
    ]


def functional(channels: int = 1) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, channels))
    x = inputs
    for layer in conv_layers(channels):
        x = layer(x)
    return keras.Model(inputs, x, name="functional")


def sequential(channels: int = 1) -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, channels)), *conv_layers(channels)], name="seq")


def nested(inner: keras.Model) -> keras.Model:
    inputs = keras.Input(inner.inputs[0].shape[1:])
    return keras.Model(inputs, inner(keras.layers.Identity(name="first")(inputs)), name="outer")


def images(n: int = 3, channels: int = 1) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, 8, 8, channels), dtype=np.uint8)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_method_gives_the_same_maps_for_functional_sequential_and_nested_models(
    method, channels
):
    x = images(channels=channels)
    base = functional(channels)
    seq = sequential(channels)
    seq.set_weights(base.get_weights())
    expected = method(base, x, **options(method))
    assert expected.shape == (3, 8, 8)
    assert expected.dtype == np.float32
    assert np.isfinite(expected).all()
    assert np.abs(expected).max() > 0
    for model in (seq, nested(seq), keras.Sequential([keras.Input((8, 8, channels)), base])):
        np.testing.assert_allclose(method(model, x, **options(method)), expected, atol=1e-6)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_one_image_a_target_for_all_and_a_target_per_image(method):
    model, x = functional(), images()
    predicted = cnnviz.predict(model, x).argmax(axis=1)
    by_default = method(model, x, **options(method))
    np.testing.assert_allclose(by_default, method(model, x, predicted, **options(method)))
    if method is not cnnviz.smoothgrad:  # its noise is drawn for the whole batch
        one = method(model, x[0], **options(method))
        np.testing.assert_allclose(one, by_default[:1], atol=1e-6)
    for_all = method(model, x, 2, **options(method))
    np.testing.assert_allclose(method(model, x, [2, 2, 2], **options(method)), for_all)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_chunks_give_the_same_maps(method, monkeypatch):
    model, x = functional(), images(5)
    whole = method(model, x, **options(method))
    monkeypatch.setattr(attribution, "_CHUNK", 2)
    np.testing.assert_allclose(method(model, x, **options(method)), whole, atol=1e-6)


def region_model(channels: int = 1, wrap=lambda m: m) -> keras.Model:
    """A model whose output depends only on the top-left 3x3 pixels."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, channels)),
            keras.layers.Cropping2D(((0, 5), (0, 5))),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    return wrap(model)


@pytest.mark.parametrize(
    "make", [region_model, lambda: region_model(3), lambda: region_model(wrap=nested)]
)
def test_pixels_outside_the_region_the_output_depends_on_get_nothing(make):
    model = make()
    x = images(channels=model.inputs[0].shape[-1])
    outside = np.ones((8, 8), bool)
    outside[:3, :3] = False
    grads = cnnviz.gradients(model, x)
    assert (grads[:, outside] == 0).all()
    assert (grads[:, ~outside] > 0).any()
    # Occlusion: any 2x2 window over a pixel at row or column 4 or more misses the region.
    far = np.ones((8, 8), bool)
    far[:4, :4] = False
    occluded = cnnviz.occlusion(model, x, window=2, stride=1)
    assert (occluded[:, far] == 0).all()
    assert (occluded[:, :3, :3] != 0).any()
    assert (cnnviz.smoothgrad(model, x, samples=3)[:, outside] == 0).all()
    assert (cnnviz.integrated_gradients(model, x, steps=4)[:, outside] == 0).all()


def bright_model() -> keras.Model:
    """Features fire on bright pixels; class 0 is "bright", class 1 "dark"."""
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(1, 1, activation="relu", name="bright")
    x = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(x))
    conv.set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    dense.set_weights([np.array([[1.0, -1.0]]), np.zeros(2)])
    return model


def test_grad_cam_peaks_on_the_bright_object():
    x = np.zeros((2, 12, 12, 1), np.float32)
    x[0, 2:5, 7:10] = 1.0
    x[1, 8:11, 1:4] = 0.8
    maps = cnnviz.grad_cam(bright_model(), x, target=0)
    for image, heat in zip(x[..., 0], maps, strict=True):
        assert image.flat[heat.argmax()] > 0
        assert heat[image == 0].max() == 0
    # For "dark" the bright pixels count against: nothing is left after the ReLU.
    assert (cnnviz.grad_cam(bright_model(), x, target=1) == 0).all()


def test_grad_cam_default_layer_is_the_activation_after_the_last_conv():
    assert attribution._grad_cam_layer(cnnviz.lenet5(), None) == "relu2"
    assert attribution._grad_cam_layer(nested(cnnviz.lenet5()), None) == "relu2"
    assert attribution._grad_cam_layer(bright_model(), None) == "bright"  # no separate activation
    model, x = cnnviz.lenet5(), np.zeros((2, 28, 28, 1), np.uint8)
    np.testing.assert_allclose(cnnviz.grad_cam(model, x), cnnviz.grad_cam(model, x, layer="relu2"))
    np.testing.assert_allclose(cnnviz.grad_cam(model, x, layer=5), cnnviz.grad_cam(model, x))


def logits(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """LeNet-5's input to its softmax, computed by hand."""
    features = keras.Model(model.inputs[0], model.get_layer("fc2").output)(x)
    kernel, bias = model.get_layer("op").get_weights()
    return keras.ops.convert_to_numpy(features) @ kernel + bias


def test_integrated_gradients_are_complete_and_the_error_falls_with_steps():
    keras.utils.set_random_seed(3)
    model = cnnviz.lenet5()
    # Biases of 0 (as initialised) make a ReLU network linear along the path from 0, where
    # any number of steps is exact; random biases make the path bend.
    rng = np.random.default_rng(3)
    model.set_weights(
        [w if w.ndim > 1 else rng.normal(0, 0.05, w.shape) for w in model.get_weights()]
    )
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    target = np.array([0, 3, 5, 9])
    rows = np.arange(4)
    expected = logits(model, x)[rows, target] - logits(model, np.zeros_like(x))[rows, target]

    def error(steps: int) -> float:
        sums = cnnviz.integrated_gradients(model, x, target, steps=steps).sum(axis=(1, 2))
        return float(np.max(np.abs(sums - expected) / np.abs(expected)))

    # Measured (worst of the 4 images): 38% at 4 steps, 8% at 16, 4.4% at 64, 2.0% at 256.
    errors = {steps: error(steps) for steps in (4, 16, 64, 256)}
    assert errors[64] < 0.05
    assert errors[256] < errors[64] < errors[16] < errors[4]


def test_a_baseline_of_the_image_itself_gives_zero():
    model, x = functional(), images()
    maps = cnnviz.integrated_gradients(model, x, baseline=x, steps=4)
    assert (maps == 0).all()
    np.testing.assert_allclose(
        cnnviz.integrated_gradients(model, x, baseline=0.0, steps=4),
        cnnviz.integrated_gradients(model, x, steps=4),
    )


def test_smoothgrad_is_deterministic_for_a_seed_and_is_gradients_without_noise():
    model, x = functional(), images()
    a = cnnviz.smoothgrad(model, x, samples=3, seed=5)
    np.testing.assert_array_equal(a, cnnviz.smoothgrad(model, x, samples=3, seed=5))
    assert not np.array_equal(a, cnnviz.smoothgrad(model, x, samples=3, seed=6))
    np.testing.assert_allclose(
        cnnviz.smoothgrad(model, x, samples=2, noise=0), cnnviz.gradients(model, x), atol=1e-7
    )


def test_a_model_without_a_softmax_is_explained_by_its_output():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    kernel = model.layers[-1].get_weights()[0]
    maps = cnnviz.gradients(model, np.ones((1, 4, 4, 1), np.float32), target=1)
    np.testing.assert_allclose(maps[0], np.abs(kernel[:, 1]).reshape(4, 4), rtol=1e-6)


def test_a_softmax_model_is_explained_by_the_softmaxs_input():
    # Dense(softmax) or Dense then Softmax(): the same score, so the same gradients.
    keras.utils.set_random_seed(0)
    dense = keras.layers.Dense(2)
    inputs = keras.Input((4, 4, 1))
    flat = keras.layers.Flatten()(inputs)
    with_layer = keras.Model(inputs, keras.layers.Softmax()(dense(flat)))
    kernel = dense.get_weights()[0]
    maps = cnnviz.gradients(with_layer, np.ones((1, 4, 4, 1), np.float32), target=0)
    np.testing.assert_allclose(maps[0], np.abs(kernel[:, 0]).reshape(4, 4), rtol=1e-6)


def test_the_model_is_left_as_it_was():
    model = cnnviz.lenet5()
    config, weights = model.get_config(), model.get_weights()
    x = np.zeros((2, 28, 28, 1), np.uint8)
    for method in METHODS:
        method(model, x, **options(method))
    assert model.get_config() == config
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert set(cnnviz.layer_outputs(model, x)) == {layer.name for layer in model.layers[1:]}
