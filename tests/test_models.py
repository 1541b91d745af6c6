"""Tests of cnnviz.models: LeNet-5's layers, shapes and parameters, and the shape arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import PADDINGS, Padding2D, lenet5, output_size, same_padding

# The seed's two models, the notebook's own layers; Keras' two padding modes.
SEED = ("valid", "same")
POOLINGS = ("max", "blur")

LAYER_NAMES = [
    "input",
    "conv1",
    "relu1",
    "max_pool1",
    "conv2",
    "relu2",
    "max_pool2",
    "flatten",
    "fc1",
    "fc2",
    "op",
]

# The issue's table: every layer's output shape (without the batch axis) for each padding.
SHAPES = {
    "valid": {
        "input": (28, 28, 1),
        "conv1": (24, 24, 6),
        "relu1": (24, 24, 6),
        "max_pool1": (12, 12, 6),
        "conv2": (8, 8, 16),
        "relu2": (8, 8, 16),
        "max_pool2": (4, 4, 16),
        "flatten": (4 * 4 * 16,),
        "fc1": (120,),
        "fc2": (84,),
        "op": (10,),
    },
    "same": {
        "input": (28, 28, 1),
        "conv1": (28, 28, 6),
        "relu1": (28, 28, 6),
        "max_pool1": (14, 14, 6),
        "conv2": (14, 14, 16),
        "relu2": (14, 14, 16),
        "max_pool2": (7, 7, 16),
        "flatten": (7 * 7 * 16,),
        "fc1": (120,),
        "fc2": (84,),
        "op": (10,),
    },
}


@pytest.fixture(scope="module", params=SEED)
def model(request):
    return lenet5(request.param)


def test_paddings_are_keras_two_and_the_image_own_two():
    assert tuple(PADDINGS) == ("valid", "same", "reflect", "circular")


@pytest.mark.parametrize(("padding", "count"), [("valid", 44_426), ("same", 107_786)])
def test_parameter_counts(padding, count):
    assert lenet5(padding).count_params() == count


def test_parameter_count_follows_from_the_layer_sizes(model):
    # conv: (5*5*in + 1) * out; dense: (in + 1) * out.
    flat = SHAPES[model_padding(model)]["flatten"][0]
    expected = (25 * 1 + 1) * 6 + (25 * 6 + 1) * 16 + (flat + 1) * 120 + 121 * 84 + 85 * 10
    assert model.count_params() == expected


def model_padding(model: keras.Model) -> str:
    return model.get_layer("conv1").padding


def test_layer_names_in_order(model):
    assert [layer.name for layer in model.layers] == LAYER_NAMES


def test_every_layer_output_shape(model):
    expected = SHAPES[model_padding(model)]
    assert {layer.name: tuple(layer.output.shape)[1:] for layer in model.layers} == expected
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert tuple(model.output.shape) == (None, 10)


def test_running_the_model_gives_the_declared_shapes(model):
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probabilities = keras.ops.convert_to_numpy(model(images))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities >= 0).all()


def test_layer_configuration(model):
    padding = model_padding(model)
    assert isinstance(model.get_layer("input"), keras.layers.InputLayer)
    for name, filters in (("conv1", 6), ("conv2", 16)):
        conv = model.get_layer(name)
        assert isinstance(conv, keras.layers.Conv2D)
        assert conv.filters == filters
        assert tuple(conv.kernel_size) == (5, 5)
        assert tuple(conv.strides) == (1, 1)
        assert conv.padding == padding
        assert conv.activation.__name__ == "linear"
        assert conv.use_bias
    for name in ("relu1", "relu2"):
        relu = model.get_layer(name)
        assert isinstance(relu, keras.layers.Activation)
        assert relu.activation.__name__ == "relu"
    for name in ("max_pool1", "max_pool2"):
        pool = model.get_layer(name)
        assert isinstance(pool, keras.layers.MaxPooling2D)
        assert tuple(pool.pool_size) == (2, 2)
        assert tuple(pool.strides) == (2, 2)
        assert pool.padding == padding
    assert isinstance(model.get_layer("flatten"), keras.layers.Flatten)
    for name, units, activation in (
        ("fc1", 120, "relu"),
        ("fc2", 84, "relu"),
        ("op", 10, "softmax"),
    ):
        dense = model.get_layer(name)
        assert isinstance(dense, keras.layers.Dense)
        assert dense.units == units
        assert dense.activation.__name__ == activation


def test_layer_index_1_is_conv1_as_in_the_notebook(model):
    assert model.get_layer(index=1).name == "conv1"
    assert model.layers[1] is model.get_layer("conv1")


def test_the_default_is_valid_padding():
    assert model_padding(lenet5()) == "valid"
    assert lenet5().count_params() == 44_426


def test_models_are_functional_and_separate():
    first, second = lenet5(), lenet5()
    assert not isinstance(first, keras.Sequential)
    assert first.get_layer("conv1") is not second.get_layer("conv1")


def test_num_classes_and_input_shape_change_the_ends():
    model = lenet5("same", input_shape=(32, 32, 3), num_classes=4)
    assert tuple(model.input.shape) == (None, 32, 32, 3)
    assert tuple(model.get_layer("max_pool2").output.shape) == (None, 8, 8, 16)
    assert tuple(model.output.shape) == (None, 4)


@pytest.mark.parametrize("padding", ["full", "VALID", "Same", None, "", 0])
def test_other_paddings_are_refused_naming_the_allowed_values(padding):
    with pytest.raises(ValueError, match="valid") as info:
        lenet5(padding)
    message = str(info.value)
    assert "'same'" in message
    assert repr(padding) in message


def test_input_shape_may_be_a_list():
    assert tuple(lenet5(input_shape=[28, 28, 1]).input.shape) == (None, 28, 28, 1)


def test_numpy_integers_are_taken_as_python_integers():
    model = lenet5(input_shape=(np.int64(28), np.int32(28), np.uint8(1)), num_classes=np.int64(10))
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert all(type(d) is int for d in model.input.shape[1:])  # Keras gets Python's ints
    assert model.count_params() == lenet5().count_params()


@pytest.mark.parametrize("side", [5, 12, 15])
def test_input_too_small_for_valid_padding_is_a_clear_error(side):
    with pytest.raises(ValueError, match=r"too small.*valid") as info:
        lenet5("valid", input_shape=(side, side, 1))
    assert f"({side}, {side}, 1)" in str(info.value)


def test_a_narrow_input_names_the_width():
    with pytest.raises(ValueError, match="width"):
        lenet5("valid", input_shape=(28, 12, 1))


def test_the_smallest_input_for_valid_padding_works():
    model = lenet5("valid", input_shape=(16, 16, 1))
    assert tuple(model.get_layer("max_pool2").output.shape) == (None, 1, 1, 16)


@pytest.mark.parametrize("side", [1, 5, 12])
def test_same_padding_takes_small_inputs(side):
    model = lenet5("same", input_shape=(side, side, 1))
    images = np.zeros((1, side, side, 1), dtype=np.float32)
    assert keras.ops.convert_to_numpy(model(images)).shape == (1, 10)


@pytest.mark.parametrize(
    "input_shape",
    [
        (28, 28),
        (28, 28, 1, 1),
        (28, 0, 1),
        (28, 28, -1),
        (28.0, 28, 1),
        (True, 28, 1),
        (np.True_, 28, 1),
        (np.float64(28), 28, 1),
        "28x28",
        None,
    ],
)
def test_malformed_input_shapes_are_refused(input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        lenet5(input_shape=input_shape)


@pytest.mark.parametrize("num_classes", [0, -1, 2.5, True, "10", None])
def test_malformed_num_classes_are_refused(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        lenet5(num_classes=num_classes)


# --- output_size -----------------------------------------------------------------------------


@pytest.mark.parametrize("padding", SEED)
def test_output_size_matches_keras_conv_and_pooling(padding):
    conv = keras.layers.Conv2D(1, 5, padding=padding)
    pool = keras.layers.MaxPooling2D(2, strides=2, padding=padding)
    for size in range(16, 41):
        image = np.zeros((1, size, size + 1, 1), dtype=np.float32)
        conv_shape = keras.ops.convert_to_numpy(conv(image)).shape
        pool_shape = keras.ops.convert_to_numpy(pool(image)).shape
        assert conv_shape[1:3] == (
            output_size(size, 5, padding=padding),
            output_size(size + 1, 5, padding=padding),
        ), size
        assert pool_shape[1:3] == (
            output_size(size, 2, stride=2, padding=padding),
            output_size(size + 1, 2, stride=2, padding=padding),
        ), size


@pytest.mark.parametrize(("size", "kernel", "stride"), [(10, 3, 3), (11, 4, 2), (7, 7, 1)])
@pytest.mark.parametrize("padding", SEED)
def test_output_size_matches_keras_for_other_kernels_and_strides(size, kernel, stride, padding):
    pool = keras.layers.MaxPooling2D(kernel, strides=stride, padding=padding)
    image = np.zeros((1, size, size, 1), dtype=np.float32)
    assert keras.ops.convert_to_numpy(pool(image)).shape[1] == output_size(
        size, kernel, stride=stride, padding=padding
    )


def test_output_size_chains_to_the_issues_shapes():
    for padding, final in (("valid", 4), ("same", 7)):
        n = 28
        for kernel, stride in ((5, 1), (2, 2), (5, 1), (2, 2)):
            n = output_size(n, kernel, stride=stride, padding=padding)
        assert n == final


@pytest.mark.parametrize("padding", ["full", "reflect", "circular"])
def test_output_size_refuses_other_paddings(padding):
    # A window layer's own padding: reflect and circular are lenet5's, made of a Padding2D.
    with pytest.raises(ValueError, match=r"padding must be one of \('valid', 'same'\)"):
        output_size(28, 5, padding=padding)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((28, 5), {"stride": -2}, "stride"),
        ((28, 5), {"stride": 0}, "stride"),
        ((28, 0), {}, "kernel_size"),
        ((28.5, 5), {}, "size"),
        ((0, 5), {}, "size"),
        ((28, 5.0), {}, "kernel_size"),
        ((True, 5), {}, "size"),
    ],
)
def test_output_size_refuses_what_is_not_a_positive_integer(args, kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        output_size(*args, **kwargs)


def test_output_size_takes_numpy_integers():
    assert output_size(np.int64(28), np.int32(5), stride=np.uint8(1)) == 24


# --- same_padding ----------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
def test_same_padding_is_where_keras_puts_the_zeros(kernel, stride):
    # A window of ones over an image of ones counts the real pixels it covers, so the
    # first window's count is kernel - before and the last one's kernel - after (exact:
    # small integers in float32).
    conv = keras.layers.Conv2D(
        1,
        (kernel, 1),
        strides=(stride, 1),
        padding="same",
        use_bias=False,
        kernel_initializer="ones",
    )
    for size in range(max(kernel, stride + 1), 20):
        counts = keras.ops.convert_to_numpy(conv(np.ones((1, size, 1, 1), np.float32)))[0, :, 0, 0]
        before, after = same_padding(size, kernel, stride)
        assert len(counts) == output_size(size, kernel, stride=stride, padding="same")
        assert (counts[0], counts[-1]) == (kernel - before, kernel - after), size
        assert before + after == max((len(counts) - 1) * stride + kernel - size, 0)


def test_same_padding_puts_the_smaller_half_before():
    assert same_padding(28, 5) == (2, 2)  # lenet5("same")'s conv1 and conv2
    assert same_padding(28, 2, 2) == (0, 0)
    assert same_padding(7, 2, 2) == (0, 1)
    assert same_padding(28, 4) == (1, 2)
    assert same_padding(np.int64(14), np.int32(5), np.uint8(1)) == (2, 2)


# --- the variants: reflect and circular padding, blur pooling (issue 24) ---------------------

VARIANT_LAYERS = {
    ("reflect", "max"): ["input", "pad1", "conv1", "relu1", "max_pool1",
                         "pad2", "conv2", "relu2", "max_pool2", "flatten", "fc1", "fc2", "op"],
    ("valid", "blur"): ["input", "conv1", "relu1", "max_pool1", "blur_pad1", "blur1",
                        "conv2", "relu2", "max_pool2", "blur_pad2", "blur2",
                        "flatten", "fc1", "fc2", "op"],
    ("reflect", "blur"): ["input", "pad1", "conv1", "relu1", "max_pool1", "blur_pad1", "blur1",
                          "pad2", "conv2", "relu2", "max_pool2", "blur_pad2", "blur2",
                          "flatten", "fc1", "fc2", "op"],
    ("circular", "blur"): ["input", "pad1", "conv1", "relu1", "max_pad1", "max_pool1",
                           "blur_pad1", "blur1", "pad2", "conv2", "relu2", "max_pad2",
                           "max_pool2", "blur_pad2", "blur2", "flatten", "fc1", "fc2", "op"],
}  # fmt: skip
VARIANT_LAYERS[("circular", "max")] = VARIANT_LAYERS[("reflect", "max")]
VARIANT_LAYERS[("same", "blur")] = VARIANT_LAYERS[("valid", "blur")]
BLUR = np.outer([1, 2, 1], [1, 2, 1]) / 16


@pytest.fixture(scope="module")
def variants():
    return {(p, q): lenet5(p, pooling=q) for p in PADDINGS for q in POOLINGS}


def outputs(model: keras.Model, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    probe = keras.Model(model.input, {name: model.get_layer(name).output for name in names})
    return {name: np.asarray(a) for name, a in probe(x).items()}


def test_the_variants_layers_and_names(variants):
    for (padding, pooling), model in variants.items():
        expected = VARIANT_LAYERS.get((padding, pooling), LAYER_NAMES)
        assert [layer.name for layer in model.layers] == expected, (padding, pooling)
        suffix = "_blur" if pooling == "blur" else ""
        assert model.name == f"lenet5_{padding}{suffix}"


def test_the_max_pooling_default_is_the_seed_model_itself():
    for padding in SEED:
        assert lenet5(padding, pooling="max").to_json() == lenet5(padding).to_json()


def test_every_variant_has_the_shapes_of_its_max_pooling_model(variants):
    # Blur pooling: blurK gives what max_poolK gave; reflect and circular: same's shapes.
    for side in (28, 21, 30, 31):
        for padding in PADDINGS:
            shape = (side, side + 3, 1)
            plain = lenet5(padding, shape)
            blurred = lenet5(padding, shape, pooling="blur")
            for layer in plain.layers:
                if isinstance(layer, Padding2D):
                    continue
                name = layer.name.replace("max_pool", "blur")
                assert blurred.get_layer(name).output.shape == layer.output.shape, (side, name)
            if padding in ("reflect", "circular"):
                same = lenet5("same", shape)
                for name in LAYER_NAMES:
                    assert plain.get_layer(name).output.shape == same.get_layer(name).output.shape
    for (padding, _), model in variants.items():
        shapes = SHAPES["valid" if padding == "valid" else "same"]
        assert tuple(model.get_layer("flatten").output.shape[1:]) == shapes["flatten"]


def test_reflect_and_circular_use_cnnvizs_padding_then_a_valid_convolution(variants):
    for padding in ("reflect", "circular"):
        model = variants[(padding, "max")]
        for k in (1, 2):
            pad = model.get_layer(f"pad{k}")
            assert isinstance(pad, Padding2D)
            assert (pad.padding, pad.mode) == (((2, 2), (2, 2)), padding)
            assert model.get_layer(f"conv{k}").padding == "valid"
            assert model.get_layer(f"max_pool{k}").padding == "same"
        assert model.count_params() == 107_786


def test_blur_adds_no_trainable_weight_and_a_fixed_binomial_kernel(variants):
    for padding in PADDINGS:
        plain, blurred = variants[(padding, "max")], variants[(padding, "blur")]
        assert [w.shape for w in blurred.trainable_weights] == [
            w.shape for w in plain.trainable_weights
        ]
        assert blurred.count_params() == plain.count_params() + 9 * (6 + 16)
        for k, channels in ((1, 6), (2, 16)):
            blur = blurred.get_layer(f"blur{k}")
            assert isinstance(blur, keras.layers.DepthwiseConv2D)
            assert not blur.trainable
            assert (tuple(blur.kernel_size), tuple(blur.strides), blur.padding) == (
                (3, 3),
                (2, 2),
                "valid",
            )
            (kernel,) = blur.get_weights()  # no bias
            assert kernel.shape == (3, 3, channels, 1)
            # Sixteenths: exact in float32.
            np.testing.assert_array_equal(
                kernel, np.broadcast_to(BLUR[..., None, None], kernel.shape)
            )
            stride_1 = blurred.get_layer(f"max_pool{k}")
            assert (tuple(stride_1.pool_size), tuple(stride_1.strides)) == ((2, 2), (1, 1))
            assert stride_1.padding == "valid"  # Zhang's: the padding comes after, for the blur


@pytest.mark.parametrize("padding", PADDINGS)
def test_blur_pooling_of_a_constant_map_is_the_constant_away_from_the_border(padding, variants):
    model = variants[(padding, "blur")]
    size = model.get_layer("max_pool1").output.shape[1]
    # 3.0: every partial sum of the blur is a multiple of 3/16, exact in float32.
    constant = np.full((1, size, size, 6), 3.0, np.float32)
    out = np.asarray(model.get_layer("blur1")(model.get_layer("blur_pad1")(constant)))[0, :, :, 0]
    assert out.shape == (-(-size // 2),) * 2
    np.testing.assert_array_equal(out[1:-1, 1:-1], 3.0)
    if padding in ("reflect", "circular"):
        np.testing.assert_array_equal(out, 3.0)  # the border is the map's own values
    else:
        # Zeros: an edge unit misses one row of the kernel (4 of 16), a corner two (7 of 16),
        # at the bottom and right as at the top and left.
        for corner in (out[0, 0], out[-1, -1], out[0, -1], out[-1, 0]):
            assert corner == 3.0 * 9 / 16
        for edge in (out[0, 2], out[-1, 2], out[2, 0], out[2, -1]):
            assert edge == 3.0 * 12 / 16


def hand_correlation(padded: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras' Conv2D (a correlation, stride 1, no padding) in NumPy, in float64."""
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    # windows: (N, H, W, C, kh, kw)
    return np.einsum("nhwcij,ijco->nhwo", windows.astype(np.float64), kernel) + bias


@pytest.mark.parametrize("padding", ["reflect", "circular", "same"])
def test_conv1_is_numpys_padded_correlation(padding, variants):
    model = variants[(padding, "max")]
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    kernel, bias = model.get_layer("conv1").get_weights()
    bias = bias + np.linspace(-0.1, 0.1, 6, dtype=np.float32)  # a bias that is not zeros
    model.get_layer("conv1").set_weights([kernel, bias])
    mode = {"reflect": "reflect", "circular": "wrap", "same": "constant"}[padding]
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode=mode)
    expected = hand_correlation(padded, kernel, bias)
    got = outputs(model, x, ["conv1"])["conv1"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def assert_rolled(a: np.ndarray, b: np.ndarray, shift: tuple[int, int], what: str) -> None:
    """`a` rolled by `shift` along the rows and columns equals `b` (float32 sums: 1e-5)."""
    rolled = np.roll(a, shift, axis=(1, 2))
    np.testing.assert_allclose(b, rolled, rtol=1e-5, atol=1e-5 * np.abs(a).max(), err_msg=what)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_a_circular_model_is_equivariant_under_circular_shifts(pooling, variants):
    model = variants[("circular", pooling)]
    pool = "max_pool" if pooling == "max" else "blur"
    names = ["conv1", "relu1", f"{pool}1", "conv2", f"{pool}2"]
    x = np.random.default_rng(2).random((2, 28, 28, 1), dtype=np.float32)
    plain = outputs(model, x, names)
    for dy, dx in [(1, 0), (0, 3), (-5, 2), (13, -27), (4, 8), (2, -6), (-12, 4)]:
        moved = outputs(model, np.roll(x, (dy, dx), axis=(1, 2)), names)
        assert_rolled(plain["conv1"], moved["conv1"], (dy, dx), f"conv1 {dy, dx}")
        assert_rolled(plain["relu1"], moved["relu1"], (dy, dx), f"relu1 {dy, dx}")
        if dy % 2 == 0 and dx % 2 == 0:  # one stride-2 pooling: even shifts, halved
            for name in (f"{pool}1", "conv2"):
                assert_rolled(plain[name], moved[name], (dy // 2, dx // 2), f"{name} {dy, dx}")
        if dy % 4 == 0 and dx % 4 == 0:
            assert_rolled(plain[f"{pool}2"], moved[f"{pool}2"], (dy // 4, dx // 4), f"{dy, dx}")


@pytest.mark.parametrize("padding", ["same", "reflect"])
def test_other_paddings_are_not_circularly_equivariant(padding, variants):
    # The border gives it away: what the circular test above checks can fail.
    model = variants[(padding, "max")]
    x = np.random.default_rng(2).random((2, 28, 28, 1), dtype=np.float32)
    plain = outputs(model, x, ["conv1"])["conv1"]
    moved = outputs(model, np.roll(x, (3, 0), axis=(1, 2)), ["conv1"])["conv1"]
    assert not np.allclose(moved, np.roll(plain, (3, 0), axis=(1, 2)), atol=1e-3)


@pytest.mark.parametrize("padding", PADDINGS)
def test_max_blur_pool_by_hand(padding, variants):
    model = variants[(padding, "blur")]
    x = np.random.default_rng(3).random((2, 28, 28, 1), dtype=np.float32)
    got = outputs(model, x, ["relu1", "max_pool1", "blur1"])
    relu = got["relu1"].astype(np.float64)
    # The 2x2 max with stride 1 over the map itself (one row and column fewer); circular's
    # map first gets its first row and column again at the end (wrapped), keeping 28.
    framed = relu
    if padding == "circular":
        framed = np.pad(relu, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="wrap")
    windows = np.lib.stride_tricks.sliding_window_view(framed, (2, 2), axis=(1, 2))
    maxed = windows.max(axis=(-2, -1))
    np.testing.assert_array_equal(got["max_pool1"], maxed.astype(np.float32))
    # Then a pixel on each side (maps of even size here: 28, or 24 with valid).
    mode = {"reflect": "reflect", "circular": "wrap"}.get(padding, "constant")
    padded = np.pad(maxed, ((0, 0), (1, 1), (1, 1), (0, 0)), mode=mode)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    blurred = np.einsum("nhwcij,ij->nhwc", windows, BLUR)[:, ::2, ::2]
    np.testing.assert_allclose(got["blur1"], blurred, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("padding", PADDINGS)
def test_a_blurred_unit_is_centred_where_the_max_pooling_window_was(padding, variants):
    # Zhang's layout: a blur unit reads max_pool positions 2i - 1 .. 2i + 1, so its box
    # is centred on the pixels the stride-2 max of unit i read.
    plain, blurred = variants[(padding, "max")], variants[(padding, "blur")]
    checked = set()
    for name, k in (("max_pool1", "1"), ("max_pool2", "2")):
        rows = plain.get_layer(name).output.shape[1]
        for unit in range(1, rows - 1):
            box = cnnviz.receptive_box(plain, name, unit, unit)
            blur_box = cnnviz.receptive_box(blurred, f"blur{k}", unit, unit)
            if blur_box[0] == 0 or blur_box[2] == 28:
                continue  # clipped by the image's edge (or wrapped), not centred there
            checked.add((name, unit))
            assert box[0] + box[2] == blur_box[0] + blur_box[2], (name, unit)
            # Wider: the blur reads a max position more on each side (blur1: 1 pixel;
            # blur2: 2, jump 2, plus blur1's widening of conv2's field, 1 on each side).
            assert blur_box[2] - blur_box[0] == box[2] - box[0] + {"1": 2, "2": 6}[k]
    assert {name for name, _ in checked} == {"max_pool1", "max_pool2"}


@pytest.mark.parametrize("pooling", ["mean", "Max", "blurpool", None, 2, ("max",)])
def test_other_poolings_are_refused_naming_the_allowed_values(pooling):
    with pytest.raises(ValueError, match=r"pooling must be one of \('max', 'blur'\)") as info:
        lenet5("same", pooling=pooling)
    assert repr(pooling) in str(info.value)


def test_pooling_is_keyword_only():
    with pytest.raises(TypeError):
        lenet5("valid", (28, 28, 1), 10, "blur")


@pytest.mark.parametrize(
    ("padding", "side", "least"), [("reflect", 4, 3), ("reflect", 3, 3), ("circular", 2, 2)]
)
def test_input_too_small_for_a_border_of_the_images_own_pixels(padding, side, least):
    with pytest.raises(ValueError, match=f"border of 2 needs at least {least}") as info:
        lenet5(padding, input_shape=(side, side, 1))
    assert f"({side}, {side}, 1)" in str(info.value)


@pytest.mark.parametrize(
    ("padding", "pooling", "side"),
    [
        ("reflect", "max", 5),
        ("circular", "max", 3),
        ("reflect", "blur", 5),
        ("circular", "blur", 3),
    ],
)
def test_the_smallest_inputs_of_reflect_and_circular_run(padding, pooling, side):
    model = lenet5(padding, input_shape=(side, side, 1), pooling=pooling)
    images = np.zeros((1, side, side, 1), dtype=np.float32)
    assert keras.ops.convert_to_numpy(model(images)).shape == (1, 10)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("shape", [(1, 1), (2, 28), (1, 2), (5, 6), (27, 28), (29, 31), (30, 30)])
def test_blur_keeps_the_max_models_shapes_for_any_size(padding, shape):
    too_small = {"reflect": 5, "circular": 3, "valid": 16}.get(padding, 1)  # the convolutions
    if min(shape) < too_small:
        return
    plain = lenet5(padding, input_shape=(*shape, 1))
    blurred = lenet5(padding, input_shape=(*shape, 1), pooling="blur")
    for k in (1, 2):
        got = blurred.get_layer(f"blur{k}").output.shape
        assert got == plain.get_layer(f"max_pool{k}").output.shape, (k, got)
    images = np.zeros((1, *shape, 1), np.float32)
    assert keras.ops.convert_to_numpy(blurred(images)).shape == (1, 10)


def through(model, first: str, last: str, x: np.ndarray) -> np.ndarray:
    """Run the layers after `first` up to `last` (a chain of one-input layers) on `x`."""
    names = [layer.name for layer in model.layers]
    for name in names[names.index(first) + 1 : names.index(last) + 1]:
        x = model.get_layer(name)(x)
    return np.asarray(x)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("size", [24, 25, 26, 27])
def test_blur_pooling_treats_both_ends_of_a_constant_map_alike(padding, size):
    # relu1's output of the constant 16 (exact sums in float32), of even and odd sizes: the
    # blur's units at the bottom and right read as many border pixels as at the top and left.
    # (valid pooling drops the last row and column of a map of odd size, blur or not.)
    if padding == "valid" and size % 2:
        return
    extra = 4 if padding == "valid" else 0  # conv1's valid 5x5 takes 4 rows and columns
    model = lenet5(padding, input_shape=(size + extra, size + extra + 2, 1), pooling="blur")
    shape = model.get_layer("relu1").output.shape[1:3]
    constant = np.full((1, *shape, 6), 16.0, np.float32)
    out = through(model, "relu1", "blur1", constant)[0, :, :, 0]
    if padding in ("reflect", "circular"):
        np.testing.assert_array_equal(out, 16.0)  # the border is the map's own values
        return
    for corner in (out[0, 0], out[-1, -1], out[0, -1], out[-1, 0]):
        assert corner == 9.0  # zeros: a corner misses 7 of the 16 sixteenths
    for edge in (out[0, 1:-1], out[-1, 1:-1], out[1:-1, 0], out[1:-1, -1]):
        np.testing.assert_array_equal(edge, 12.0)  # an edge 4
