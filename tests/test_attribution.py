"""Attribution maps against known answers on small hand-built models."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnnviz
from cnnviz import _batches
from cnnviz.attribution import methods, sanity

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
    monkeypatch.setattr(_batches, "MAX_IMAGES", 2)
    np.testing.assert_allclose(method(model, x, **options(method)), whole, atol=1e-6)


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_a_finite_stream_is_read_whole_and_gives_the_arrays_maps(method, form, streams):
    model, x = functional(), images(7)
    target = np.arange(7) % 4  # one per image, in the order of the stream
    expected = method(model, x, target, **options(method))
    # Exact: the stream's batches are joined into the same array, then the same chunks run.
    got = method(model, streams(x, batch=3)[form], target, **options(method))
    np.testing.assert_array_equal(got, expected)
    labelled = streams(x, np.zeros(7, int), batch=3)[form]  # labels are not targets: ignored
    np.testing.assert_array_equal(method(model, labelled, target, **options(method)), expected)


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_curves_and_the_randomization_check_read_a_finite_stream_whole(form, streams):
    model, x = functional(), images(5)
    maps = cnnviz.gradients(model, x)
    for curve in (cnnviz.deletion_curve, cnnviz.insertion_curve):
        expected = curve(model, x, maps, steps=4)
        got = curve(model, streams(x, batch=2)[form], maps, steps=4)
        np.testing.assert_array_equal(got["probabilities"], expected["probabilities"])
    expected = cnnviz.randomization_check(model, x)
    got = cnnviz.randomization_check(model, streams(x, batch=2)[form])
    np.testing.assert_array_equal(got["maps"], expected["maps"])


@pytest.mark.parametrize(
    "call",
    [
        *[lambda model, s, m=m: m(model, s, **options(m)) for m in METHODS],
        lambda model, s: cnnviz.randomization_check(model, s),
        lambda model, s: cnnviz.deletion_curve(model, s, np.zeros((6, 8, 8))),
        lambda model, s: cnnviz.insertion_curve(model, s, np.zeros((6, 8, 8))),
    ],
    ids=[m.__name__ for m in METHODS] + ["randomization_check", "deletion", "insertion"],
)
def test_a_dataset_that_never_ends_is_refused_and_take_is_named(call, endless_stream):
    dataset, pulled = endless_stream(images(2))
    with pytest.raises(
        ValueError, match=r"never ends .*so give a finite one, e\.g\. dataset\.take"
    ):
        call(functional(), dataset)
    assert pulled == []


def test_a_stream_is_checked_batch_by_batch():
    model, x = functional(), images(4)
    with pytest.raises(ValueError, match=r"batch 1 of images must be a batch .*\(2, 8, 7, 1\)"):
        cnnviz.gradients(model, [x[:2], x[2:, :, :7]])
    with pytest.raises(ValueError, match=r"images gave no batches: the stream is empty"):
        cnnviz.occlusion(model, iter([]))
    with pytest.raises(ValueError, match=r"target must give one class index per image: 4 for 4"):
        cnnviz.grad_cam(model, [x[:2], x[2:]], [0, 1, 2])


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


def one_pixel_model(weight: float, bias: float, activation: str | None = "softmax") -> keras.Model:
    """Class 0's score is weight * x[2, 3] + bias, class 1's is 0: one pixel decides."""
    inputs = keras.Input((8, 8, 1))
    dense = keras.layers.Dense(2, activation=activation)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    kernel = np.zeros((64, 2), np.float32)
    kernel[2 * 8 + 3, 0] = weight
    dense.set_weights([kernel, np.array([bias, 0.0], np.float32)])
    return model


def occluded_by_hand(drop: float, window: int, stride: int) -> np.ndarray:
    """The occlusion map when hiding pixel (2, 3) drops the measure by `drop`, nothing else does."""
    starts = methods._window_starts(8, window, stride)
    total, covered = np.zeros((8, 8)), np.zeros((8, 8), np.int64)
    for top in starts:
        for left in starts:
            hides = top <= 2 < top + window and left <= 3 < left + window
            total[top : top + window, left : left + window] += drop if hides else 0.0
            covered[top : top + window, left : left + window] += 1
    return (total / covered).astype(np.float32)


@pytest.mark.parametrize(("window", "stride"), [(2, 1), (3, 2), (4, 4)])
def test_occlusion_of_a_one_pixel_model_is_known_exactly(window, stride):
    # Weights, pixel and bias of few bits: the score 2 * 0.75 + 0.25 = 1.75 and the occluded
    # 2 * 0 + 0.25 are exact in float32 (the other products are 0 * pixel), and so is the drop.
    model = one_pixel_model(2.0, 0.25)
    x = np.random.default_rng(7).random((3, 8, 8, 1), dtype=np.float32)
    x[:, 2, 3, 0] = 0.75
    maps = cnnviz.occlusion(model, x, 0, window=window, stride=stride)
    want = occluded_by_hand(1.5, window, stride)
    np.testing.assert_array_equal(maps, np.broadcast_to(want, maps.shape))
    assert (maps[:, want == 0] == 0).all()  # every window that misses the pixel: exactly 0


def test_occlusion_measures_the_score_where_the_probability_is_saturated():
    # Class 0's score is 40 * x + 40: 70 with the pixel at 0.75, 40 hidden. Its probability,
    # 1 / (1 + e**-70) or 1 / (1 + e**-40), is 1.0 in float32 either way: nothing to see.
    model = one_pixel_model(40.0, 40.0)
    x = np.zeros((2, 8, 8, 1), np.float32)
    x[:, 2, 3, 0] = 0.75
    score = cnnviz.occlusion(model, x, 0, window=3, stride=1)
    np.testing.assert_array_equal(score, np.broadcast_to(occluded_by_hand(30.0, 3, 1), score.shape))
    assert (cnnviz.occlusion(model, x, 0, window=3, stride=1, measure="score") == score).all()
    probability = cnnviz.occlusion(model, x, 0, window=3, stride=1, measure="probability")
    assert np.abs(probability).max() <= 1e-7


def test_occlusion_can_measure_the_probability():
    # Score 1.75 against 0, then 0.25 against 0: the probability drops by
    # sigmoid(1.75) - sigmoid(0.25) where a window hides the pixel, and exactly 0 elsewhere.
    model = one_pixel_model(2.0, 0.25)
    x = np.zeros((2, 8, 8, 1), np.float32)
    x[:, 2, 3, 0] = 0.75
    maps = cnnviz.occlusion(model, x, 0, window=2, stride=1, measure="probability")
    drop = 1 / (1 + np.exp(-1.75)) - 1 / (1 + np.exp(-0.25))
    want = np.broadcast_to(occluded_by_hand(drop, 2, 1), maps.shape)
    np.testing.assert_allclose(maps, want, rtol=1e-6, atol=0)
    assert (maps[:, want[0] == 0] == 0).all()
    # A model without a softmax: the score is its output, and so is the "probability".
    logits = one_pixel_model(2.0, 0.25, activation=None)
    plain = cnnviz.occlusion(logits, x, 0, window=2, stride=1)
    np.testing.assert_array_equal(plain, np.broadcast_to(occluded_by_hand(1.5, 2, 1), plain.shape))


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
    assert methods._grad_cam_layer(cnnviz.lenet5(), None) == "relu2"
    assert methods._grad_cam_layer(nested(cnnviz.lenet5()), None) == "relu2"
    assert methods._grad_cam_layer(bright_model(), None) == "bright"  # no separate activation
    model, x = cnnviz.lenet5(), np.zeros((2, 28, 28, 1), np.uint8)
    np.testing.assert_allclose(cnnviz.grad_cam(model, x), cnnviz.grad_cam(model, x, layer="relu2"))
    np.testing.assert_allclose(cnnviz.grad_cam(model, x, layer=5), cnnviz.grad_cam(model, x))


# --- Grad-CAM's cells at their receptive fields' centres ---------------------------------------


def one_tap_model(shape: tuple[int, int], body: list) -> keras.Model:
    """`body` (its first layer a 1-channel Conv2D) reading only its window's first tap (weight 1),
    then global average pooling and a head whose class 0 is the pooled value (class 1 minus it).

    The Grad-CAM weight of the one channel is then 1 / cells, so the map at the layer is the
    layer's output divided by its number of cells: a bright pixel under the first tap of a
    unit gives a map with one hot cell, of a known value.
    """
    inputs = keras.Input((*shape, 1))
    x = inputs
    for layer in body:
        x = layer(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(x))
    conv = body[0]
    kernel = np.zeros(conv.kernel.shape, np.float32)
    kernel[0, 0, 0, 0] = 1.0
    conv.set_weights([kernel, np.zeros(1, np.float32)])
    dense.set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    return model


# Per model: its layers, image size, and unit i's field centre along an axis, by hand (pixel
# k at k). In every one, the first tap of unit (a, b) reads pixel (jump * a, jump * b).
CENTRES = {
    # LeNet-5's valid relu2 in one layer: unit i sees pixels 2i..2i+13.
    "14x14, stride 2": ([lambda: keras.layers.Conv2D(1, 14, strides=2)], (28, 20), 2, 6.5),
    # Taps i, i + 2, i + 4: the field spans 5 pixels.
    "dilated": ([lambda: keras.layers.Conv2D(1, 3, dilation_rate=2)], (12, 10), 1, 2.0),
    # 3x3 then 2x2 pooling: unit i sees pixels 2i..2i+3.
    "pooled": (
        [lambda: keras.layers.Conv2D(1, 3), lambda: keras.layers.MaxPooling2D(2)],
        (12, 16),
        2,
        1.5,
    ),
    # TensorFlow pads an even image's 3x3 stride-2 same window by 0 before and 1 after: unit i
    # sees pixels 2i..2i+2, centred at 2i + 1, where a resize of the map puts it at 2i + 0.5.
    "same, stride 2": (
        [lambda: keras.layers.Conv2D(1, 3, strides=2, padding="same")],
        (12, 12),
        2,
        1.0,
    ),
}


@pytest.mark.parametrize("case", CENTRES)
def test_a_hot_cell_peaks_at_its_receptive_fields_centre(case):
    body, shape, jump, first = CENTRES[case]
    model = one_tap_model(shape, [make() for make in body])
    cells = model.layers[len(body)].output.shape[1:3]
    a, b = cells[0] // 2, cells[1] - 2
    x = np.zeros((1, *shape, 1), np.float32)
    x[0, jump * a, jump * b] = 0.8
    heat = cnnviz.grad_cam(model, x, target=0, layer=len(body))[0]
    value = 0.8 / (cells[0] * cells[1])  # the hot cell's value
    centre = (first + jump * a, first + jump * b)
    # The peak: the centre's pixel, or the two (four) pixels half a pixel either side of it,
    # which lie a quarter of the way to the next centres.
    peak = [np.arange(np.floor(c), np.ceil(c) + 1).astype(int) for c in centre]
    factor = np.prod([1.0 if c == int(c) else 1 - 0.5 / jump for c in centre])
    np.testing.assert_allclose(heat[np.ix_(*peak)], value * factor, rtol=1e-6)
    assert heat.max() == pytest.approx(value * factor, rel=1e-6)
    # Nothing at or beyond the neighbouring cells' centres: their cells are 0.
    far = np.ones(shape, bool)
    far[int(centre[0] - jump) + 1 : int(np.ceil(centre[0] + jump)), :] = False
    assert (heat[far] == 0).all()
    far = np.ones(shape, bool)
    far[:, int(centre[1] - jump) + 1 : int(np.ceil(centre[1] + jump))] = False
    assert (heat[far] == 0).all()


def test_the_map_is_linear_between_centres_and_the_nearest_cell_beyond_them():
    # LeNet-5's valid relu2 geometry on 28x20 images: 8x4 cells, centres 6.5, 8.5, ...
    model = one_tap_model((28, 20), [keras.layers.Conv2D(1, 14, strides=2)])
    x = np.zeros((1, 28, 20, 1), np.float32)
    x[0, 0, 0] = 0.5  # cell (0, 0)
    x[0, 6, 2] = 0.25  # cell (3, 1), centred at (12.5, 8.5)
    x[0, 6, 4] = 1.0  # cell (3, 2), centred at (12.5, 10.5)
    x[0, 14, 6] = 0.75  # cell (7, 3), the last, centred at (20.5, 12.5)
    heat = cnnviz.grad_cam(model, x, target=0, layer=1)[0]
    v = np.array([0.5, 0.25, 1.0, 0.75]) / 32
    # Rows 12 and 13 lie half a pixel from row centre 12.5; columns 9 and 10 a quarter and
    # three quarters of the way from centre 8.5 to 10.5.
    between = 0.75 * np.array([0.75 * v[1] + 0.25 * v[2], 0.25 * v[1] + 0.75 * v[2]])
    np.testing.assert_allclose(heat[12, 9:11], between, rtol=1e-6)
    np.testing.assert_allclose(heat[13, 9:11], between, rtol=1e-6)
    # Beyond the outermost centres (rows and columns 0..6, rows 21..27, columns 13..19),
    # each pixel takes the nearest cell's value.
    np.testing.assert_allclose(heat[:7, :7], v[0], rtol=1e-6)
    np.testing.assert_allclose(heat[21:, 13:], v[3], rtol=1e-6)
    assert (heat[:7, 9:] == 0).all()


def test_pixels_beyond_every_field_are_zero_not_the_nearest_cell():
    # 3x3 stride-2 valid on 16 pixels: unit i reads pixels 2i..2i+2, the last (6) 12..14, so
    # no unit reads pixel 15; a crop of the 16 columns' last 4 leaves columns 12..15 unread.
    # Every cell is 1 (a bright, flat image under the one-tap kernel: each unit reads 0.5):
    # the map is the cell's value, 0.5 / 49 (a 7x7 map), on every pixel some unit reads, and
    # 0 on the others, where holding the nearest cell's value would claim the layer saw them.
    model = one_tap_model((16, 16), [keras.layers.Conv2D(1, 3, strides=2)])
    x = np.full((1, 16, 16, 1), 0.5, np.float32)
    heat = cnnviz.grad_cam(model, x, target=0, layer=1)[0]
    np.testing.assert_allclose(heat[:15, :15], 0.5 / 49, rtol=1e-6)
    assert (heat[15, :] == 0).all()
    assert (heat[:, 15] == 0).all()
    cropped = one_tap_model(
        (16, 16), [keras.layers.Conv2D(1, 3), keras.layers.Cropping2D(((0, 0), (0, 4)))]
    )
    heat = cnnviz.grad_cam(cropped, x, target=0, layer=2)[0]
    # Conv 14x14, cropped to 14x10: unit column j reads pixels j..j+2, the last (9) 9..11.
    np.testing.assert_allclose(heat[:, :12], 0.5 / 140, rtol=1e-6)
    assert (heat[:, 12:] == 0).all()
    # 1x1 stride 2 on 8 pixels: unit i reads pixel 2i only. The odd pixels between two fields
    # are interpolated as before (no stripes); only pixel 7, beyond the last field, is 0.
    strided = one_tap_model((8, 8), [keras.layers.Conv2D(1, 1, strides=2)])
    heat = cnnviz.grad_cam(strided, x[:, :8, :8], target=0, layer=1)[0]
    np.testing.assert_allclose(heat[:7, :7], 0.5 / 16, rtol=1e-6)
    assert (heat[7, :] == 0).all()
    assert (heat[:, 7] == 0).all()


def cells_by_hand(model: keras.Model, x: np.ndarray, layer: str) -> np.ndarray:
    """LeNet-5's Grad-CAM cells at `layer`, by hand: the score is the softmax's input."""
    kernel, bias = model.get_layer("op").get_weights()
    feature = tf.Variable(keras.Model(model.inputs[0], model.get_layer(layer).output)(x))
    rest = keras.Model(model.get_layer(layer).output, model.get_layer("fc2").output)
    with tf.GradientTape() as tape:
        scores = rest(feature) @ kernel + bias
        picked = tf.reduce_sum(tf.gather(scores, tf.argmax(scores, axis=1), axis=1, batch_dims=1))
    weights = tf.reduce_mean(tape.gradient(picked, feature), axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * feature, axis=-1, keepdims=True))


@pytest.mark.parametrize("layer", ["relu1", "relu2", "max_pool2"])
def test_the_same_models_cells_stay_where_a_resize_puts_them(layer):
    # The same LeNet-5's padding is even on both sides and its poolings halve 28 and 14
    # exactly: every field centre is where resizing the map puts its cell (relu2's cell i
    # at pixel 2i + 0.5), so its maps are what they were before the cells were placed.
    keras.utils.set_random_seed(5)
    model = cnnviz.lenet5("same")
    x = np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32)
    resized = tf.image.resize(cells_by_hand(model, x, layer), (28, 28), method="bilinear")
    np.testing.assert_allclose(
        cnnviz.grad_cam(model, x, layer=layer), resized.numpy()[..., 0], rtol=1e-4, atol=1e-7
    )


@pytest.mark.parametrize(
    ("before", "why"),
    [
        (lambda: keras.layers.Resizing(12, 12, name="resize"), r"layer 'resize' is a Resizing"),
        (
            lambda: keras.layers.UpSampling2D(2, name="up"),
            r"after layer 'up' \(UpSampling2D\) neighbouring units share one field",
        ),
    ],
)
def test_cells_without_a_known_field_are_resized_with_a_warning_naming_the_layer(before, why):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    features = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(before()(inputs))
    scores = keras.layers.Dense(2, name="scores")(keras.layers.Flatten()(features))
    model = keras.Model(inputs, scores)
    x = np.random.default_rng(3).random((2, 6, 6, 1), dtype=np.float32)
    with pytest.warns(UserWarning, match=r"cannot place the cells of layer 'conv' .*" + why):
        heat = cnnviz.grad_cam(model, x, target=0)
    feature = tf.Variable(keras.Model(inputs, features)(x))
    tail = keras.Model(features, scores)
    with tf.GradientTape() as tape:
        picked = tf.reduce_sum(tail(feature)[:, 0])
    weights = tf.reduce_mean(tape.gradient(picked, feature), axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * feature, axis=-1, keepdims=True))
    resized = tf.image.resize(cam, (6, 6), method="bilinear").numpy()[..., 0]
    np.testing.assert_allclose(heat, np.maximum(resized, 0), rtol=1e-5, atol=1e-7)


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


@pytest.mark.parametrize("kind", ["signed", "squared", "absolute"])
def test_smoothgrad_is_deterministic_for_a_seed(kind):
    model, x = functional(), images()
    a = cnnviz.smoothgrad(model, x, samples=3, seed=5, kind=kind)
    np.testing.assert_array_equal(a, cnnviz.smoothgrad(model, x, samples=3, seed=5, kind=kind))
    assert not np.array_equal(a, cnnviz.smoothgrad(model, x, samples=3, seed=6, kind=kind))


def test_smoothgrad_without_noise_is_the_gradient_of_the_image():
    model, x = functional(), images()
    grads = cnnviz.gradients(model, x)  # |gradient| (one channel)
    signed = cnnviz.smoothgrad(model, x, samples=2, noise=0)
    assert (signed < 0).any()  # the paper's average keeps the signs
    np.testing.assert_allclose(np.abs(signed), grads, atol=1e-7)
    squared = cnnviz.smoothgrad(model, x, samples=2, noise=0, kind="squared")
    np.testing.assert_allclose(squared, grads.astype(np.float64) ** 2, rtol=1e-6, atol=1e-12)
    absolute = cnnviz.smoothgrad(model, x, samples=2, noise=0, kind="absolute")
    np.testing.assert_allclose(absolute, grads, atol=1e-7)


def linear_model(channels: int) -> tuple[keras.Model, np.ndarray]:
    """Class 0's score is sum(weights * x) + 0.5: its gradient is the weights at any image."""
    inputs = keras.Input((6, 6, channels))
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    weights = np.random.default_rng(4).normal(size=(6, 6, channels)).astype(np.float32)
    kernel = np.zeros((6 * 6 * channels, 2), np.float32)
    kernel[:, 0] = weights.ravel()
    dense.set_weights([kernel, np.array([0.5, 0.0], np.float32)])
    return model, weights


@pytest.mark.parametrize("channels", [1, 3])
def test_smoothgrad_of_a_linear_model_is_its_weights(channels):
    # The gradient of a linear score is its weights wherever the noise lands, each computed
    # as 1 * weight plus products with 0: exact on any CPU, and so is their mean.
    model, weights = linear_model(channels)
    x = np.random.default_rng(5).random((2, 6, 6, channels), dtype=np.float32)
    signed = cnnviz.smoothgrad(model, x, 0, samples=5, noise=0.3)
    want = weights.astype(np.float64).sum(axis=-1)
    np.testing.assert_allclose(signed, np.broadcast_to(want, (2, 6, 6)), rtol=1e-6, atol=0)
    if channels == 1:  # one channel: no sum, so the very weights
        np.testing.assert_array_equal(signed, np.broadcast_to(weights[..., 0], (2, 6, 6)))
    squared = cnnviz.smoothgrad(model, x, 0, samples=5, noise=0.3, kind="squared")
    want = (weights.astype(np.float64) ** 2).sum(axis=-1).astype(np.float32)
    np.testing.assert_allclose(squared, np.broadcast_to(want, (2, 6, 6)), rtol=1e-6, atol=0)
    absolute = cnnviz.smoothgrad(model, x, 0, samples=5, noise=0.3, kind="absolute")
    want = np.abs(weights).max(axis=-1)
    np.testing.assert_array_equal(absolute, np.broadcast_to(want, (2, 6, 6)))


def test_smoothgrad_noise_is_a_fraction_of_each_images_range_in_pixel_units():
    # Class 0's score is sum(x**2): its gradient at a noisy copy is 2 (x + e), so the mean
    # squared gradient is 4 (x**2 + sigma**2) on average: it reads sigma off each image.
    inputs = keras.Input((8, 8, 1))
    squares = keras.layers.Multiply()([inputs, inputs])
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(squares)))
    kernel = np.zeros((64, 2), np.float32)
    kernel[:, 0] = 1.0
    dense.set_weights([kernel, np.zeros(2, np.float32)])
    rng = np.random.default_rng(6)
    x = np.stack([rng.random((8, 8, 1)), 0.25 + 0.5 * rng.random((8, 8, 1))]).astype(np.float32)
    x[0, 0, 0], x[0, 0, 1] = 0.0, 1.0  # image 0 spans 0 to 1; image 1 spans about 0.5
    x[1, 0, 0], x[1, 0, 1] = 0.25, 0.75
    squared = cnnviz.smoothgrad(model, x, 0, samples=400, noise=0.2, kind="squared", seed=3)
    sigma2 = (squared / 4 - x[..., 0].astype(np.float64) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(np.sqrt(sigma2), [0.2 * 1.0, 0.2 * 0.5], rtol=0.1)
    # The signed mean is 2 x: the noise cancels (its mean is 0; 400 copies leave ~0.01 sigma).
    signed = cnnviz.smoothgrad(model, x, 0, samples=400, noise=0.2, seed=3)
    np.testing.assert_allclose(signed, 2 * x[..., 0], atol=0.1)


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


# --- the cascading randomization check --------------------------------------------------------


def test_randomization_check_leaves_the_model_unchanged():
    model = cnnviz.lenet5()
    config, weights = model.get_config(), model.get_weights()
    x = images(2).repeat(4, axis=1).repeat(4, axis=2)[:, :28, :28]
    result = cnnviz.randomization_check(model, x)
    assert model.get_config() == config
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # The first maps are the given model's own.
    np.testing.assert_allclose(result["maps"][0], cnnviz.gradients(model, x), atol=1e-6)
    assert result["method"] == "gradients"
    assert result["maps"].shape == (6, 2, 28, 28)
    assert result["maps"].dtype == np.float32
    assert result["correlation"].shape == result["correlation_abs"].shape == (5,)
    assert result["per_image"].shape == result["per_image_abs"].shape == (5, 2)
    assert result["cascade"] is True


def nested_in_the_middle() -> keras.Model:
    keras.utils.set_random_seed(0)
    inner = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(2, 3, name="a"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(4, name="b"),
        ],
        name="inner",
    )
    inputs = keras.Input((8, 8, 1))
    x = inner(keras.layers.Conv2D(2, 1, name="pre")(inputs))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="post")(x))


def test_layers_are_randomized_from_the_output_down_nested_models_included():
    order = ["op", "fc2", "fc1", "conv2", "conv1"]
    # Not a black image: its gradients are all 0 (ReLU at 0), which the check refuses.
    x = np.random.default_rng(0).integers(0, 256, (1, 28, 28, 1), np.uint8)
    lenet = cnnviz.lenet5()
    for model in (lenet, nested(lenet), keras.Sequential([keras.Input((28, 28, 1)), lenet])):
        assert cnnviz.randomization_check(model, x)["layers"] == order
    result = cnnviz.randomization_check(nested_in_the_middle(), images(1))
    assert result["layers"] == ["post", "b", "a", "pre"]


@pytest.mark.parametrize("channels", [1, 3])
def test_randomization_check_is_the_same_for_functional_sequential_and_nested_models(channels):
    x = images(channels=channels)
    base = functional(channels)
    seq = sequential(channels)
    seq.set_weights(base.get_weights())
    expected = cnnviz.randomization_check(base, x, "integrated_gradients", steps=4, seed=3)
    assert expected["layers"] == ["out", "conv"]
    for model in (seq, nested(seq), keras.Sequential([keras.Input((8, 8, channels)), base])):
        result = cnnviz.randomization_check(model, x, cnnviz.integrated_gradients, steps=4, seed=3)
        assert result["layers"] == expected["layers"]
        np.testing.assert_allclose(result["maps"], expected["maps"], atol=1e-6)
        np.testing.assert_allclose(result["correlation"], expected["correlation"], atol=1e-6)
    # The seed decides the new weights: the same seed, the same result; another, another.
    again = cnnviz.randomization_check(base, x, "integrated_gradients", steps=4, seed=3)
    np.testing.assert_array_equal(again["maps"], expected["maps"])
    other = cnnviz.randomization_check(base, x, "integrated_gradients", steps=4, seed=4)
    assert not np.array_equal(other["maps"][1:], expected["maps"][1:])


@pytest.fixture(scope="module")
def trained_region_model() -> tuple[keras.Model, np.ndarray]:
    """A small model trained (a few seconds) on noise whose label is the top-left 3x3's brightness."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((256, 8, 8, 1), dtype=np.float32)
    y = (x[:, :3, :3].mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(32, activation="relu", name="hidden"),
            keras.layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    return model, x[:16]


def test_the_correlation_starts_high_and_falls_as_layers_are_randomized(trained_region_model):
    model, x = trained_region_model
    # Measured: occlusion of the probability 0.83, 0.35, 0.04; gradients 0.19, -0.02, -0.05.
    # (Occlusion of the score, its default, falls faster from the start, 0.52, 0.23, 0.11:
    # randomizing the output layer rewrites the score itself.)
    occluded = cnnviz.randomization_check(
        model, x, "occlusion", window=2, stride=1, measure="probability"
    )
    assert occluded["layers"] == ["out", "hidden", "conv"]
    assert occluded["correlation"][0] > 0.6
    assert occluded["correlation"][-1] < 0.2
    assert np.all(np.diff(occluded["correlation"]) < 0)
    grads = cnnviz.randomization_check(model, x, "gradients")
    assert grads["correlation"][-1] < grads["correlation"][0]
    assert abs(grads["correlation"][-1]) < 0.2


def test_a_map_that_ignores_the_model_keeps_a_correlation_of_one():
    # An "explanation" that is the image itself fails the check: it does not change.
    def the_image(model, x, target):
        return x.max(axis=-1)

    result = cnnviz.randomization_check(functional(), images(), the_image)
    assert result["method"] == "the_image"
    np.testing.assert_allclose(result["correlation"], 1.0)


def test_an_image_whose_original_map_is_constant_is_left_out_of_the_mean():
    def constant_for_the_first(model, x, target):
        maps = cnnviz.gradients(model, x, target)
        maps[0] = 1.0
        return maps

    x = images()
    result = cnnviz.randomization_check(functional(), x, constant_for_the_first)
    assert np.isnan(result["per_image"][:, 0]).all()
    np.testing.assert_allclose(result["correlation"], result["per_image"][:, 1:].mean(axis=1))
    assert np.isfinite(result["correlation"]).all()
    # The counts say so: 2 of the 3 images at every step, signed and absolute.
    np.testing.assert_array_equal(result["n_images"], [2, 2])
    np.testing.assert_array_equal(result["n_images_abs"], [2, 2])
    assert np.isnan(result["per_image_abs"][:, 0]).all()


def test_constant_maps_for_every_image_are_refused_not_a_nan_correlation():
    with pytest.raises(
        ValueError,
        match=r"method '<lambda>' must give at least one image a map that is not constant; on "
        r"the model it returned constant maps for all 3 image\(s\) \(e\.g\. all 0\.0\)",
    ):
        cnnviz.randomization_check(functional(), images(), lambda m, x, t: np.zeros(x.shape[:3]))


def test_a_map_that_becomes_constant_keeps_none_of_the_order():
    def flat_once_randomized(model, x, target):
        maps = cnnviz.gradients(model, x, target)
        return maps if model.get_weights()[0][0, 0, 0, 0] == first_weight else maps * 0 + 2.0

    model = functional()
    first_weight = model.get_weights()[0][0, 0, 0, 0]
    result = cnnviz.randomization_check(model, images(), flat_once_randomized)
    # The first layer (conv1, randomized last) keeps its weight until the last step.
    assert (result["per_image"][-1] == 0.0).all()
    assert result["correlation"][-1] == 0.0
    # Spearman by hand: a constant second map has no rank order, so 0; a constant first, NaN.
    a = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(sanity._spearman(a, np.full((2, 3), 7.0)), [0.0, np.nan])


@pytest.mark.parametrize(
    ("returned", "error", "words"),
    [
        (
            lambda x: np.full(x.shape[:3], np.nan),
            ValueError,
            r"on the model it returned 192 NaN or infinite value\(s\), the first at index \(0, 0, 0\) \(nan\)",
        ),
        (
            lambda x: x.astype(np.float32),
            ValueError,
            r"on the model it returned shape \(3, 8, 8, 1\)",
        ),
        (lambda x: np.zeros((2, 8, 8)), ValueError, r"on the model it returned shape \(2, 8, 8\)"),
        (lambda x: np.zeros((3, 4, 4)), ValueError, r"on the model it returned shape \(3, 4, 4\)"),
        (
            lambda x: None,
            TypeError,
            r"on the model it returned NoneType of dtype object, not real numbers",
        ),
        (
            lambda x: [["a"]],
            TypeError,
            r"on the model it returned list of dtype <U1, not real numbers",
        ),
    ],
    ids=["NaN maps", "(N, H, W, 1)", "fewer maps", "smaller maps", "None", "strings"],
)
def test_a_methods_maps_are_checked_like_any_argument(returned, error, words):
    def method(model, x, target):
        return returned(x)

    with pytest.raises(
        error,
        match=r"method 'method' must return one finite map per image, \(N, H, W\) = \(3, 8, 8\); "
        + words,
    ):
        cnnviz.randomization_check(functional(), images(), method)


def test_maps_that_turn_nan_after_a_step_are_named_by_the_layers_randomized():
    calls = []

    def nan_once_randomized(model, x, target):
        calls.append(1)  # the first call is on the model as it is, the second after one step
        maps = cnnviz.gradients(model, x, target)
        return maps if len(calls) == 1 else np.full_like(maps, np.inf)

    model = functional()
    name = model.layers[-1].name
    with pytest.raises(
        ValueError,
        match=rf"after re-initialising '{name}' it returned 192 NaN or infinite value\(s\), the first at index \(0, 0, 0\) \(inf\)",
    ):
        cnnviz.randomization_check(model, images(), nan_once_randomized)


def test_a_methods_maps_are_ranked_as_it_returned_them():
    # float64 maps too small for float32 (all 0.0 there) and integers beyond 2**24 (which
    # float32 rounds alike) keep their order: the correlations are those of the gradients.
    def tiny(model, x, target):
        return cnnviz.gradients(model, x, target).astype(np.float64) * 1e-300

    def large_integers(model, x, target):
        # Twice the gradients' average ranks (whole numbers) above 2**40, where float32's
        # steps are 2**17: the same order, which float32 would flatten to one value.
        maps = cnnviz.gradients(model, x, target)
        ranks = sanity._ranks(maps.reshape(len(maps), -1)).reshape(maps.shape)
        return (2 * ranks).astype(np.int64) + 2**40

    model, x = functional(), images()
    expected = cnnviz.randomization_check(model, x, "gradients")
    for method in (tiny, large_integers):
        result = cnnviz.randomization_check(model, x, method)
        np.testing.assert_array_equal(result["per_image"], expected["per_image"])
        assert result["maps"].dtype == np.float32


def test_maps_beyond_float32_are_refused_not_made_infinite():
    def huge(model, x, target):
        return cnnviz.gradients(model, x, target).astype(np.float64) * 1e300

    with pytest.raises(
        ValueError,
        match=r"must return one finite map per image, \(N, H, W\) = \(3, 8, 8\), of values within "
        r"float32's range \(±3\.403e\+38\), in which result\['maps'\] holds them; on the model it "
        r"returned values up to \d\.\d+e\+\d+: scale the maps",
    ):
        cnnviz.randomization_check(functional(), images(), huge)


def test_a_method_cannot_change_the_images_it_explains():
    # In place, the next step would explain other images than the first.
    def normalising(model, x, target):
        x /= x.max()
        return cnnviz.gradients(model, x, target)

    x = images().astype(np.float32) / 255  # float32 images are used as they are, not copied
    with pytest.raises(ValueError, match="read-only"):
        cnnviz.randomization_check(functional(), x, normalising)
    assert x.flags.writeable  # the caller's own array is left as it was
    x[0, 0, 0, 0] = 0.5


def test_a_method_named_by_a_numpy_string_is_named_by_a_str():
    result = cnnviz.randomization_check(functional(), images(), np.str_("gradients"))
    assert type(result["method"]) is str
    assert result["method"] == "gradients"


def test_spearman_uses_average_ranks_for_ties():
    np.testing.assert_array_equal(
        sanity._ranks(np.array([[3.0, 1.0, 2.0, 2.0]])), [[4.0, 1.0, 2.5, 2.5]]
    )
    a = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [0.0, 5.0, 5.0, 1.0]])
    b = np.array([[10.0, 20.0, 30.0, 400.0], [4.0, 3.0, 2.0, 1.0], [2.0, 3.0, 3.0, 1.0]])
    # Third pair: ranks (1, 3.5, 3.5, 2) and (2, 3.5, 3.5, 1); centred, 3.5 / 4.5.
    np.testing.assert_allclose(sanity._spearman(a, b), [1.0, -1.0, 7 / 9])


def test_new_weights_come_from_the_layers_own_initializers():
    layer = keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer="ones")
    layer.build((None, 2))
    layer.set_weights([np.full((2, 3), 7.0), np.full(3, 7.0)])
    sanity._reinitialise(layer, seed=0, step=0)
    np.testing.assert_array_equal(layer.get_weights()[0], 0.0)
    np.testing.assert_array_equal(layer.get_weights()[1], 1.0)


def three_layers() -> keras.Model:
    """Three layers with weights, every weight set away from what an initializer draws."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(6, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    rng = np.random.default_rng(4)
    # Biases away from zero too, so that every weight a step draws anew differs from it.
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def test_independent_randomization_changes_one_layer_and_keeps_the_others_trained():
    model = three_layers()
    trained = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    seen = {True: [], False: []}

    def recording(cascade):
        def method(copy, x, target):
            seen[cascade].append(
                {lay.name: lay.get_weights() for lay in copy.layers if lay.weights}
            )
            return cnnviz.gradients(copy, x, target)

        return method

    x = images(2)
    cascading = cnnviz.randomization_check(model, x, recording(True), seed=2)
    independent = cnnviz.randomization_check(model, x, recording(False), seed=2, cascade=False)
    assert independent["layers"] == cascading["layers"] == ["out", "hidden", "conv"]
    assert (independent["cascade"], cascading["cascade"]) == (False, True)

    def same(a, b):
        return all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))

    # The first call is on the copy as trained; then one call per step.
    assert all(same(seen[False][0][name], trained[name]) for name in trained)
    for step, name in enumerate(independent["layers"], start=1):
        weights = seen[False][step]
        for other, values in trained.items():
            assert same(weights[other], values) == (other != name), (step, other)
        # The layer gets the same new weights as the cascade's step draws for it.
        assert same(weights[name], seen[True][step][name])
    # The cascade keeps the earlier steps' layers random: at its last step, none is trained.
    assert not any(same(seen[True][-1][name], trained[name]) for name in trained)
    # The first step is the same model both ways, so the same maps; later steps are not.
    np.testing.assert_array_equal(independent["maps"][:2], cascading["maps"][:2])
    assert not np.array_equal(independent["maps"][-1], cascading["maps"][-1])
    model_weights = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    assert all(same(model_weights[name], trained[name]) for name in trained)


def ranks_by_sorting(values: np.ndarray) -> np.ndarray:
    """Ranks 1 to n of a row without ties, by sorting twice: Spearman's formula by hand."""
    return np.argsort(np.argsort(values)).astype(np.float64) + 1


def test_sign_flips_keep_the_absolute_correlation_at_one_and_scramble_the_signed_one():
    # A method whose maps keep their shape once the model is randomized but flip the sign of
    # a fixed random half of the pixels: the "silhouette" that signed ranks lose.
    shape = np.arange(1, 65, dtype=np.float64).reshape(8, 8)  # distinct magnitudes, no ties
    signs = np.where(np.random.default_rng(7).random((8, 8)) < 0.5, -1.0, 1.0)
    model = functional()
    trained = model.get_weights()

    def flipping(copy, x, target):
        untouched = all(
            np.array_equal(a, b) for a, b in zip(copy.get_weights(), trained, strict=True)
        )
        return np.broadcast_to(shape if untouched else shape * signs, x.shape[:3]).copy()

    result = cnnviz.randomization_check(model, images(3), flipping)
    np.testing.assert_allclose(result["correlation_abs"], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["per_image_abs"], 1.0, rtol=0, atol=1e-12)
    expected = np.corrcoef(
        ranks_by_sorting(shape.ravel()), ranks_by_sorting((shape * signs).ravel())
    )
    np.testing.assert_allclose(result["correlation"], expected[0, 1], rtol=0, atol=1e-12)
    assert abs(expected[0, 1]) < 0.2  # signed ranks scrambled: near 0
    np.testing.assert_array_equal(result["n_images"], [3, 3])
    np.testing.assert_array_equal(result["n_images_abs"], [3, 3])


def test_the_counts_leave_out_constant_maps_and_a_constant_absolute_map_gives_nan():
    def plus_minus_one(copy, x, target):
        # Signed maps that vary (+1 and -1); their absolute values are all 1, constant.
        pattern = np.where(np.arange(64).reshape(8, 8) % 3 == 0, 1.0, -1.0)
        return np.broadcast_to(pattern, x.shape[:3]).copy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" on the way
        result = cnnviz.randomization_check(functional(), images(3), plus_minus_one)
    assert np.isnan(result["correlation_abs"]).all()
    assert np.isnan(result["per_image_abs"]).all()
    np.testing.assert_array_equal(result["n_images_abs"], [0, 0])
    np.testing.assert_array_equal(result["n_images"], [3, 3])
    assert np.isfinite(result["correlation"]).all()
    assert result["n_images"].dtype == np.int64


# --- deletion and insertion curves ---------------------------------------------------------------


def summing_model(channels: int = 1, wrap=lambda m: m, size: int = 2) -> keras.Model:
    """Output: the sum of every pixel of every channel (one "class", no softmax)."""
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    inputs = keras.Input((size, size, channels))
    return wrap(keras.Model(inputs, dense(keras.layers.Flatten()(inputs))))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "wrap",
    [lambda m: m, nested, lambda m: keras.Sequential([keras.Input(m.inputs[0].shape[1:]), m])],
)
def test_deletion_and_insertion_curves_by_hand(channels, wrap):
    model = summing_model(channels, wrap)
    x = np.repeat(np.array([[[4.0], [3.0]], [[2.0], [1.0]]], np.float32), channels, axis=-1)
    maps = x[np.newaxis, ..., 0]
    deletion = cnnviz.deletion_curve(model, x, maps, steps=4)
    np.testing.assert_array_equal(deletion["fractions"], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(deletion["probabilities"], [np.array([10, 6, 3, 1, 0]) * channels])
    np.testing.assert_allclose(deletion["auc"], [3.75 * channels])
    insertion = cnnviz.insertion_curve(model, x, maps[0], steps=4)
    np.testing.assert_allclose(insertion["probabilities"], [np.array([0, 4, 7, 9, 10]) * channels])
    np.testing.assert_allclose(insertion["auc"], [6.25 * channels])
    # Two steps of two pixels; removed pixels set to 1.
    two = cnnviz.deletion_curve(model, x, maps, steps=2, value=1.0)
    np.testing.assert_allclose(two["probabilities"], [np.array([10, 5, 4]) * channels])
    np.testing.assert_allclose(two["auc"], [0.5 * (7.5 + 4.5) * channels])
    # Steps that do not divide the pixels: 4/3 and 8/3 round to 1 and 3 pixels.
    three = cnnviz.deletion_curve(model, x, maps, steps=3)
    np.testing.assert_allclose(three["probabilities"], [np.array([10, 6, 1, 0]) * channels])
    # Ties go in row-major order.
    flat = cnnviz.deletion_curve(model, x, np.zeros((1, 2, 2)), steps=4)
    np.testing.assert_allclose(flat["probabilities"], [np.array([10, 6, 3, 1, 0]) * channels])


def evidence_model() -> keras.Model:
    """Class 0's logit is half the sum of the top-left 3x3 pixels; class 1's is 0."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Cropping2D(((0, 5), (0, 5))),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    kernel = np.zeros((9, 2), np.float32)
    kernel[:, 0] = 0.5
    model.layers[-1].set_weights([kernel, np.zeros(2, np.float32)])
    return model


def test_deleting_the_important_region_first_drops_the_probability_faster_than_random():
    model = evidence_model()
    x = np.random.default_rng(2).uniform(0.2, 1.0, (6, 8, 8, 1)).astype(np.float32)
    maps = cnnviz.gradients(model, x, target=0)
    assert (maps[:, 3:, :] == 0).all()
    assert (maps[:, :3, :3] > 0).all()
    random_maps = np.random.default_rng(3).random((6, 8, 8))
    by_map = cnnviz.deletion_curve(model, x, maps, 0, steps=16)
    by_chance = cnnviz.deletion_curve(model, x, random_maps, 0, steps=16)
    # The region is 9 of 64 pixels: after 4 of 16 steps it is gone, and class 0 is at 1/2.
    np.testing.assert_allclose(by_map["probabilities"][:, 4:], 0.5, atol=1e-6)
    assert (by_map["probabilities"] <= by_chance["probabilities"] + 1e-6).all()
    assert (by_map["auc"] < by_chance["auc"] - 0.1).all()
    inserted = cnnviz.insertion_curve(model, x, maps, 0, steps=16)
    inserted_by_chance = cnnviz.insertion_curve(model, x, random_maps, 0, steps=16)
    assert (inserted["auc"] > inserted_by_chance["auc"] + 0.1).all()


def test_curves_run_all_steps_of_the_batch_together_and_chunks_agree(monkeypatch):
    model, x = functional(), images(5)
    maps = cnnviz.gradients(model, x)
    whole = cnnviz.deletion_curve(model, x, maps, steps=3)
    sizes = []
    original = sanity._probabilities

    def counting(model, batch):
        sizes.append(len(batch))
        return original(model, batch)

    monkeypatch.setattr(sanity, "_probabilities", counting)
    cnnviz.insertion_curve(model, x, maps, steps=3)
    assert sizes == [5, 20]  # the targets, then every step of every image in one call
    monkeypatch.setattr(_batches, "MAX_IMAGES", 2)
    chunked = cnnviz.deletion_curve(model, x, maps, steps=3)
    np.testing.assert_allclose(chunked["probabilities"], whole["probabilities"], atol=1e-6)


def test_the_blur_keeps_a_constant_image_and_spreads_a_point_as_a_truncated_gaussian():
    x = np.empty((2, 9, 7, 3), np.float32)
    x[0] = np.array([0.3, 0.0, 0.77], np.float32)  # a constant per channel
    x[1] = 0.123
    for sigma in (0.5, 1.7, 4.0, 12.0):  # 12: the kernel is far wider than the image
        np.testing.assert_array_equal(sanity._blurred(x, sigma), x)
    point = np.zeros((1, 41, 41, 1), np.float32)
    point[0, 20, 20, 0] = 1.0
    blurred = sanity._blurred(point, 2.0)[0, ..., 0]
    near = np.arange(12, 29)  # within 4 sigma (8 pixels) of the point
    ratio = blurred[np.ix_(near, near)] / blurred[20, 20]
    d = near - 20
    np.testing.assert_allclose(ratio, np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / 8), rtol=1e-5)
    # Truncated at 4 sigma: nothing beyond; the kernel sums to 1.
    assert (np.delete(np.delete(blurred, near, axis=0), near, axis=1) == 0).all()
    assert (blurred[:12] == 0).all()
    assert (blurred[:, 29:] == 0).all()
    np.testing.assert_allclose(blurred.sum(dtype=np.float64), 1.0, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_deletion_goes_to_the_blurred_copy_and_insertion_starts_from_it(channels):
    model = summing_model(channels, size=4)
    constant = np.full((1, 4, 4, channels), 0.4, np.float32)
    for curve in (cnnviz.deletion_curve, cnnviz.insertion_curve):
        flat = curve(model, constant, "random", steps=4, value="blur", blur_sigma=1.0)
        # A constant image is its own blurred copy: nothing changes at any step.
        np.testing.assert_allclose(flat["probabilities"], 6.4 * channels, rtol=1e-6)
    x = np.random.default_rng(6).random((2, 4, 4, channels), dtype=np.float32)
    maps = np.random.default_rng(7).random((2, 4, 4))
    blurred = sanity._blurred(x, 1.5).astype(np.float64)
    # Step k changes the k * 4 pixels with the largest map values.
    order = np.argsort(-maps.reshape(2, 16), axis=1, kind="stable")
    change = (blurred - x).reshape(2, 16, channels).sum(axis=-1)
    steps = np.take_along_axis(change, order, axis=1).reshape(2, 4, 4).sum(axis=-1)
    deleted = x.sum(axis=(1, 2, 3)).astype(np.float64)[:, None] + np.cumsum(
        np.c_[np.zeros(2), steps], axis=1
    )
    deletion = cnnviz.deletion_curve(model, x, maps, steps=4, value="blur", blur_sigma=1.5)
    np.testing.assert_allclose(deletion["probabilities"], deleted, rtol=1e-5)
    insertion = cnnviz.insertion_curve(model, x, maps, steps=4, value="blur", blur_sigma=1.5)
    # Inserting the same pixels into the blur: the two sums add up to image + blur.
    total = (x.astype(np.float64) + blurred).sum(axis=(1, 2, 3))[:, None]
    np.testing.assert_allclose(insertion["probabilities"], total - deleted, rtol=1e-5)
    np.testing.assert_allclose(
        insertion["probabilities"][:, 0], blurred.sum(axis=(1, 2, 3)), rtol=1e-5
    )


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_the_foreground_order_takes_every_foreground_pixel_before_the_background(channels, fill):
    model = summing_model(channels, size=4)
    rng = np.random.default_rng(8)
    x = rng.uniform(2.0, 3.0, (4, 4, 4, channels)).astype(np.float32)  # above the fill
    background = rng.random((4, 4, 4)) < 0.5
    x[background] = fill
    if channels == 3:
        # A pixel that equals the fill in one channel only is foreground.
        x[0, 0, 0] = [fill, 2.5, fill]
        background[0, 0, 0] = False
    foreground = (~background).reshape(4, 16).sum(axis=1)
    total = x.sum(axis=(1, 2, 3)).astype(np.float64)
    none_left = 16 * channels * fill  # every pixel the fill
    for seed in (0, 1):
        kwargs = {"steps": 16, "value": fill, "seed": seed}
        deletion = cnnviz.deletion_curve(model, x, "random_foreground", **kwargs)
        insertion = cnnviz.insertion_curve(model, x, "random_foreground", **kwargs)
        for p, q, count in zip(
            deletion["probabilities"], insertion["probabilities"], foreground, strict=True
        ):
            # Every step until the foreground is gone changes a foreground pixel, and then the
            # image is the fill alone (deletion) or whole (insertion), step after step.
            assert (np.diff(p[: count + 1]) < 0).all()
            np.testing.assert_allclose(p[count:], none_left, rtol=1e-6)
            assert (np.diff(q[: count + 1]) > 0).all()
        np.testing.assert_allclose(
            insertion["probabilities"][np.arange(4), foreground], total, rtol=1e-6
        )
        # The same seed, the same order in both curves: each step's two images add up.
        np.testing.assert_allclose(
            deletion["probabilities"] + insertion["probabilities"],
            np.broadcast_to(total[:, None] + none_left, (4, 17)),
            rtol=1e-6,
        )
    # A random order among all pixels spends steps on the background before the end.
    anywhere = cnnviz.deletion_curve(model, x, "random", steps=16, value=fill)["probabilities"]
    wasted = [
        (np.diff(p[: count + 1]) == 0).any() for p, count in zip(anywhere, foreground, strict=True)
    ]
    assert any(wasted)
    again = cnnviz.deletion_curve(model, x, "random", steps=16, value=fill)["probabilities"]
    np.testing.assert_array_equal(again, anywhere)
    other = cnnviz.deletion_curve(model, x, "random", steps=16, value=fill, seed=3)
    assert not np.array_equal(other["probabilities"], anywhere)


def test_the_background_of_the_blur_is_where_the_blur_changes_nothing():
    x = np.zeros((1, 12, 12, 1), np.float32)
    x[0, 1, 1, 0] = 1.0
    # sigma 0.5: the kernel reaches 2 pixels, so rows and columns 0 to 3 change, no other.
    background = sanity._background(x, sanity._blurred(x, 0.5)).reshape(12, 12)
    expected = np.ones((12, 12), bool)
    expected[:4, :4] = False
    np.testing.assert_array_equal(background, expected)
    np.testing.assert_array_equal(
        sanity._background(x, np.float32(0.0)).reshape(12, 12), x[0, ..., 0] == 0
    )


def test_curves_take_uint8_images_and_a_target_per_image():
    model, x = functional(), images(3)
    maps = cnnviz.occlusion(model, x)
    curve = cnnviz.deletion_curve(model, x, maps, [0, 1, 2], steps=2)
    probabilities = cnnviz.predict(model, x)
    # The untouched images, but not the same arithmetic: the curve runs them in one batch of 9
    # (3 steps of 3 images), predict in a batch of 3 through Keras' predict, and the insertion
    # curve's last step sits at other rows of its batch than the deletion curve's first. Each
    # may round the float32 probabilities differently: 1e-6 is some 30 float32 steps at 0.25.
    close = {"rtol": 0, "atol": 1e-6}
    np.testing.assert_allclose(
        curve["probabilities"][:, 0], probabilities[[0, 1, 2], [0, 1, 2]], **close
    )
    inserted = cnnviz.insertion_curve(model, x, maps, [0, 1, 2], steps=2)
    np.testing.assert_allclose(
        inserted["probabilities"][:, -1], curve["probabilities"][:, 0], **close
    )
    np.testing.assert_allclose(
        inserted["probabilities"][:, 0], curve["probabilities"][:, -1], **close
    )


# --- a model of any input size (issue 20) ------------------------------------------------------


def any_size(model_input: tuple) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input(model_input)
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="out")(x))


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_every_method_explains_a_model_of_any_input_size_as_its_fixed_twin(method):
    fixed, open_size = any_size((8, 8, 1)), any_size((None, None, 1))
    open_size.set_weights(fixed.get_weights())
    x = images()
    # The same layers on images of the same size: the same maps up to rounding.
    np.testing.assert_allclose(
        method(open_size, x, **options(method)), method(fixed, x, **options(method)), atol=1e-6
    )
    other = np.random.default_rng(2).integers(0, 256, (2, 11, 6, 1), dtype=np.uint8)
    assert method(open_size, other, **options(method)).shape == (2, 11, 6)


# --- pixels given as numbers follow the images' rule ---------------------------------------------


def rescaling_model() -> keras.Model:
    """keras.io's pattern: an augmentation layer, then Rescaling(1/255), then the network."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.RandomFlip(),
            keras.layers.Rescaling(1 / 255),
            *conv_layers(),
        ],
        name="rescaling",
    )


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_uint8_images_reach_a_rescaling_behind_augmentation_unscaled(method):
    model, x = rescaling_model(), images()
    # The same float32 pixels, the same computation: the maps are equal.
    np.testing.assert_array_equal(
        method(model, x, **options(method)), method(model, x.astype(np.float32), **options(method))
    )


def test_a_uint8_number_is_a_pixel_scaled_like_uint8_images():
    x = images()
    plain, scaling = functional(), rescaling_model()
    white = np.full((8, 8, 1), 255, np.uint8)
    for model, in_model_scale in ((plain, 1.0), (scaling, 255.0)):
        expected = cnnviz.integrated_gradients(model, x, 0, baseline=in_model_scale, steps=4)
        for baseline in (np.uint8(255), np.array(255, np.uint8), white):
            np.testing.assert_array_equal(
                cnnviz.integrated_gradients(model, x, 0, baseline=baseline, steps=4), expected
            )
        np.testing.assert_array_equal(
            cnnviz.occlusion(model, x, 0, value=np.uint8(255)),
            cnnviz.occlusion(model, x, 0, value=in_model_scale),
        )
        maps = cnnviz.gradients(model, x, 0)
        for curve in (cnnviz.deletion_curve, cnnviz.insertion_curve):
            np.testing.assert_array_equal(
                curve(model, x, maps, 0, steps=2, value=np.uint8(255))["probabilities"],
                curve(model, x, maps, 0, steps=2, value=in_model_scale)["probabilities"],
            )
    # The bug this replaces: 255 on images scaled to [0, 1] is far from white.
    far = cnnviz.integrated_gradients(plain, x, 0, baseline=255.0, steps=4)
    assert not np.allclose(far, cnnviz.integrated_gradients(plain, x, 0, baseline=1.0, steps=4))


def test_a_uint8_number_for_a_model_whose_scale_cannot_be_told_is_refused_by_name():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Normalization(name="norm"), *conv_layers()]
    )
    x = images().astype(np.float32) / 255  # float images: used as they are
    assert cnnviz.integrated_gradients(model, x, 0, baseline=1.0, steps=2).shape == (3, 8, 8)
    with pytest.raises(ValueError, match=r"cannot scale uint8 baseline: .*'norm'.*give baseline"):
        cnnviz.integrated_gradients(model, x, 0, baseline=np.uint8(255), steps=2)
    with pytest.raises(ValueError, match=r"cannot scale uint8 value: .*give value as a float"):
        cnnviz.occlusion(model, x, 0, value=np.uint8(255))
    with pytest.raises(ValueError, match=r"cannot scale uint8 images: .*give images as floats"):
        cnnviz.gradients(model, images())


# --- the data randomization test (issue 21) ----------------------------------------------------


def flipped_twin(model: keras.Model) -> keras.Model:
    """`model` with its class scores negated: the last Dense's kernel and bias times -1 (exact)."""
    twin = keras.models.clone_model(model)
    weights = model.get_weights()
    twin.set_weights([*weights[:-2], -weights[-2], -weights[-1]])
    return twin


def other_weights() -> keras.Model:
    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 1))
    x = inputs
    for layer in conv_layers():
        x = layer(x)
    return keras.Model(inputs, x, name="other")


def test_a_model_against_itself_correlates_one_for_every_method():
    model, x = functional(), images(4)
    result = cnnviz.data_randomization_check(model, model, x, options=FAST)
    assert list(result) == [m.__name__ for m in METHODS]
    for found in result.values():
        real, other = found["maps"]
        np.testing.assert_array_equal(real, other)
        used = found["n_images"]
        assert 1 <= used <= 4
        assert np.isnan(found["per_image"]).sum() == 4 - used
        np.testing.assert_allclose(found["per_image"][~np.isnan(found["per_image"])], 1.0)
        np.testing.assert_allclose([found["correlation"], found["correlation_abs"]], 1.0)
    np.testing.assert_allclose(
        result["gradients"]["maps"][0], cnnviz.gradients(model, x), atol=1e-7
    )


def test_negated_class_scores_flip_the_signed_correlation_and_keep_the_absolute_one():
    # Integrated gradients of -score are exactly minus those of the score: the signed ranks
    # reverse (-1) while the absolute maps are the same (1), which is why both are reported.
    # The saliency map (|gradient|) cannot tell the two models apart at all.
    model, x = functional(), images(4)
    twin = flipped_twin(model)
    result = cnnviz.data_randomization_check(
        model,
        twin,
        x,
        ["gradients", "integrated_gradients"],
        options={"integrated_gradients": {"steps": 8}},
    )
    ig = result["integrated_gradients"]
    np.testing.assert_array_equal(ig["maps"][1], -ig["maps"][0])
    np.testing.assert_allclose(ig["per_image"], -1.0)
    np.testing.assert_allclose(ig["per_image_abs"], 1.0)
    assert ig["n_images"] == 4
    assert ig["n_flat"] == 0
    np.testing.assert_allclose(result["gradients"]["per_image"], 1.0)
    # Both models explain model's predicted class, which the twin ranks last, not first.
    predicted = cnnviz.predict(model, x).argmax(axis=1)
    np.testing.assert_array_equal(ig["target"], predicted)
    assert (cnnviz.predict(twin, x).argmax(axis=1) != predicted).all()


def spearman_without_ties(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho as the textbook gives it without ties: 1 - 6 sum d^2 / (n (n^2 - 1))."""
    assert len(np.unique(a)) == len(a) == len(np.unique(b))
    d = np.argsort(np.argsort(a)) - np.argsort(np.argsort(b))
    n = len(a)
    return 1 - 6 * float((d.astype(np.float64) ** 2).sum()) / (n * (n**2 - 1))


def test_the_correlations_are_spearmans_of_each_images_maps():
    model, other, x = functional(), other_weights(), images(5)
    found = cnnviz.data_randomization_check(model, other, x, "integrated_gradients")[
        "integrated_gradients"
    ]
    real, random = found["maps"].astype(np.float64)
    for i in range(5):
        a, b = real[i].ravel(), random[i].ravel()
        assert found["per_image"][i] == pytest.approx(spearman_without_ties(a, b), abs=1e-12)
        assert found["per_image_abs"][i] == pytest.approx(
            spearman_without_ties(np.abs(a), np.abs(b)), abs=1e-12
        )
    assert found["correlation"] == pytest.approx(found["per_image"].mean(), abs=1e-15)
    assert found["correlation_abs"] == pytest.approx(found["per_image_abs"].mean(), abs=1e-15)
    assert found["maps"].dtype == np.float32
    assert found["maps"].shape == (2, 5, 8, 8)
    assert found["target"].dtype == np.int64


def test_one_target_for_both_models_the_real_ones_prediction_or_the_one_given():
    calls = []

    def recording(model, x, target):
        calls.append((model.name, target.copy()))
        return cnnviz.gradients(model, x, target)

    model, other, x = functional(), other_weights(), images(3)
    cnnviz.data_randomization_check(model, other, x, recording)
    predicted = cnnviz.predict(model, x).argmax(axis=1)
    assert [name for name, _ in calls] == ["functional", "other"]
    for _, target in calls:
        np.testing.assert_array_equal(target, predicted)
    calls.clear()
    given = cnnviz.data_randomization_check(model, other, x, recording, target=[3, 0, 2])
    for _, target in calls:
        np.testing.assert_array_equal(target, [3, 0, 2])
    np.testing.assert_array_equal(given["recording"]["target"], [3, 0, 2])


def test_images_without_an_order_on_the_real_model_are_left_out_of_both_means():
    def some_without_order(model, x, target):
        maps = cnnviz.gradients(model, x, target)
        if model.name == "functional":
            maps[0] = 2.0  # constant: no order
            maps[1] = np.where(np.arange(64).reshape(8, 8) % 2 == 0, 1.0, -1.0)  # |map| constant
        else:
            maps[2] = 0.0  # the random model's map flat: it keeps none of the order
        return maps

    model, other, x = functional(), other_weights(), images(5)
    found = cnnviz.data_randomization_check(model, other, x, some_without_order)[
        "some_without_order"
    ]
    assert found["n_images"] == 3
    assert found["n_flat"] == 1  # image 2, whose correlations are 0
    for key in ("per_image", "per_image_abs"):
        assert np.isnan(found[key][:2]).all()
        assert found[key][2] == 0.0
    assert found["correlation"] == pytest.approx(found["per_image"][2:].mean(), abs=1e-15)


def test_options_reach_their_own_method_and_the_models_are_left_as_they_were():
    model, other, x = functional(), other_weights(), images(3)
    weights = [model.get_weights(), other.get_weights()]
    result = cnnviz.data_randomization_check(
        model,
        other,
        x,
        ("smoothgrad", cnnviz.occlusion),
        options={"smoothgrad": {"samples": 3, "seed": 4}, "occlusion": {"window": 2}},
    )
    target = cnnviz.predict(model, x).argmax(axis=1)  # both explain model's class
    np.testing.assert_array_equal(
        result["smoothgrad"]["maps"][1], cnnviz.smoothgrad(other, x, target, samples=3, seed=4)
    )
    np.testing.assert_array_equal(
        result["occlusion"]["maps"][0], cnnviz.occlusion(model, x, window=2)
    )
    for before, after in zip(weights, (model.get_weights(), other.get_weights()), strict=True):
        for a, b in zip(before, after, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_stream_is_read_once_for_both_models(streams):
    model, other, x = functional(), other_weights(), images(6)
    whole = cnnviz.data_randomization_check(model, other, x, "gradients")["gradients"]
    for form, stream in streams(x, batch=4).items():
        found = cnnviz.data_randomization_check(model, other, stream, "gradients")["gradients"]
        np.testing.assert_allclose(found["maps"], whole["maps"], atol=1e-6, err_msg=form)


def test_a_method_whose_maps_are_wrong_on_the_random_model_is_named_with_it():
    def nan_on_the_other(model, x, target):
        maps = cnnviz.gradients(model, x, target)
        return maps if model.name == "functional" else maps * np.nan

    with pytest.raises(
        ValueError,
        match=r"method 'nan_on_the_other' must return one finite map per image, \(N, H, W\) = "
        r"\(3, 8, 8\); on random_model it returned 192 NaN",
    ):
        cnnviz.data_randomization_check(functional(), other_weights(), images(), nan_on_the_other)
