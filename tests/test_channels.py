"""cnnviz.channels: known answers by hand, gradients as the judge of boxes, streams against arrays."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnnviz

LENET_FIELDS = {  # both paddings: (size, jump) by hand, CS231n's rule
    "conv1": ((5, 5), (1, 1)),
    "relu1": ((5, 5), (1, 1)),
    "max_pool1": ((6, 6), (2, 2)),
    "conv2": ((14, 14), (2, 2)),
    "relu2": ((14, 14), (2, 2)),
    "max_pool2": ((16, 16), (4, 4)),
}


def nested(inner: keras.Model) -> keras.Model:
    inputs = keras.Input(inner.inputs[0].shape[1:])
    return keras.Model(inputs, inner(keras.layers.Identity(name="first")(inputs)), name="outer")


def as_sequential(model: keras.Model) -> keras.Model:
    """The same layers (the same weights) as a Sequential model."""
    return keras.Sequential([keras.Input(model.inputs[0].shape[1:]), *model.layers[1:]])


def images(n: int, shape=(28, 28, 1), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


# --- kernels -------------------------------------------------------------------------------


def test_kernels_are_the_conv_layers_weights_as_float32_copies():
    model = cnnviz.lenet5()
    kernel = cnnviz.kernels(model, "conv1")
    assert kernel.shape == (5, 5, 1, 6)
    assert kernel.dtype == np.float32
    np.testing.assert_array_equal(kernel, model.get_layer("conv1").get_weights()[0])
    kernel[:] = 0  # a copy: the model keeps its weights
    assert np.abs(model.get_layer("conv1").get_weights()[0]).sum() > 0
    np.testing.assert_array_equal(cnnviz.kernels(model, 4), cnnviz.kernels(model, "conv2"))


def test_kernels_of_nested_and_three_channel_models():
    model = cnnviz.lenet5(input_shape=(32, 32, 3))
    expected = cnnviz.kernels(model, "conv1")
    assert expected.shape == (5, 5, 3, 6)
    np.testing.assert_array_equal(cnnviz.kernels(nested(model), "conv1"), expected)
    np.testing.assert_array_equal(cnnviz.kernels(as_sequential(model), "conv1"), expected)


@pytest.mark.parametrize("groups", [2, 3])
def test_a_grouped_kernel_is_laid_out_in_every_input_channel_as_documented(groups):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((7, 7, 6))
    layer = keras.layers.Conv2D(6, 3, groups=groups, name="grouped")
    model = keras.Model(inputs, layer(inputs))
    kernel = cnnviz.kernels(model, "grouped")
    assert layer.kernel.shape == (3, 3, 6 // groups, 6)  # Keras' own layout
    assert kernel.shape == (3, 3, 6, 6)  # (kh, kw, in_channels, filters), as documented
    # [..., c, f] is what filter f reads from input channel c: zero outside f's group.
    per = 6 // groups
    for c in range(6):
        for f in range(6):
            reads = c // per == f // per
            assert kernel[:, :, c, f].any() == reads, (c, f)
    # An ungrouped convolution with this kernel computes the grouped layer's output.
    dense = keras.layers.Conv2D(6, 3)
    dense.build((None, 7, 7, 6))
    dense.set_weights([kernel, layer.get_weights()[1]])
    x = np.random.default_rng(0).random((2, 7, 7, 6), np.float32)
    np.testing.assert_allclose(dense(x), model(x), rtol=1e-5, atol=1e-6)


# --- receptive fields and boxes by hand ---------------------------------------------------


@pytest.mark.parametrize("padding", cnnviz.PADDINGS)
@pytest.mark.parametrize("wrap", [lambda m: m, nested, as_sequential], ids=["fun", "nest", "seq"])
def test_lenet5_receptive_fields_by_hand(padding, wrap):
    model = wrap(cnnviz.lenet5(padding))
    for name, expected in LENET_FIELDS.items():
        assert cnnviz.receptive_field(model, name) == expected, name


def test_receptive_boxes_by_hand_valid():
    model = cnnviz.lenet5("valid")
    assert cnnviz.receptive_box(model, "conv1", 0, 0) == (0, 0, 5, 5)
    assert cnnviz.receptive_box(model, "conv1", 23, 23) == (23, 23, 28, 28)
    assert cnnviz.receptive_box(model, "max_pool1", 2, 3) == (4, 6, 10, 12)
    assert cnnviz.receptive_box(model, "conv2", 7, 0) == (14, 0, 28, 14)
    assert cnnviz.receptive_box(model, "max_pool2", 1, 2) == (4, 8, 20, 24)
    assert cnnviz.receptive_box(model, "max_pool2", 3, 3) == (12, 12, 28, 28)


def test_receptive_boxes_by_hand_same_hang_over_the_edge():
    # conv1 pads 2 before (total 4); max_pool1 pads nothing (28 is even); conv2 pads 2 of
    # max_pool1's 2-pixel steps before, so max_pool2's fields start 6 pixels before the image.
    model = cnnviz.lenet5("same")
    assert cnnviz.receptive_box(model, "conv1", 0, 0) == (0, 0, 3, 3)
    assert cnnviz.receptive_box(model, "conv1", 27, 5) == (25, 3, 28, 8)
    assert cnnviz.receptive_box(model, "conv2", 0, 0) == (0, 0, 8, 8)
    assert cnnviz.receptive_box(model, "max_pool2", 0, 0) == (0, 0, 10, 10)
    assert cnnviz.receptive_box(model, "max_pool2", 3, 3) == (6, 6, 22, 22)
    assert cnnviz.receptive_box(model, "max_pool2", 6, 6) == (18, 18, 28, 28)


def strided_model() -> keras.Model:
    inputs = keras.Input((9, 9, 1))
    x = keras.layers.Conv2D(1, 3, strides=2, name="a")(inputs)  # 9 -> 4, size 3, jump 2
    x = keras.layers.Conv2D(1, 3, strides=2, padding="same", name="b")(x)  # 4 -> 2, pad 0+1
    return keras.Model(inputs, x)


def odd_model() -> keras.Model:
    inputs = keras.Input((9, 9, 1))
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="p")(inputs)  # pad 1+1
    x = keras.layers.Conv2D(1, 3, dilation_rate=2, name="d")(x)  # span 5
    x = keras.layers.ZeroPadding2D(((1, 0), (0, 0)), name="z")(x)
    return keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))


def test_strided_dilated_and_padded_layers_by_hand():
    model = strided_model()
    assert cnnviz.receptive_field(model, "a") == ((3, 3), (2, 2))
    assert cnnviz.receptive_field(model, "b") == ((7, 7), (4, 4))  # 3 + 2 * 2
    assert cnnviz.receptive_box(model, "b", 0, 0) == (0, 0, 7, 7)
    assert cnnviz.receptive_box(model, "b", 1, 1) == (4, 4, 9, 9)  # 4..11, clipped at 9
    odd = odd_model()
    assert cnnviz.receptive_field(odd, "p") == ((3, 3), (2, 2))
    assert cnnviz.receptive_box(odd, "p", 0, 0) == (0, 0, 2, 2)  # starts 1 before the image
    assert cnnviz.receptive_field(odd, "d") == ((11, 11), (2, 2))  # 3 + (5 - 1) * 2
    assert cnnviz.receptive_box(odd, "d", 0, 0) == (0, 0, 9, 9)  # -1..10 in a 9-pixel image
    # The zero row on top shifts every row down by one: row 1 is the old row 0.
    assert cnnviz.receptive_box(odd, "bn", 1, 0) == cnnviz.receptive_box(odd, "d", 0, 0)


def positive_twin(padding: str) -> keras.Model:
    """LeNet-5's geometry with average pooling, kernels of ones and no bias: every path counts.

    Then the gradient of one unit is non-zero exactly on the pixels it sees, and its
    support must equal the receptive box.
    """
    own = padding in ("reflect", "circular")  # cnnviz's Padding2D, then a valid convolution
    conv, pool = ("valid", "same") if own else (padding, padding)

    def padded(x, k):
        return cnnviz.Padding2D(2, padding, name=f"pad{k}")(x) if own else x

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 5, padding=conv, use_bias=False, name="conv1")(padded(inputs, 1))
    x = keras.layers.AveragePooling2D(2, padding=pool, name="max_pool1")(x)
    x = keras.layers.Conv2D(2, 5, padding=conv, use_bias=False, name="conv2")(padded(x, 2))
    x = keras.layers.AveragePooling2D(2, padding=pool, name="max_pool2")(x)
    model = keras.Model(inputs, x)
    for name in ("conv1", "conv2"):
        layer = model.get_layer(name)
        layer.set_weights([np.ones_like(layer.get_weights()[0])])
    return model


def gradient_support(model: keras.Model, name: str, row: int, col: int) -> np.ndarray:
    head = keras.Model(model.inputs[0], model.get_layer(name).output)
    x = tf.convert_to_tensor(np.random.default_rng(0).random((1, 28, 28, 1), np.float32) + 0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        unit = head(x)[0, row, col, 0]
    return tape.gradient(unit, x).numpy()[0, :, :, 0] != 0


def box_mask(box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((28, 28), bool)
    mask[box[0] : box[2], box[1] : box[3]] = True
    return mask


@pytest.mark.parametrize("padding", cnnviz.PADDINGS)
def test_boxes_are_the_gradients_support(padding):
    twin, lenet = positive_twin(padding), cnnviz.lenet5(padding)
    for name in ("conv1", "max_pool1", "conv2", "max_pool2"):
        assert cnnviz.receptive_field(twin, name) == LENET_FIELDS[name]
        rows, cols = twin.get_layer(name).output.shape[1:3]
        for row, col in {(0, 0), (1, 2), (rows // 2, cols - 1), (rows - 1, cols - 1)}:
            box = cnnviz.receptive_box(twin, name, row, col)
            assert cnnviz.receptive_box(lenet, name, row, col) == box
            support = gradient_support(twin, name, row, col)
            rows_seen, cols_seen = np.flatnonzero(support.any(1)), np.flatnonzero(support.any(0))
            # The box bounds the pixels read: with a wrapped border, a unit at the edge reads
            # the far edge too, so there it bounds two strips (not every pixel between).
            bounds = (rows_seen[0], cols_seen[0], rows_seen[-1] + 1, cols_seen[-1] + 1)
            assert box == bounds, (name, row, col)
            assert not (support & ~box_mask(box)).any()
            if padding != "circular":
                np.testing.assert_array_equal(support, box_mask(box), err_msg=f"{name} {row}")
            # With LeNet-5's own max pooling and signed weights: inside the box only.
            assert not (gradient_support(lenet, name, row, col) & ~box_mask(box)).any()


# --- boxes against the gradients of odd models -----------------------------------------------

L = keras.layers


def stride_and_pooling(x):
    x = L.Conv2D(3, 3, strides=2, padding="same", name="s2")(x)
    x = L.AveragePooling2D(3, strides=2, padding="same", name="pool3")(x)
    return L.Conv2D(2, 2, name="after")(x)


def odd_pooling(x):
    x = L.AveragePooling2D((2, 3), strides=(3, 1), padding="same", name="tall")(x)
    x = L.AveragePooling2D(2, strides=3, name="holes")(x)  # a stride larger than the window
    return L.Conv2D(2, 1, name="one")(x)


def dilated(x):
    x = L.Conv2D(2, 3, dilation_rate=2, padding="same", name="d2")(x)
    x = L.Conv2D(2, 2, dilation_rate=3, padding="same", name="d3")(x)  # 1 before, 2 after
    return L.Conv2D(2, 3, dilation_rate=2, name="valid")(x)


def padded_and_cropped(x):
    x = L.Cropping2D(((1, 0), (2, 1)), name="crop")(x)
    x = L.Conv2D(2, 3, name="c")(x)
    x = L.ZeroPadding2D(((2, 1), (0, 3)), name="pad")(x)
    x = L.Conv2D(2, 3, name="over_zeros")(x)
    return L.DepthwiseConv2D(3, strides=2, padding="same", name="depthwise")(x)


def separable_and_upsampled(x):
    x = L.SeparableConv2D(2, 3, dilation_rate=2, padding="same", name="separable")(x)
    x = L.UpSampling2D(2, name="up")(x)
    return L.Conv2D(2, 3, strides=2, name="down")(x)


def merged(x):
    c = L.Conv2D(2, 3, padding="same", name="c")(x)
    a = L.Add(name="add")([c, L.Conv2D(2, 3, dilation_rate=2, padding="same", name="d")(c)])
    side = L.ZeroPadding2D(1, name="pad")(L.Conv2D(2, 3, name="valid")(x))
    joined = L.Concatenate(name="join")([a, side])
    return L.Conv2D(2, 3, strides=2, name="after")(joined)


def mixing(x):
    x = L.Conv2D(3, 3, name="c")(x)
    x = L.LayerNormalization(axis=-1, name="ln_channels")(x)  # per position
    x = L.Dense(2, name="dense")(L.BatchNormalization(name="bn")(x))  # per position
    x = L.LayerNormalization(axis=1, name="ln_rows")(L.Conv2D(2, 3, name="c2")(x))
    return L.Conv2D(2, 2, name="after_rows")(x)


def mixing_everything(x):
    x = L.RandomFlip(name="flip")(L.RandomContrast(0.2, name="contrast")(x))  # at inference
    x = L.Dropout(0.5, name="drop")(L.Conv2D(2, 3, name="c")(x))
    softmax = L.Softmax(axis=[1, 2], name="softmax")(x)
    normed = L.LayerNormalization(axis=[1, 2, 3], name="ln_all")(x)
    pooled = L.GlobalAveragePooling2D(keepdims=True, name="gap")(x)
    return L.Add(name="sum")([softmax, normed, L.Multiply(name="times")([x, pooled])])


ODD_MODELS = [
    stride_and_pooling,
    odd_pooling,
    dilated,
    padded_and_cropped,
    separable_and_upsampled,
    merged,
    mixing,
    mixing_everything,
]


def positive(body, shape=(13, 11, 2)) -> keras.Model:
    """`body` on an input of `shape`, with random positive kernels: no gradient cancels."""
    inputs = keras.Input(shape)
    model = keras.Model(inputs, body(inputs))
    rng = np.random.default_rng(7)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:  # kernels positive; biases, scales and statistics as initialised
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape) if w.ndim > 1 else w for w in weights]
            )
    return model


def support_boxes(model: keras.Model, name: str) -> np.ndarray:
    """(H', W', 4): the bounding box of each position's non-zero input gradients, all channels."""
    head = keras.Model(model.inputs[0], model.get_layer(name).output)
    shape = model.inputs[0].shape[1:]
    x = tf.convert_to_tensor(np.random.default_rng(1).uniform(0.5, 1.5, (1, *shape)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = head(x, training=False)[0]
    jacobian = tape.jacobian(out, x).numpy()[:, :, :, 0]  # (H', W', C', H, W, C)
    seen = (jacobian != 0).any(axis=(2, 5))
    boxes = np.zeros((*seen.shape[:2], 4), np.int64)
    for i, j in np.ndindex(*seen.shape[:2]):
        rows, cols = np.nonzero(seen[i, j])
        if len(rows):
            boxes[i, j] = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
    return boxes


def spatial_layers(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers[1:] if len(layer.output.shape) == 4]


@pytest.mark.parametrize("body", ODD_MODELS, ids=[body.__name__ for body in ODD_MODELS])
def test_every_units_box_is_the_bounding_box_of_its_gradients(body):
    from cnnviz._geometry import _boxes, _field

    model = positive(body)
    for name in spatial_layers(model):
        expected = support_boxes(model, name)
        rows, cols = np.indices(expected.shape[:2])
        field = _field(model, cnnviz._graph.split(model, name))
        np.testing.assert_array_equal(_boxes(field, rows, cols), expected, err_msg=name)
        corner = tuple(int(v) for v in expected[-1, 0])
        assert cnnviz.receptive_box(model, name, len(rows) - 1, 0) == corner
        # A unit that the border does not clip sees its whole field (but not where padding
        # lies inside what the field spans: a ZeroPadding2D's zeros, or a window's `same`
        # padding at the edge of a cropped map).
        explicit = (L.ZeroPadding2D, L.Cropping2D)
        if field.why is None and not any(isinstance(x, explicit) for x in model.layers):
            size, jump = cnnviz.receptive_field(model, name)
            top = field.start[0] + rows * jump[0]
            left = field.start[1] + cols * jump[1]
            whole = np.stack([top, left, top + size[0], left + size[1]], axis=-1)
            h, w = model.inputs[0].shape[1:3]
            inside = (top >= 0) & (left >= 0) & (top + size[0] <= h) & (left + size[1] <= w)
            np.testing.assert_array_equal(expected[inside], whole[inside], err_msg=name)


def test_the_issues_examples_see_the_whole_image_or_only_their_taps():
    whole = positive(lambda x: L.LayerNormalization(axis=[1, 2, 3], name="ln")(x))
    assert cnnviz.receptive_box(whole, "ln", 5, 5) == (0, 0, 13, 11)
    with pytest.raises(ValueError, match=r"'ln' \(LayerNormalization\) mixes a spatial axis"):
        cnnviz.receptive_field(whole, "ln")
    softmax = positive(lambda x: L.Softmax(axis=[1, 2], name="sm")(x))
    assert cnnviz.receptive_box(softmax, "sm", 0, 3) == (0, 0, 13, 11)
    per_position = positive(lambda x: L.Softmax(name="sm")(L.LayerNormalization(name="ln")(x)))
    assert cnnviz.receptive_box(per_position, "sm", 4, 7) == (4, 7, 5, 8)
    assert cnnviz.receptive_field(per_position, "sm") == ((1, 1), (1, 1))
    # Two taps, 3 apart, padded 1 before: unit 0 reads -1 (padding) and 2, not columns 0 and 1.
    dilated = positive(lambda x: L.Conv2D(1, 2, dilation_rate=3, padding="same", name="d")(x))
    assert cnnviz.receptive_box(dilated, "d", 0, 0) == (2, 2, 3, 3)
    assert cnnviz.receptive_field(dilated, "d") == ((4, 4), (1, 1))


def test_a_unit_that_reads_only_padding_has_an_empty_box():
    model = positive(lambda x: L.Conv2D(1, 1, name="c")(L.ZeroPadding2D(2, name="pad")(x)))
    assert cnnviz.receptive_box(model, "c", 0, 0) == (0, 0, 0, 0)
    assert cnnviz.receptive_box(model, "c", 2, 2) == (0, 0, 1, 1)


def test_upsampling_has_boxes_but_no_one_jump():
    model = positive(separable_and_upsampled)
    assert cnnviz.receptive_box(model, "up", 0, 1) == cnnviz.receptive_box(model, "up", 1, 0)
    with pytest.raises(ValueError, match=r"after layer 'up' \(UpSampling2D\) neighbouring units"):
        cnnviz.receptive_field(model, "down")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (lambda x: L.UpSampling2D(interpolation="bilinear", name="up")(x), r"interpolates"),
        (lambda x: L.Reshape((11, 13, 2), name="r")(x), r"'r' \(Reshape\) .* rearranges"),
        (lambda x: L.Concatenate(axis=1, name="j")([x, x]), r"'j' \(Concatenate\) .* several"),
        (lambda x: L.Conv2DTranspose(1, 3, name="t")(x), r"'t' is a Conv2DTranspose, which"),
    ],
    ids=["bilinear", "reshape", "concatenate rows", "transposed"],
)
def test_layers_that_cannot_be_followed_say_why(body, words):
    inputs = keras.Input((13, 11, 2))
    outputs = L.Conv2D(1, 1, name="last")(body(inputs))
    with pytest.raises(ValueError, match=words):
        cnnviz.receptive_box(keras.Model(inputs, outputs), "last", 0, 0)


AT_INFERENCE = [
    L.RandomFlip(),
    L.RandomRotation(0.3),
    L.RandomZoom(0.3),
    L.RandomTranslation(0.2, 0.2),
    L.RandomContrast(0.5),
    L.RandomBrightness(0.5),
    L.GaussianNoise(1.0),
    L.GaussianDropout(0.5),
    L.AlphaDropout(0.5),
    L.SpatialDropout2D(0.5),
]


@pytest.mark.parametrize("layer", AT_INFERENCE, ids=lambda layer: type(layer).__name__)
def test_layers_taken_as_doing_nothing_at_inference_do_nothing(layer):
    # The geometry passes them through as per position: that holds while they are the identity.
    inputs = keras.Input((12, 10, 3))
    model = keras.Model(inputs, L.Conv2D(1, 1, name="c")(layer(inputs)))
    x = np.random.default_rng(0).random((2, 12, 10, 3), dtype=np.float32)
    np.testing.assert_array_equal(keras.Model(inputs, layer.output)(x, training=False), x)
    assert cnnviz.receptive_box(model, "c", 4, 7) == (4, 7, 5, 8)


# --- models of any input size -------------------------------------------------------------------


@pytest.mark.parametrize("body", ODD_MODELS[:6], ids=[body.__name__ for body in ODD_MODELS[:6]])
def test_a_model_of_any_size_has_the_fixed_models_fields_for_its_image_size(body):
    fixed, open_size = positive(body), positive(body, (None, None, 2))
    for name in spatial_layers(fixed):
        h, w = fixed.get_layer(name).output.shape[1:3]
        for row, col in {(0, 0), (h - 1, w - 1), (h // 2, 0)}:
            assert cnnviz.receptive_box(
                open_size, name, row, col, image_size=(13, 11)
            ) == cnnviz.receptive_box(fixed, name, row, col), (name, row, col)
        try:
            expected = cnnviz.receptive_field(fixed, name)
        except ValueError:
            continue
        assert cnnviz.receptive_field(open_size, name) == expected, name


def open_lenet() -> keras.Model:
    inputs = keras.Input((None, None, 1))
    x = L.Conv2D(4, 5, activation="relu", name="conv1")(inputs)
    x = L.MaxPooling2D(name="max_pool1")(x)
    x = L.Conv2D(6, 5, padding="same", name="conv2")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, L.Dense(3, activation="softmax", name="op")(x), name="open")


def test_images_too_small_for_a_later_layer_are_said_by_their_own_size():
    # 6x6 images fit the first 3x3 convolution (4x4 out) but not the 5x5 after it: the
    # message said "images of 4x4 pixels", the first layer's output, and named images where
    # receptive_box was given image_size.
    inputs = keras.Input((None, None, 1))
    x = L.Conv2D(2, 3, name="a")(inputs)
    x = L.Conv2D(2, 5, name="b")(x)
    model = keras.Model(inputs, x)
    with pytest.raises(
        ValueError,
        match=r"image_size=\(6, 6\) is too small for layer 'b' \(Conv2D\) on the way to 'b': "
        r"its input would be 4x4 and its output 0x0",
    ):
        cnnviz.receptive_box(model, "b", 0, 0, image_size=(6, 6))
    # top_patches takes the size from the images, which the model itself cannot run.
    with pytest.raises(ValueError, match=r"images \(6x6 pixels\) are too small for model"):
        cnnviz.top_patches(model, np.zeros((2, 6, 6, 1), np.float32), "b", k=1)


def test_a_model_of_any_size_needs_image_size_only_where_the_size_matters():
    model = open_lenet()
    assert cnnviz.receptive_field(model, "conv2") == ((14, 14), (2, 2))
    with pytest.raises(ValueError, match=r"takes images of any size .* give image_size="):
        cnnviz.receptive_box(model, "conv2", 0, 0)
    assert cnnviz.receptive_box(model, "conv2", 0, 0, image_size=(20, 30)) == (0, 0, 10, 10)
    with pytest.raises(ValueError, match=r"image_size=\(3, 3\) is too small for layer"):
        cnnviz.receptive_box(model, "conv2", 0, 0, image_size=(3, 3))
    with pytest.raises(ValueError, match=r"image_size must be the size model 'lenet5_valid'"):
        cnnviz.receptive_box(cnnviz.lenet5(), "conv2", 0, 0, image_size=(20, 20))
    assert cnnviz.receptive_box(cnnviz.lenet5(), "conv1", 0, 0, image_size=(28, 28)) == (
        0,
        0,
        5,
        5,
    )


def test_top_patches_of_a_model_of_any_size_take_the_images_size():
    model = open_lenet()
    x = images(6, (20, 24, 1))
    result = cnnviz.top_patches(model, x, "conv2", k=3)
    out = cnnviz.layer_outputs(model, x, ["conv2"])["conv2"]
    assert_top_patches(result, out, 3)
    expected = [
        cnnviz.receptive_box(model, "conv2", r, c, image_size=(20, 24))
        for r, c in zip(result["row"][0], result["col"][0], strict=True)
    ]
    assert result["box"][0].tolist() == [list(box) for box in expected]
    # A stream of two sizes: each image's box for its own size.
    stream = [images(3, (20, 24, 1)), images(3, (16, 16, 1), seed=1)]
    result = cnnviz.top_patches(model, stream, "conv2", k=6)
    for index, r, c, box in zip(
        *(result[k][0] for k in ("index", "row", "col", "box")), strict=True
    ):
        size = (20, 24) if index < 3 else (16, 16)
        assert tuple(box) == cnnviz.receptive_box(model, "conv2", r, c, image_size=size)


def test_maximize_activation_of_a_model_of_any_size_takes_image_size():
    model = open_lenet()
    with pytest.raises(ValueError, match=r"the size of the image to make is open: give image_size"):
        cnnviz.maximize_activation(model, "conv2", 0, steps=2)
    image = cnnviz.maximize_activation(model, "conv2", [0, 1], steps=3, image_size=(18, 22))
    assert image.shape == (2, 18, 22, 1)
    unit = cnnviz.maximize_activation(
        model, "conv2", 1, steps=3, image_size=(18, 22), position=(6, 8)
    )
    np.testing.assert_allclose(
        unit,
        cnnviz.maximize_activation(
            model, "conv2", 1, steps=3, image_size=(18, 22), position=(6, 8)
        ),
    )
    with pytest.raises(ValueError, match=r"position's col must be an integer in range\(0, 9\)"):
        cnnviz.maximize_activation(model, "conv2", 0, steps=1, image_size=(18, 22), position=(0, 9))
    with pytest.raises(ValueError, match=r"image_size=\(4, 4\) is too small for model 'open'"):
        cnnviz.maximize_activation(model, "conv2", 0, steps=1, image_size=(4, 4))


def test_the_input_layer_is_refused_in_every_kind_of_model():
    for model in (cnnviz.lenet5(), nested(cnnviz.lenet5())):
        with pytest.raises(ValueError, match=r"layer 0 is the input layer of model"):
            cnnviz.receptive_field(model, 0)
    inner = cnnviz.lenet5()
    inputs = keras.Input((28, 28, 1), name="outer_input")
    outer = keras.Model(inputs, inner(inputs))
    with pytest.raises(ValueError, match=r"layer 'input' is the input layer of nested model"):
        cnnviz.receptive_box(outer, "input", 0, 0)
    with pytest.raises(
        ValueError, match=r"'outer_input' is the input layer of model .*\(index 1\)"
    ):
        cnnviz.top_patches(outer, np.zeros((2, 28, 28, 1), np.float32), "outer_input")
    # A Sequential model lists no input layer: its index 0 is its first layer.
    assert cnnviz.receptive_field(as_sequential(cnnviz.lenet5()), 0) == ((5, 5), (1, 1))


# --- top patches ---------------------------------------------------------------------------


def planted() -> tuple[keras.Model, np.ndarray, list[tuple[int, int, int]]]:
    """One fixed 5x5 kernel, and its own pattern planted into three of 40 noisy images."""
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((5, 5)).astype(np.float32)
    inputs = keras.Input((20, 20, 1))
    conv = keras.layers.Conv2D(1, 5, use_bias=False, name="detector")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([kernel[:, :, None, None]])
    x = (rng.standard_normal((40, 20, 20, 1)) * 0.05).astype(np.float32)
    # (image, row, col), strongest first: the pattern matches the kernel best (Cauchy-Schwarz).
    places = [(17, 3, 9), (4, 12, 0), (31, 7, 15)]
    for strength, (n, row, col) in zip((1.0, 0.8, 0.6), places, strict=True):
        x[n, row : row + 5, col : col + 5, 0] += strength * kernel
    return model, x, places


def test_top_patches_finds_the_planted_patches():
    model, x, places = planted()
    result = cnnviz.top_patches(model, x, "detector", k=3)
    assert result["layer"] == "detector"
    assert result["channels"].tolist() == [0]
    assert [
        tuple(p) for p in zip(*(result[key][0] for key in ("index", "row", "col")), strict=True)
    ] == places
    assert result["box"][0].tolist() == [[r, c, r + 5, c + 5] for _, r, c in places]
    assert result["value"].dtype == np.float32
    for key in ("channels", "index", "row", "col", "box"):
        assert result[key].dtype == np.int64


def assert_top_patches(result: dict, out: np.ndarray, k: int) -> None:
    """`result`, of top_patches for every channel, holds the `k` strongest images of `out`.

    `out` is the layer's whole output (N, H, W, C), from one pass over all the images: the
    obvious way. Batches of another size round differently (conv2 of LeNet-5 here: by up to
    4e-7 in values up to 1), which may swap two nearly equal activations, so each choice is
    checked by the value it stands for, to 1e-5 of the largest activation (25 times that
    rounding): the activation at the reported image and position is the reported value, that
    value is its image's largest, the values are the k largest of the images' maxima, and no
    image comes twice. Where no two candidates are that close, only the right answer passes.
    """
    atol = 1e-5 * np.abs(out).max()
    n, _, _, c = out.shape
    maxima = out.reshape(n, -1, c).max(axis=1)  # (N, C): each image's candidate
    channel = np.arange(c)[:, np.newaxis]
    np.testing.assert_allclose(result["value"], -np.sort(-maxima, axis=0)[:k].T, rtol=0, atol=atol)
    at = out[result["index"], result["row"], result["col"], channel]
    np.testing.assert_allclose(at, result["value"], rtol=0, atol=atol)
    np.testing.assert_allclose(maxima[result["index"], channel], result["value"], rtol=0, atol=atol)
    assert all(len(set(images)) == k for images in result["index"].tolist())
    assert (np.diff(result["value"], axis=1) <= 0).all()  # strongest first, as returned


@pytest.mark.parametrize("padding", cnnviz.PADDINGS)
def test_top_patches_in_batches_and_streams_equal_the_brute_force(padding):
    model = cnnviz.lenet5(padding)
    x = images(50)
    out = cnnviz.layer_outputs(model, x, ["conv2"])["conv2"]
    y = np.arange(50) % 10
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    for given in (
        cnnviz.top_patches(model, x, "conv2", k=4),
        cnnviz.top_patches(model, x, "conv2", k=4, batch_size=7),
        cnnviz.top_patches(model, dataset, "conv2", k=4),
        cnnviz.top_patches(model, (x[i : i + 9] for i in range(0, 50, 9)), "conv2", k=4),
    ):
        assert_top_patches(given, out, 4)
        boxes = [
            cnnviz.receptive_box(model, "conv2", r, c)
            for r, c in zip(given["row"][3], given["col"][3], strict=True)
        ]
        assert given["box"][3].tolist() == [list(b) for b in boxes]


def test_top_patches_keeps_one_per_image_and_the_earlier_image_on_ties():
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Identity(name="same")(inputs))
    x = np.zeros((5, 4, 4, 1), np.float32)
    x[1, 0, 0] = x[1, 3, 3] = 2.0  # one image, two equal maxima: the first position
    x[3, 2, 1] = 2.0  # a tie with image 1: image 1 first
    x[4] = 1.0
    result = cnnviz.top_patches(model, x, "same", k=3, batch_size=2)
    assert result["index"].tolist() == [[1, 3, 4]]
    assert result["row"].tolist() == [[0, 2, 0]]
    assert result["col"].tolist() == [[0, 1, 0]]


def test_top_patches_of_chosen_channels_in_the_given_order():
    model, x = cnnviz.lenet5(), images(12)
    every = cnnviz.top_patches(model, x, "max_pool1", k=2)
    some = cnnviz.top_patches(model, x, "max_pool1", channels=[4, 1], k=2)
    assert some["channels"].tolist() == [4, 1]
    for key in ("index", "row", "col", "value", "box"):
        np.testing.assert_array_equal(some[key], every[key][[4, 1]])
    assert cnnviz.top_patches(model, x, 3, channels=5, k=2)["channels"].tolist() == [5]


@pytest.mark.parametrize("channels_in", [1, 3])
def test_sequential_nested_and_functional_models_agree(channels_in):
    model = cnnviz.lenet5(input_shape=(28, 28, channels_in))
    x = images(16, (28, 28, channels_in))
    y = np.arange(16) % 10
    expected = cnnviz.top_patches(model, x, "conv2", k=3)
    means = cnnviz.class_mean_activations(model, x, y, "relu2")
    ablation = cnnviz.channel_ablation(model, x, y, "relu1")
    for other in (nested(model), as_sequential(model)):
        result = cnnviz.top_patches(other, x, "conv2", k=3)
        for key in ("index", "row", "col", "box"):
            np.testing.assert_array_equal(result[key], expected[key])
        np.testing.assert_allclose(result["value"], expected["value"], rtol=1e-5)
        np.testing.assert_allclose(
            cnnviz.class_mean_activations(other, x, y, "relu2"), means, rtol=1e-5
        )
        again = cnnviz.channel_ablation(other, x, y, "relu1")
        np.testing.assert_array_equal(again["accuracy"], ablation["accuracy"])


# --- class means ---------------------------------------------------------------------------


def test_class_mean_activations_equal_a_loop_over_the_classes():
    model, x = cnnviz.lenet5(), images(60)
    y = np.random.default_rng(1).integers(0, 7, 60)  # classes 7, 8, 9 have no image
    outputs = cnnviz.layer_outputs(model, x, ["conv2"])["conv2"]
    expected = np.full((10, 16), np.nan)
    for label in range(7):
        # In float64, as class_mean_activations sums: a float32 mean of ~600 values was off by 5e-7.
        expected[label] = outputs[y == label].mean(axis=(0, 1, 2), dtype=np.float64)
    result = cnnviz.class_mean_activations(model, x, y, "conv2")
    assert result.dtype == np.float32
    assert result.shape == (10, 16)
    # conv2 is signed, so a mean can be near 0 (8e-5 here), where only an absolute tolerance
    # holds: float32 activations, rounded differently by another pass (a few 1e-7).
    tolerance = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(result, expected, **tolerance)
    one_hot = cnnviz.one_hot(y)
    # The same images in the same batches: the same arithmetic, so the same bits.
    np.testing.assert_array_equal(cnnviz.class_mean_activations(model, x, one_hot, "conv2"), result)
    # Batches of 16 instead of one of 60: conv2 rounds differently.
    stream = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    np.testing.assert_allclose(
        cnnviz.class_mean_activations(model, stream, None, "conv2"), result, **tolerance
    )
    # Dense outputs are used as they are: (batch, units).
    fc = cnnviz.layer_outputs(model, x, ["fc1"])["fc1"]
    np.testing.assert_allclose(
        cnnviz.class_mean_activations(model, x, y, "fc1")[2],
        fc[y == 2].mean(axis=0, dtype=np.float64),
        **tolerance,
    )


def test_class_count_from_the_labels_when_the_model_has_no_classes():
    model = strided_model()  # its output is a map, not (batch, classes)
    x = np.random.default_rng(0).random((6, 9, 9, 1), np.float32)
    assert cnnviz.class_mean_activations(model, x, [0, 1, 4, 4, 1, 0], "a").shape == (5, 1)
    assert cnnviz.class_mean_activations(model, x, [0] * 6, "a", num_classes=3).shape == (3, 1)
    # One stray label must not make a row for every class up to it.
    stray = [0, 1, 4, 10**9, 1, 0]
    with pytest.raises(
        ValueError,
        match=r"labels must hold labels in range\(0, 10000\) .*the first 1000000000 at index 3",
    ):
        cnnviz.class_mean_activations(model, x, stray, "a")
    with pytest.raises(
        ValueError,
        match=r"the labels of batch 1 of images must hold .*the first 1000000000 at index 0",
    ):
        cnnviz.class_mean_activations(model, [(x[:3], stray[:3]), (x[3:], stray[3:])], None, "a")
    with pytest.raises(ValueError, match=r"num_classes must be at most 10,000 .*got 1000000000"):
        cnnviz.class_mean_activations(model, x, [0] * 6, "a", num_classes=10**9)


# --- ablation ------------------------------------------------------------------------------


def ignoring_model() -> keras.Model:
    """conv (3 channels) -> 1x1 conv that reads channels 0 and 1 only -> classes."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    mix = keras.layers.Conv2D(4, 1, name="mix")
    x = mix(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="out")(x))
    kernel, bias = mix.get_weights()
    kernel[:, :, 2, :] = 0  # channel 2 of conv is read by nothing
    mix.set_weights([kernel, bias])
    return model


def clearly_decided(*probabilities: np.ndarray) -> np.ndarray:
    """Whether each image's most probable class wins by more than 1e-4, under every model given.

    Accuracies here are counts of argmaxes computed in different ways: by predict, by the model
    split at a layer, in batches of other sizes. Each rounds the probabilities differently (by
    about 1e-7), which can flip a near tie on another CPU; images decided by 1e-4 or more get
    the same class every way, so their counts must agree exactly.
    """
    clear = np.ones(len(probabilities[0]), bool)
    for p in probabilities:
        top = np.sort(p, axis=1)
        clear &= top[:, -1] - top[:, -2] > 1e-4
    return clear


def test_ablating_a_channel_the_output_ignores_costs_nothing_and_changes_no_weight():
    model = ignoring_model()
    before = [w.copy() for w in model.get_weights()]
    pool = np.random.default_rng(0).random((240, 12, 12, 1), np.float32)
    x = pool[clearly_decided(cnnviz.predict(model, pool))][:200]
    assert len(x) == 200
    y = cnnviz.predict(model, x).argmax(axis=1)  # labels the model gets right
    y[:50] = (y[:50] + 1) % 5  # and some it gets wrong: intact accuracy 0.75
    result = cnnviz.channel_ablation(model, x, y, "conv")
    assert result["layer"] == "conv"
    assert result["channels"].tolist() == [0, 1, 2]
    assert result["intact_accuracy"] == 0.75
    assert result["accuracy"].dtype == np.float64
    assert result["accuracy"][2] == 0.75
    for got, want in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)


def without_filter(model: keras.Model, channel: int) -> keras.Model:
    """A copy of `model` whose conv layer's filter `channel` is zero: relu(0) = 0, it is off."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    kernel, bias = copy.get_layer("conv").get_weights()
    kernel[..., channel], bias[channel] = 0, 0
    copy.get_layer("conv").set_weights([kernel, bias])
    return copy


def test_ablation_equals_zeroing_the_filter_in_a_copy():
    model = ignoring_model()
    copies = [without_filter(model, channel) for channel in (1, 0)]
    pool = np.random.default_rng(1).random((80, 12, 12, 1), np.float32)
    x = pool[clearly_decided(*(cnnviz.predict(copy, pool) for copy in copies))][:64]
    assert len(x) == 64
    y = np.random.default_rng(2).integers(0, 5, 64)
    result = cnnviz.channel_ablation(model, x, y, "conv", channels=[1, 0])
    dataset = tf.data.Dataset.from_tensor_slices((x, cnnviz.one_hot(y, 5))).batch(10)
    streamed = cnnviz.channel_ablation(model, dataset, None, "conv", channels=[1, 0])
    np.testing.assert_array_equal(streamed["accuracy"], result["accuracy"])
    for position, copy in enumerate(copies):
        accuracy = np.mean(cnnviz.predict(copy, x).argmax(axis=1) == y)
        assert result["accuracy"][position] == accuracy


def test_ablation_refuses_a_model_with_a_connection_around_the_layer():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Concatenate()([x, inputs])
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    with pytest.raises(ValueError, match="does not depend on layer 'conv'"):
        cnnviz.channel_ablation(model, np.zeros((2, 8, 8, 1), np.float32), [0, 1], "conv")


def test_ablation_of_the_output_layer_says_that_nothing_runs_after_it():
    model, x = cnnviz.lenet5(), images(2)
    for layer in ("op", -1):
        with pytest.raises(
            ValueError,
            match=r"^layer 'op' is the output of model 'lenet5_valid': no layer runs after it",
        ):
            cnnviz.channel_ablation(model, x, [0, 1], layer)


def constant_channel_model() -> keras.Model:
    """conv: channel 0 a local mean of the pixels, channel 1 its bias alone (zero kernel).

    Channel 1 is 1.3 everywhere and for every image: the class-0 score. The class-1 score is
    channel 0's mean, below 1 for pixels in [0, 1): every image is class 0, by at least 0.3.
    Zeroing channel 1 leaves class 1 the winner for every image; its mean, 1.3 again,
    changes nothing.
    """
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="conv")
    x = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    out = keras.layers.Dense(2, activation="softmax", name="out")
    model = keras.Model(inputs, out(x))
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[..., 0] = 1 / 9
    conv.set_weights([kernel, np.array([0.0, 1.3], np.float32)])
    out.set_weights([np.array([[0, 1], [1, 0]], np.float32), np.zeros(2, np.float32)])
    return model


def test_mean_ablation_of_a_constant_channel_changes_nothing_while_zeroing_it_does():
    model = constant_channel_model()
    x = np.random.default_rng(3).random((50, 8, 8, 1), np.float32)
    y = np.zeros(50, np.int64)
    zero = cnnviz.channel_ablation(model, x, y, "conv")
    mean = cnnviz.channel_ablation(model, x, y, "conv", fill="mean")
    assert zero["intact_accuracy"] == mean["intact_accuracy"] == 1.0
    assert zero["fill"] == "zero"
    assert mean["fill"] == "mean"
    np.testing.assert_array_equal(zero["fill_values"], [0.0, 0.0])
    # Zero is not "off" for a channel whose level is its bias: every prediction flips.
    np.testing.assert_array_equal(zero["accuracy"], [1.0, 0.0])
    # Its mean is exactly its one value (float64 sums of one float32 value are exact), so the
    # ablated copy is the intact output, bit for bit: no prediction can change.
    assert mean["fill_values"][1] == np.float32(1.3)
    np.testing.assert_array_equal(mean["accuracy"], [1.0, 1.0])
    # Channel 0's mean over every image and position, worked out from the layer's output.
    conv = cnnviz.layer_outputs(model, x, ["conv"])["conv"].astype(np.float64)
    assert mean["fill_values"][0] == pytest.approx(conv[..., 0].mean(), rel=1e-12)
    assert 0.3 < mean["fill_values"][0] < 0.7


def test_given_fill_values_are_what_ablated_channels_become():
    model = constant_channel_model()
    x = np.random.default_rng(5).random((40, 8, 8, 1), np.float32)
    y = np.zeros(40, np.int64)
    mean = cnnviz.channel_ablation(model, x, y, "conv", fill="mean")
    # The means given back as numbers: the same ablation, prediction for prediction.
    given = cnnviz.channel_ablation(model, x, y, "conv", fill=mean["fill_values"])
    assert given["fill"] == "given"
    np.testing.assert_array_equal(given["fill_values"], mean["fill_values"])
    np.testing.assert_array_equal(given["accuracy"], mean["accuracy"])
    # Means of other images (a generator may be given: it is read once), and one number
    # broadcast to every channel; zero given as a number is fill="zero".
    other = np.random.default_rng(6).random((40, 8, 8, 1), np.float32)
    means = cnnviz.layer_outputs(model, other, ["conv"])["conv"].mean(axis=(0, 1, 2))
    stream = ((x[s : s + 10], y[s : s + 10]) for s in range(0, 40, 10))
    moved = cnnviz.channel_ablation(model, stream, None, "conv", fill=means, channels=[1])
    np.testing.assert_allclose(moved["fill_values"], [means[1]])
    assert moved["fill_values"].dtype == np.float64
    zero = cnnviz.channel_ablation(model, x, y, "conv")
    as_number = cnnviz.channel_ablation(model, x, y, "conv", fill=0)
    np.testing.assert_array_equal(as_number["fill_values"], [0.0, 0.0])
    np.testing.assert_array_equal(as_number["accuracy"], zero["accuracy"])
    # Channel 1 (1.3 everywhere) is the class-0 score; channel 0's mean, about 0.5 for these
    # images, the class-1 score: at 0.2 every prediction flips, at 1.3 none does.
    flipped = cnnviz.channel_ablation(model, x, y, "conv", fill=[0.0, 0.2], channels=[1])
    kept = cnnviz.channel_ablation(model, x, y, "conv", fill=[0.0, 1.3], channels=[1])
    np.testing.assert_array_equal(flipped["accuracy"], [0.0])
    np.testing.assert_array_equal(kept["accuracy"], [1.0])
    # A masked array without masked values is its values; what is returned is plain float64.
    masked = np.ma.masked_array([0.0, 0.2], mask=[False, False])
    plain = cnnviz.channel_ablation(model, x, y, "conv", fill=masked, channels=[1])
    assert type(plain["fill_values"]) is np.ndarray
    np.testing.assert_array_equal(plain["accuracy"], flipped["accuracy"])


def test_mean_ablation_reads_a_stream_twice_the_same_batches_and_refuses_a_generator():
    model = constant_channel_model()
    x = np.random.default_rng(4).random((30, 8, 8, 1), np.float32)
    y = np.zeros(30, np.int64)
    pairs = [(x[s : s + 10], y[s : s + 10]) for s in range(0, 30, 10)]
    arrays = cnnviz.channel_ablation(model, x[:20], y[:20], "conv", fill="mean")
    dataset = tf.data.Dataset.from_tensor_slices((x, cnnviz.one_hot(y, 2))).batch(10)
    for stream in (pairs, dataset):
        # steps=2: the first two batches, in the pass for the means and in the ablation.
        got = cnnviz.channel_ablation(model, stream, None, "conv", fill="mean", steps=2)
        np.testing.assert_allclose(got["fill_values"], arrays["fill_values"], rtol=1e-12)
        np.testing.assert_array_equal(got["accuracy"], arrays["accuracy"])
    with pytest.raises(TypeError, match=r"images is an iterator \(generator\), which can be"):
        cnnviz.channel_ablation(model, (pair for pair in pairs), None, "conv", fill="mean")
    zero = cnnviz.channel_ablation(model, (pair for pair in pairs), None, "conv")
    np.testing.assert_array_equal(zero["accuracy"], [1.0, 0.0])


# --- arrays, tf.data and iterables of batches ------------------------------------------------


def dataset_views(model, make, labels) -> dict:
    """The three data-set functions on the images `make()` gives (anew: a generator is read once)."""
    return {
        "top_patches": cnnviz.top_patches(model, make(), "conv2", k=5),
        "class_mean_activations": cnnviz.class_mean_activations(model, make(), labels, "relu2"),
        "channel_ablation": cnnviz.channel_ablation(
            model, make(), labels, "relu1", channels=[0, 3]
        ),
    }


def assert_same_views(got: dict, expected: dict) -> None:
    for key in ("index", "row", "col", "value", "box"):
        np.testing.assert_array_equal(got["top_patches"][key], expected["top_patches"][key])
    means = "class_mean_activations"
    np.testing.assert_array_equal(got[means], expected[means])
    for key in ("accuracy", "intact_accuracy"):
        np.testing.assert_array_equal(
            got["channel_ablation"][key], expected["channel_ablation"][key]
        )


@pytest.mark.parametrize("form", ["tf.data", "generator", "list"])
def test_a_stream_of_labelled_batches_gives_what_the_arrays_give(form, streams, monkeypatch):
    model, x = cnnviz.lenet5(), images(30, seed=3)
    y = np.arange(30) % 10
    # Chunks of 8 for the arrays, as the stream's batches of 8 (the last of 6): exact.
    monkeypatch.setattr(cnnviz._batches, "MAX_IMAGES", 8)
    expected = dataset_views(model, lambda: x, y)
    assert_same_views(dataset_views(model, lambda: streams(x, y)[form], None), expected)
    one_hot = cnnviz.one_hot(y)  # labels in the stream as one-hot rows: the same classes
    assert_same_views(dataset_views(model, lambda: streams(x, one_hot)[form], None), expected)


def test_soft_labels_give_their_largest_class_and_a_tie_is_refused():
    model, x = cnnviz.lenet5(), images(4, seed=5)
    y = np.array([3, 0, 7, 3])
    soft = np.full((4, 10), 0.05)
    soft[np.arange(4), y] = 0.55  # each row's largest entry: its class
    expected = cnnviz.class_mean_activations(model, x, y, "conv1", num_classes=10)
    np.testing.assert_array_equal(
        cnnviz.class_mean_activations(model, x, soft, "conv1", num_classes=10), expected
    )
    # Half class 2, half class 5: no one class. It was taken for class 2, the first.
    soft[1] = 0.0
    soft[1, [2, 5]] = 0.5
    for call in (
        lambda: cnnviz.class_mean_activations(model, x, soft, "conv1"),
        lambda: cnnviz.channel_ablation(model, x, soft, "conv2"),
    ):
        with pytest.raises(
            ValueError,
            match=r"labels must give each image one class: a row's class is its largest entry, "
            r"but 1 row\(s\) share theirs among classes, the first row 1, largest \(0\.5\) at "
            r"classes \[2, 5\]",
        ):
            call()


def test_steps_reads_that_many_batches_for_every_data_set_function():
    model, x = cnnviz.lenet5(), images(40, seed=4)
    y = np.arange(40) % 10
    pairs = [(x[s : s + 8], y[s : s + 8]) for s in range(0, 40, 8)]
    first_three = dataset_views(model, lambda: pairs[:3], None)
    pulled = []

    def generate():
        for pair in pairs:
            pulled.append(pair)
            yield pair

    for name, call in {
        "top_patches": lambda s: cnnviz.top_patches(model, s, "conv2", k=5, steps=3),
        "class_mean_activations": lambda s: cnnviz.class_mean_activations(
            model, s, None, "relu2", steps=3
        ),
        "channel_ablation": lambda s: cnnviz.channel_ablation(
            model, s, None, "relu1", channels=[0, 3], steps=3
        ),
    }.items():
        pulled.clear()
        result = call(generate())
        assert len(pulled) == 3, name
        assert_same_views({**first_three, name: result}, first_three)


@pytest.mark.parametrize(
    "call",
    [
        lambda model, s: cnnviz.top_patches(model, s, "conv2"),
        lambda model, s: cnnviz.class_mean_activations(model, s, None, "relu2"),
        lambda model, s: cnnviz.channel_ablation(model, s, None, "relu1"),
    ],
    ids=["top_patches", "class_mean_activations", "channel_ablation"],
)
def test_a_dataset_that_never_ends_is_refused_before_it_is_read(call, endless_stream):
    dataset, pulled = endless_stream((images(4), np.arange(4)))
    with pytest.raises(ValueError, match=r"never ends .*: give steps=, the number of batches"):
        call(cnnviz.lenet5(), dataset)
    assert pulled == []


def test_a_repeated_dataset_with_steps_counts_its_images_again():
    model, x = cnnviz.lenet5(), images(8, seed=5)
    y = np.arange(8)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat()
    patches = cnnviz.top_patches(model, dataset, "conv2", k=2, steps=6)
    assert patches["index"].max() < 24  # indices count the images read: 6 batches of 4
    twice = cnnviz.top_patches(model, [x[:4], x[4:]] * 3, "conv2", k=2)
    np.testing.assert_array_equal(patches["index"], twice["index"])


def test_a_bad_batch_of_a_stream_is_named_by_its_number():
    model, x = cnnviz.lenet5(), images(12)
    y = np.arange(12) % 10
    stream = [(x[:4], y[:4]), (x[4:8], y[4:8]), (x[8:], y[8:10])]
    with pytest.raises(
        ValueError, match=r"batch 2 of images must hold as many labels as images; got 4 "
    ):
        cnnviz.class_mean_activations(model, stream, None, "relu2")
    stream[2] = (x[8:].astype(np.int32), y[8:])
    with pytest.raises(TypeError, match=r"batch 2 of images must be uint8 images .* int32"):
        cnnviz.channel_ablation(model, stream, None, "relu1")
    with pytest.raises(ValueError, match=r"images gave no batches: the stream is empty"):
        cnnviz.top_patches(model, iter([]), "conv2", k=1)


# --- activation maximization ---------------------------------------------------------------


def test_maximize_activation_is_deterministic_in_range_and_excites_the_channel():
    model = cnnviz.lenet5()
    first = cnnviz.maximize_activation(model, "relu1", 3, steps=24, seed=5)
    assert first.shape == (28, 28, 1)
    assert first.dtype == np.float32
    assert first.min() >= 0
    assert first.max() <= 1
    np.testing.assert_array_equal(
        cnnviz.maximize_activation(model, "relu1", 3, steps=24, seed=5), first
    )
    assert not np.array_equal(
        cnnviz.maximize_activation(model, "relu1", 3, steps=24, seed=6), first
    )
    noise = np.random.default_rng(0).random((20, 28, 28, 1), np.float32)

    def mean(x):
        return cnnviz.layer_outputs(model, x, ["relu1"])["relu1"][..., 3].mean(axis=(1, 2))

    # An untrained model's random filters want fine grain, which the blur and penalties forbid;
    # without them the image must beat every noise image.
    free = cnnviz.maximize_activation(model, "relu1", 3, steps=48, l2=0, tv=0, blur=0)
    assert mean(free[np.newaxis])[0] > mean(noise).max()


def test_maximize_activation_of_a_mixed_float16_model_excites_the_channel():
    # keras.io's mixed precision: the layers compute in float16. The ascent multiplied their
    # float16 output with its float32 weights and failed inside TensorFlow.
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, name="c")], name="mixed"
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    image = cnnviz.maximize_activation(model, "c", 2, steps=24, l2=0, tv=0, blur=0)
    assert image.shape == (12, 12, 1)
    assert image.dtype == np.float32
    assert image.min() >= 0
    assert image.max() <= 1
    noise = np.random.default_rng(0).random((20, 12, 12, 1), np.float32)

    def mean(x):
        return cnnviz.layer_outputs(model, x, ["c"])["c"][..., 2].astype(np.float32).mean((1, 2))

    assert mean(image[np.newaxis])[0] > mean(noise).max()


def test_maximize_activation_for_a_model_that_scales_its_input_is_in_0_to_255():
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(x))
    image = cnnviz.maximize_activation(model, "conv", 1, steps=8, blur=0)
    assert image.shape == (10, 10, 3)
    assert image.min() >= 0
    assert 1 < image.max() <= 255


def checkerboard_model() -> tuple[keras.Model, np.ndarray]:
    """One 5x5 convolution, no bias, of +1/-1 in a checkerboard (13 of +1: the sum is +1)."""
    kernel = np.where(np.add.outer(np.arange(5), np.arange(5)) % 2 == 0, 1.0, -1.0)
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(1, 5, use_bias=False, name="conv")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([kernel.reshape(5, 5, 1, 1).astype(np.float32)])
    return model, kernel


def test_one_unit_of_a_linear_filter_wants_the_kernels_sign_pattern_in_its_field():
    model, kernel = checkerboard_model()
    free = {"steps": 300, "jitter": 0, "blur": 0, "l2": 0, "tv": 0, "learning_rate": 0.2}
    image = cnnviz.maximize_activation(model, "conv", 0, position=(10, 12), **free)[..., 0]
    top, left, bottom, right = cnnviz.receptive_box(model, "conv", 10, 12)
    field = image[top:bottom, left:right]
    assert (top, left, bottom, right) == (10, 12, 15, 17)
    assert field[kernel > 0].min() > 0.9
    assert field[kernel < 0].max() < 0.1


def test_the_mean_of_a_linear_filter_wants_a_flat_image_by_the_sign_of_its_sum():
    model, _ = checkerboard_model()
    free = {"steps": 300, "jitter": 0, "blur": 0, "l2": 0, "tv": 0, "learning_rate": 0.2}
    image = cnnviz.maximize_activation(model, "conv", 0, **free)[..., 0]
    # Away from the border every pixel is under all 25 kernel weights: gradient = their sum > 0.
    assert image[4:24, 4:24].min() > 0.9


def linear_unit(scale: float = 1.0) -> tuple[keras.Model, np.ndarray]:
    """One 5x5 convolution of Gaussian weights (times `scale`) on 9x9 images: unit (2, 2) sees
    rows and columns 2 to 6."""
    kernel = np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32)
    inputs = keras.Input((9, 9, 1))
    conv = keras.layers.Conv2D(1, 5, name="conv")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([(kernel * np.float32(scale)).reshape(5, 5, 1, 1), np.zeros(1, np.float32)])
    return model, kernel


PLAIN = {"jitter": 0, "blur": 0, "l2": 0, "tv": 0}  # every aid off: the kernel comparison


def centre(model, **options) -> np.ndarray:
    """The image that excites unit (2, 2), in its 5x5 field."""
    return cnnviz.maximize_activation(model, "conv", 0, position=(2, 2), **options)[2:7, 2:7, 0]


def test_with_every_aid_off_a_linear_unit_goes_to_the_best_corner_of_the_range():
    model, kernel = linear_unit()
    field = centre(model, **PLAIN)
    # w . x over x in [0, 1]^25 is largest at 1 where w > 0 and 0 where w < 0: the sign
    # pattern, which Adam (the same pace for every pixel) reaches, not the weights' sizes.
    np.testing.assert_array_equal(field > 0.5, kernel > 0)
    assert np.minimum(field, 1 - field).max() < 0.05
    assert (field * kernel).sum() > 0.98 * kernel[kernel > 0].sum()


def test_with_the_l2_penalty_alone_a_linear_unit_gives_its_kernel_within_the_range():
    model, kernel = linear_unit()
    l2, n = 200.0, 81  # n: the values of a 9x9x1 image, over which the penalty is a mean
    field = centre(model, jitter=0, blur=0, tv=0, l2=l2, steps=512)
    positive = kernel > 0
    # The stationary point of w . u - l2 mean(u^2): u = n w / (2 l2), here 0.2025 w, all
    # within [0, 1] (the largest weight is 2.2); 0 (never reached: a sigmoid) where w < 0.
    assert (n * kernel.max() / (2 * l2)) < 1
    ratio = field[positive] / kernel[positive]
    assert np.median(ratio) == pytest.approx(n / (2 * l2), rel=1e-3)
    cosine = (field[positive] @ kernel[positive]) / (
        np.linalg.norm(field[positive]) * np.linalg.norm(kernel[positive])
    )
    assert cosine > 0.999  # pixels of the smallest weights move slowest: not yet all there
    assert field[~positive].max() < 0.05


def test_the_fixed_size_penalties_dim_a_weak_unit_and_the_ascent_and_blur_do_not():
    (strong, kernel), (weak, _) = linear_unit(), linear_unit(1e-3)
    # Adam's steps do not depend on the gradient's size (up to its epsilon, 1e-7, against
    # gradients of 1e-4 here): the same image for a unit 1000 times weaker, blurred or not.
    for options in (PLAIN, {**PLAIN, "blur": 0.5}):
        np.testing.assert_allclose(centre(weak, **options), centre(strong, **options), atol=0.01)
    # The L2 and total variation penalties have a fixed size: against the weak unit's small
    # gradient they win, and its image is dimmer and excites it less.
    penalties = {**PLAIN, "l2": 0.02, "tv": 0.05}
    strong_field, weak_field = centre(strong, **penalties), centre(weak, **penalties)
    assert (strong_field * kernel).sum() > 0.95 * kernel[kernel > 0].sum()
    assert (weak_field * kernel).sum() < 0.5 * (strong_field * kernel).sum()
    assert weak_field.mean() < 0.8 * strong_field.mean()


def test_several_channels_are_one_batch_that_gives_each_its_own_image():
    model = cnnviz.lenet5()
    alone = [cnnviz.maximize_activation(model, "conv2", c, steps=12) for c in (7, 2)]
    together = cnnviz.maximize_activation(model, "conv2", [7, 2], steps=12)
    assert together.shape == (2, 28, 28, 1)
    np.testing.assert_allclose(together, np.stack(alone), atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-3)
    # Another blur width and number of channels on the same model: a step of its own.
    wider = cnnviz.maximize_activation(model, "conv2", [1, 2, 3], steps=2, blur=1.5)
    assert wider.shape == (3, 28, 28, 1)


def test_a_position_outside_the_layer_or_on_a_layer_without_maps_is_refused():
    model = cnnviz.lenet5()
    with pytest.raises(ValueError, match=r"position's row must be an integer in range\(0, 8\)"):
        cnnviz.maximize_activation(model, "conv2", 0, steps=1, position=(8, 0))
    with pytest.raises(ValueError, match="position needs a layer with feature maps"):
        cnnviz.maximize_activation(model, "fc1", 0, steps=1, position=(0, 0))
    with pytest.raises(ValueError, match=r"position must be None or a pair \(row, col\)"):
        cnnviz.maximize_activation(model, "conv2", 0, steps=1, position=3)


# --- on the real data, with the cached trained model ------------------------------------------


@pytest.mark.integration
def test_on_the_trained_model_and_1000_test_images(fashion_mnist, trained_valid):
    model, _ = trained_valid
    _, (x_test, y_test) = fashion_mnist
    x, y = x_test[:1000], y_test[:1000]
    result = cnnviz.top_patches(model, x, "conv2", k=9)
    assert_top_patches(result, cnnviz.layer_outputs(model, x, ["conv2"])["conv2"], 9)
    # The images that no rounding can flip (see clearly_decided): the model split at conv2
    # and evaluate's predict compute the probabilities differently.
    clear = clearly_decided(cnnviz.predict(model, x))
    ablation = cnnviz.channel_ablation(model, x[clear], y[clear], "conv2")
    assert ablation["intact_accuracy"] == pytest.approx(
        cnnviz.evaluate(model, x[clear], y[clear])["accuracy"], abs=1e-9
    )
    assert (ablation["accuracy"] <= ablation["intact_accuracy"] + 0.02).all()
    means = cnnviz.class_mean_activations(model, x, y, "relu2")
    assert means.shape == (10, 16)
    assert np.isfinite(means).all()


def test_a_field_past_a_shared_layer_names_the_shared_layer():
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(1, 3, padding="same", name="shared_conv")
    model = keras.Model(inputs, keras.layers.ReLU(name="after")(conv(conv(inputs))))
    with pytest.raises(ValueError, match=r"called more than once \(shared_conv\)"):
        cnnviz.receptive_field(model, "after")


def test_a_channel_the_output_ignores_gives_exactly_the_intact_accuracy_near_ties_included():
    # conv -> flatten -> dense, whose classes 0 and 1 differ by rounding only: every image
    # is a near tie, which a batch of another shape may decide the other way (Eigen's
    # kernels, TF_ENABLE_ONEDNN_OPTS=0, round this dense layer differently for 300 and
    # 900 images). Each ablated copy is compared with the intact output of a call of its
    # own shape, so ablating the channel nothing reads changes nothing, exactly.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    out = keras.layers.Dense(5, activation="softmax", name="out")
    model = keras.Model(inputs, out(keras.layers.Flatten()(x)))
    kernel, bias = out.get_weights()
    kernel[2::3] = 0  # channel 2 of conv (every third input of the dense layer): read by none
    kernel[:, 1] = kernel[:, 0] * np.float32(1 + 1e-7)
    bias[1] = bias[0]
    out.set_weights([kernel, bias])
    x = np.random.default_rng(3).random((300, 12, 12, 1), np.float32)
    y = np.random.default_rng(4).integers(0, 2, 300)
    probabilities = cnnviz.predict(model, x)
    assert np.abs(probabilities[:, 0] - probabilities[:, 1]).max() < 1e-5  # all near ties
    for channels in (None, [2], [0, 2, 1, 2]):
        result = cnnviz.channel_ablation(model, x, y, "conv", channels=channels)
        ignored = result["channels"] == 2
        assert (result["accuracy"][ignored] == result["intact_accuracy"]).all()
    stream = tf.data.Dataset.from_tensor_slices((x, cnnviz.one_hot(y, 5))).batch(64)
    result = cnnviz.channel_ablation(model, stream, None, "conv")
    assert result["accuracy"][2] == result["intact_accuracy"]


def test_maximize_activation_behind_augmentation_and_rescaling_is_in_0_to_255():
    augmentation = keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1)])
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Rescaling(1 / 255)(augmentation(inputs))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(x))
    image = cnnviz.maximize_activation(model, "conv", 1, steps=8, blur=0)
    assert image.min() >= 0
    assert 1 < image.max() <= 255


def test_maximize_activation_warns_where_the_input_scale_cannot_be_told():
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Normalization(name="norm")(inputs)  # never adapted
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(x))
    with pytest.warns(UserWarning, match=r"cannot tell whether model .* \[0, 1\] or in \[0, 255\]"):
        image = cnnviz.maximize_activation(model, "conv", 0, steps=4)
    assert image.min() >= 0
    assert image.max() <= 1


def test_dataset_views_take_uint8_pixels_by_the_one_rule():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.RandomFlip(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
            keras.layers.Flatten(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 256, (16, 12, 12, 1), dtype=np.uint8), rng.integers(0, 4, 16)
    as_float = x.astype(np.float32)  # what the model takes: the pixels as they are
    # (top_patches needs receptive fields, which do not pass RandomFlip and Rescaling yet.)
    np.testing.assert_array_equal(
        cnnviz.class_mean_activations(model, x, y, "conv", num_classes=4),
        cnnviz.class_mean_activations(model, as_float, y, "conv", num_classes=4),
    )
    ablated = cnnviz.channel_ablation(model, x, y, "conv")
    from_float = cnnviz.channel_ablation(model, as_float, y, "conv")
    assert ablated["intact_accuracy"] == from_float["intact_accuracy"]
    np.testing.assert_array_equal(ablated["accuracy"], from_float["accuracy"])
