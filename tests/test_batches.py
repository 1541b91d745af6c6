"""cnnviz._batches: the chunk policy by hand, and per-image results gathered without a second copy.

The three forms, steps and the refusals are tested through the public functions that
use them (test_evaluation, test_activations, test_channels, test_attribution) and in
the catalogue of bad inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import _batches


@pytest.mark.parametrize(
    ("padding", "values", "chunk"),
    [
        # 784 input values; conv1, relu1 24x24x6; pool1 12x12x6; conv2, relu2 8x8x16;
        # pool2, flatten 256; fc1 120, fc2 84, op 10.
        ("valid", 784 + 2 * 3456 + 864 + 2 * 1024 + 2 * 256 + 120 + 84 + 10, 1480),
        # conv1, relu1 28x28x6; pool1 14x14x6; conv2, relu2 14x14x16; pool2, flatten 7x7x16.
        ("same", 784 + 2 * 4704 + 1176 + 2 * 3136 + 2 * 784 + 120 + 84 + 10, 863),
    ],
)
def test_lenet5_chunks_by_hand(padding, values, chunk):
    model = cnnviz.lenet5(padding)
    assert _batches._values_per_image(model) == values
    # 64 MiB over 4 bytes a value: 1480 images (valid), 863 (same); the ceiling is far.
    assert _batches.chunk_size(model) == 64 * 2**20 // (4 * values) == chunk


def test_the_rest_of_lenet5_after_conv2_takes_copies_of_its_output_by_the_same_rule():
    from cnnviz import _graph

    model = cnnviz.lenet5()
    tail = _graph.tail(model, _graph.split(model, "conv2"))
    # conv2's output 8x8x16 in; relu2 1024, pool2 and flatten 256, fc1 120, fc2 84, op 10.
    values = 1024 + 1024 + 2 * 256 + 120 + 84 + 10
    assert _batches._values_per_image(tail) == values
    assert _batches.chunk_size(tail) == 64 * 2**20 // (4 * values) == 6048


def test_a_nested_model_counts_its_inner_layers():
    inner = cnnviz.lenet5()
    inputs = keras.Input((28, 28, 1))
    outer = keras.Model(inputs, inner(inputs))
    assert _batches._values_per_image(outer) == _batches._values_per_image(inner)


def test_the_floor_and_the_ceiling(monkeypatch):
    model = cnnviz.lenet5()
    monkeypatch.setattr(_batches, "CHUNK_BYTES", 1)  # nothing fits: still MIN_IMAGES
    assert _batches.chunk_size(model) == _batches.MIN_IMAGES == 8
    monkeypatch.setattr(_batches, "CHUNK_BYTES", 100 * 45336)  # 100 LeNet-5 images
    assert _batches.chunk_size(model) == 100
    monkeypatch.setattr(_batches, "MAX_IMAGES", 2)  # the ceiling last: tests patch it
    assert _batches.chunk_size(model) == 2


def test_rows_of_a_known_count_fill_one_array_and_keep_a_single_piece_as_it_is():
    rows = _batches.Rows(5)
    parts = [np.arange(6.0).reshape(3, 2), np.arange(6.0, 10.0).reshape(2, 2)]
    for part in parts:
        rows.add(part)
    result = rows.result()
    np.testing.assert_array_equal(result, np.arange(10.0).reshape(5, 2))
    assert not any(np.shares_memory(result, part) for part in parts)
    one = _batches.Rows(3)
    one.add(parts[0])
    assert one.result() is parts[0]  # the whole in one piece: no copy at all


def test_rows_of_an_unknown_count_are_joined_in_order():
    rows = _batches.Rows(None)
    for start in (0, 1, 4):
        rows.add(np.arange(start, {0: 1, 1: 4, 4: 9}[start], dtype=np.int64))
    result = rows.result()
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, np.arange(9))


def open_size_model() -> keras.Model:
    """A model that takes images of any size: Input((None, None, 1))."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = keras.layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_an_open_input_size_is_taken_from_the_images():
    model = open_size_model()
    # The input 28x28x1 and c1's 28x28x4 from the images' size; the pooled 4 and the 10 known.
    assert _batches._values_per_image(model, (28, 28, 1)) == 784 + 3136 + 4 + 10
    assert _batches._values_per_image(model, (160, 160, 1)) == 25600 + 102400 + 4 + 10
    assert _batches.chunk_size(model, (160, 160, 1)) == 64 * 2**20 // (4 * 128014) == 131


def test_a_batch_size_lowers_the_policy_and_never_raises_it(monkeypatch):
    model = cnnviz.lenet5()
    monkeypatch.setattr(_batches, "MAX_IMAGES", 3)
    x = np.zeros((10, 28, 28, 1), np.uint8)
    sizes = [len(piece) for piece, _ in _batches.source(model, x, chunk=1024)]
    assert sizes == [3, 3, 3, 1]
    sizes = [len(piece) for piece, _ in _batches.source(model, x, chunk=2)]
    assert sizes == [2, 2, 2, 2, 2]


def test_one_image_in_a_stream_is_refused_where_the_size_is_open():
    model = open_size_model()
    x = np.zeros((6, 28, 28, 1), np.uint8)
    for stream in (list(x), [image[..., 0] for image in x]):
        with pytest.raises(ValueError, match=r"batch 0 of images .* one image, not a batch"):
            cnnviz.predict(model, stream)
    assert cnnviz.predict(model, [x[:4], x[4:]]).shape == (6, 10)


def test_receptive_fields_of_an_open_size_model_are_refused_by_name():
    with pytest.raises(ValueError, match=r"input size is fixed; model .* \(None, None, 1\)"):
        cnnviz.top_patches(open_size_model(), np.zeros((3, 28, 28, 1), np.uint8), "c1", k=1)
