"""What each channel of a layer learned: its kernel, what it sees, what excites it, what it serves.

A feature map shows what one channel does to one image; these functions say
what a channel is for. :func:`kernels` returns a convolution's filters;
:func:`receptive_field` and :func:`receptive_box` say which input pixels a unit
of a layer sees, computed from the layer stack; :func:`top_patches`,
:func:`class_mean_activations` and :func:`channel_ablation` go over a data set
(arrays, or a stream of batches such as a ``tf.data.Dataset``, in constant
memory); :func:`maximize_activation` makes the image that excites a channel
most.

``layer`` is a layer name (the layers of nested models included, as for
:func:`~cnnviz.grad_cam`) or an index into ``model.layers`` (as for
:func:`~cnnviz.layer_outputs`). Models are any built Keras image model with one
input: functional, Sequential or nested, any number of channels. They are
traced once into one flat graph (cnnviz._graph, shared with attribution), so the part
of a model up to a layer, and the part after it, are models of their own.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from . import _checks, _graph

__all__ = [
    "channel_ablation",
    "class_mean_activations",
    "kernels",
    "maximize_activation",
    "receptive_box",
    "receptive_field",
    "top_patches",
]

# Images per forward pass when arrays are given (a stream brings its own batches).
_BATCH = 512
# Rows of the layer's output per call of the rest of the model in channel_ablation.
_ABLATION_ROWS = 8192

# Layers whose every output pixel depends on the same input pixel only.
_ELEMENTWISE = (
    keras.layers.InputLayer,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.Rescaling,
    keras.layers.Normalization,
    keras.layers.Identity,
    keras.layers.ActivityRegularization,
)
# Layers that slide a window: their config has the window, strides, padding (and dilation).
_WINDOWED = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)


# --- the layer, and the model before and after it ---------------------------------------------


@dataclass
class _Parts:
    name: str
    layer: keras.layers.Layer
    feature: object  # the layer's output in the flat graph
    head: keras.Model  # the input -> the layer's output
    tail: keras.Model | None = None  # the layer's output -> the model's output, built when needed
    ascent: object = None  # maximize_activation's compiled step, built when needed


_PARTS: weakref.WeakKeyDictionary[keras.Model, dict[str, _Parts]] = weakref.WeakKeyDictionary()


def _parts(model: keras.Model, layer: object) -> _Parts:
    """Return the layer and the sub-model up to it, built once per model and layer."""
    name = _graph.layer_name(model, layer)
    per_model = _PARTS.setdefault(model, {})
    if name not in per_model:
        x, _, trace = _graph.trace(model)
        found, _, feature = _graph.find(trace, name)
        if not hasattr(feature, "shape"):
            raise ValueError(f"layer {name!r} has several outputs; give a layer with one")
        head = keras.Model(x, feature, name=f"{model.name}_to_{name}")
        per_model[name] = _Parts(name, found, feature, head)
    return per_model[name]


def _tail(model: keras.Model, parts: _Parts) -> keras.Model:
    """Return the model from the layer's output to the model's output, built once."""
    if parts.tail is None:
        _, output, _ = _graph.trace(model)
        try:
            parts.tail = keras.Model(parts.feature, output, name=f"{model.name}_after_{parts.name}")
        except ValueError as error:
            raise ValueError(
                f"the output of model {model.name!r} does not depend on layer {parts.name!r}'s "
                "output alone (a connection skips the layer, or the layer is not on the way to "
                f"the output), so the model cannot be split there: {error}"
            ) from error
    return parts.tail


def _channel_count(parts: _Parts, *, spatial: bool) -> int:
    shape = tuple(parts.feature.shape)
    if spatial and len(shape) != 4:
        raise ValueError(
            f"layer {parts.name!r} must give feature maps (batch, height, width, channels); "
            f"it gives {shape}"
        )
    if len(shape) < 2:
        raise ValueError(f"layer {parts.name!r} gives {shape}, which has no channel axis")
    return int(shape[-1])


def _run(head: keras.Model, x: np.ndarray) -> np.ndarray:
    # A direct (eager) call, as in layer_outputs: no tf.function to trace per sub-model.
    return keras.ops.convert_to_numpy(head(x, training=False))


# --- data: arrays or a stream of batches -------------------------------------------------------


def _is_array(value: object) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype")
    )


def _batches(
    model: keras.Model,
    images: object,
    labels: object,
    *,
    need_labels: bool,
    num_classes: int | None = None,
    batch_size: int = _BATCH,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield (float32 images, int64 labels or None) batch by batch, from arrays or a stream.

    Arrays are cut into slices of `batch_size`, each converted on its own, so
    memory stays that of one batch beyond the arrays themselves. A stream is
    any iterable (a ``tf.data.Dataset`` included) of batches of images, or of
    ``(images, labels)`` pairs; it is read once, one batch at a time.
    """
    if _is_array(images):
        x = np.asarray(images)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"images is empty (shape {x.shape}): give at least one image")
        y = None
        if need_labels:
            if labels is None:
                raise ValueError(
                    "labels must be given with images as arrays (integer labels (N,) or "
                    "one-hot rows); only a stream of (images, labels) batches brings its own"
                )
            y = _checks.class_labels(labels, "labels", num_classes)
            if len(y) != len(x):
                raise ValueError(
                    f"images and labels must have the same length; got {len(x)} images and "
                    f"{len(y)} labels"
                )
        for start in range(0, len(x), batch_size):
            part = slice(start, start + batch_size)
            name = f"images[{start}:{start + len(x[part])}]"
            batch = _checks.image_batch(x[part], model, name, one_image=False)
            yield batch, None if y is None else y[part]
        return
    if labels is not None:
        raise ValueError(
            "labels must be None when images is a stream of batches: give (images, labels) "
            f"pairs in the stream instead; got labels of type {type(labels).__name__}"
        )
    if isinstance(images, (str, bytes, dict)) or not isinstance(images, Iterable):
        raise TypeError(
            "images must be an array of images (N, H, W, C) or an iterable of batches "
            f"(a tf.data.Dataset, a generator); got {type(images).__name__}"
        )
    seen = 0
    for number, element in enumerate(images):
        if isinstance(element, (tuple, list)) and len(element) in (1, 2):
            batch, y = element[0], (element[1] if len(element) == 2 else None)
        elif _is_array(element):
            batch, y = element, None
        else:
            raise TypeError(
                f"batch {number} of images must be an array of images or a pair "
                f"(images, labels); got {type(element).__name__}"
                + (f" of length {len(element)}" if isinstance(element, (tuple, list)) else "")
            )
        x = _checks.image_batch(
            np.asarray(batch), model, f"batch {number} of images", one_image=False
        )
        if need_labels:
            if y is None:
                raise ValueError(
                    f"batch {number} of images has no labels: this function needs a stream of "
                    "(images, labels) pairs"
                )
            y = _checks.class_labels(np.asarray(y), f"the labels of batch {number}", num_classes)
            if len(y) != len(x):
                raise ValueError(
                    f"batch {number} must hold as many labels as images; got {len(x)} images "
                    f"and {len(y)} labels"
                )
        seen += len(x)
        yield x, (y if need_labels else None)
    if not seen:
        raise ValueError("images gave no batches: the stream is empty")


# --- kernels and receptive fields --------------------------------------------------------------


def kernels(model: keras.Model, layer: str | int) -> np.ndarray:
    """Return the kernel of a ``Conv2D`` layer: its filters, (kh, kw, in_channels, filters).

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested.
    layer : str or int
        The layer's name (nested models' layers included) or its index into
        ``model.layers``, as for :func:`~cnnviz.layer_outputs`.

    Returns
    -------
    numpy.ndarray
        float32 (kh, kw, in_channels, filters): ``[..., c, f]`` is the part
        of filter ``f`` that reads input channel ``c``. A copy: changing it
        does not change the model.

    Raises
    ------
    TypeError
        If `model` is not a Keras model or `layer` neither a name nor an index.
    ValueError
        If the layer is unknown or not a ``Conv2D`` layer.

    Examples
    --------
    >>> from cnnviz import kernels, lenet5
    >>> kernels(lenet5(), "conv2").shape
    (5, 5, 6, 16)
    """
    model = _checks.image_model(model)
    name = _graph.layer_name(model, layer)
    found = _graph.find(_graph.trace(model)[2], name)[0]
    if not isinstance(found, keras.layers.Conv2D):
        # A wrong layer of a right model: a ValueError, as for an unknown name.
        raise ValueError(  # noqa: TRY004
            f"layer {name!r} is a {type(found).__name__}, not a Conv2D layer, so it has no "
            "kernel of shape (kh, kw, in_channels, filters)"
        )
    return np.array(keras.ops.convert_to_numpy(found.kernel), dtype=np.float32)


@dataclass(frozen=True)
class _Field:
    """Unit (i, j) of a layer sees input rows ``start[0] + i * jump[0]`` + range(size[0]), etc."""

    start: tuple[int, int]
    jump: tuple[int, int]
    size: tuple[int, int]
    output: tuple[int, int]  # the layer's output height and width
    image: tuple[int, int]  # the input's height and width


def _pair(value: object) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else tuple(int(v) for v in value)


def _window(layer: keras.layers.Layer, size_in: tuple[int, int]) -> tuple[list, list, list]:
    """Return the window (dilated), stride and padding before the input, per axis."""
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last":
        raise ValueError(
            f"layer {layer.name!r} has data_format={config['data_format']!r}; receptive fields "
            "are computed for channels_last layers only"
        )
    window = _pair(config["pool_size"] if "pool_size" in config else config["kernel_size"])
    strides = _pair(config["strides"] if config.get("strides") is not None else window)
    dilation = _pair(config.get("dilation_rate", 1))
    span = [d * (k - 1) + 1 for k, d in zip(window, dilation, strict=True)]
    before = [0, 0]
    if config["padding"] == "same":
        # TensorFlow's rule: the total padding that gives ceil(n / s) outputs, the smaller
        # half before.
        for axis in range(2):
            n, s = size_in[axis], strides[axis]
            total = max((-(-n // s) - 1) * s + span[axis] - n, 0)
            before[axis] = total // 2
    return span, list(strides), before


def _field(model: keras.Model, parts: _Parts) -> _Field:
    """Compute the receptive field of `parts`' layer from the chain of layers before it."""
    _channel_count(parts, spatial=True)
    x, _, trace = _graph.trace(model)
    producers: dict[int, tuple[keras.layers.Layer, object]] = {}
    for layer, inputs, output in trace.calls.values():
        # The first producer wins: a nested model's layers are recorded before the model.
        producers.setdefault(id(output), (layer, inputs))
    chain = []
    tensor = parts.feature
    while tensor is not x:
        if id(tensor) not in producers:
            raise ValueError(f"layer {parts.name!r} cannot be traced back to the model's input")
        layer, tensor = producers[id(tensor)]
        if isinstance(tensor, (list, tuple, dict)):
            raise ValueError(  # noqa: TRY004 (the model's structure, not an argument's type)
                f"layer {layer.name!r} ({type(layer).__name__}) on the way to {parts.name!r} "
                "takes several inputs; receptive fields are computed for chains of layers only"
            )
        chain.append((layer, tensor))
    image = tuple(int(n) for n in x.shape[1:3])
    start, jump, size = [0, 0], [1, 1], [1, 1]
    for layer, tensor in reversed(chain):
        if isinstance(layer, _ELEMENTWISE):
            continue
        if isinstance(layer, _WINDOWED):
            span, strides, before = _window(layer, tuple(int(n) for n in tensor.shape[1:3]))
            for a in range(2):
                start[a] -= before[a] * jump[a]
                size[a] += (span[a] - 1) * jump[a]
                jump[a] *= strides[a]
        elif isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
            config = layer.get_config()
            sign = 1 if isinstance(layer, keras.layers.ZeroPadding2D) else -1
            edges = config["padding"] if sign == 1 else config["cropping"]
            for a in range(2):
                start[a] -= sign * int(edges[a][0]) * jump[a]
        else:
            raise ValueError(  # noqa: TRY004 (the model's structure, not an argument's type)
                f"layer {layer.name!r} is a {type(layer).__name__}, which cnnviz cannot follow "
                f"back to the input pixels on the way to {parts.name!r} (it knows convolutions, "
                "poolings, padding, cropping and element-wise layers)"
            )
    output = tuple(int(n) for n in parts.feature.shape[1:3])
    return _Field(tuple(start), tuple(jump), tuple(size), output, image)


def _boxes(field: _Field, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return (..., 4) int64 boxes (top, left, bottom, right), clipped to the image."""
    top = field.start[0] + rows * field.jump[0]
    left = field.start[1] + cols * field.jump[1]
    box = np.stack([top, left, top + field.size[0], left + field.size[1]], axis=-1)
    limits = np.array([field.image[0], field.image[1]] * 2)
    return np.clip(box, 0, limits).astype(np.int64)


def receptive_field(
    model: keras.Model, layer: str | int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the receptive field of a layer's units: its size and its jump, in input pixels.

    Computed from the chain of layers between the input and `layer`:
    convolutions (``Conv2D``, ``DepthwiseConv2D``, ``SeparableConv2D``) and
    poolings (``MaxPooling2D``, ``AveragePooling2D``) of any window, stride,
    dilation and padding, ``ZeroPadding2D`` and ``Cropping2D``, with
    element-wise layers (activations, batch normalization, dropout, rescaling)
    passed through and nested models looked into. A window of ``k`` with
    stride ``s`` grows the field by ``(k - 1)`` times the jump so far and
    multiplies the jump by ``s`` (CS231n's notes).

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested.
    layer : str or int
        The layer's name (nested models' layers included) or its index into
        ``model.layers``; its output must be feature maps
        (batch, height, width, channels).

    Returns
    -------
    size : tuple of int
        (h, w): how many input rows and columns one unit sees, before any
        clipping at the image's border (see :func:`receptive_box`).
    jump : tuple of int
        (h, w): how many input pixels apart neighbouring units' fields start.

    Raises
    ------
    TypeError
        If `model` is not a Keras model or `layer` neither a name nor an index.
    ValueError
        If the layer is unknown or does not give feature maps (a unit of
        ``Flatten``, ``Dense`` and later layers sees the whole image), or a
        layer before it is one that cnnviz cannot follow (an upsampling, a
        transposed convolution, a layer with several inputs).

    Examples
    --------
    >>> from cnnviz import lenet5, receptive_field
    >>> model = lenet5("valid")
    >>> [receptive_field(model, name) for name in ("conv1", "max_pool1", "conv2", "max_pool2")]
    [((5, 5), (1, 1)), ((6, 6), (2, 2)), ((14, 14), (2, 2)), ((16, 16), (4, 4))]
    """
    model = _checks.image_model(model)
    field = _field(model, _parts(model, layer))
    return field.size, field.jump


def receptive_box(
    model: keras.Model, layer: str | int, row: int, col: int
) -> tuple[int, int, int, int]:
    """Return the input pixels that unit (`row`, `col`) of `layer` sees, as a box.

    With ``same`` padding the fields of border units hang over the image's
    edge, into the zeros of the padding; the box is clipped to the image, so
    it is smaller there than :func:`receptive_field`'s size. Padding follows
    TensorFlow: of an odd total, the smaller half goes before.

    Parameters
    ----------
    model, layer
        As for :func:`receptive_field`.
    row, col : int
        The unit's position in the layer's output, from 0.

    Returns
    -------
    tuple of int
        (top, left, bottom, right), bottom and right exclusive, so that
        ``image[top:bottom, left:right]`` is what the unit sees.

    Raises
    ------
    TypeError, ValueError
        As for :func:`receptive_field`; ValueError also if `row` or `col`
        is not an integer within the layer's output.

    Examples
    --------
    >>> from cnnviz import lenet5, receptive_box
    >>> receptive_box(lenet5("valid"), "max_pool2", 1, 2)
    (4, 8, 20, 24)
    >>> receptive_box(lenet5("same"), "max_pool2", 0, 0)  # hangs over the edge by 6 pixels
    (0, 0, 10, 10)
    """
    model = _checks.image_model(model)
    parts = _parts(model, layer)
    field = _field(model, parts)
    what = f"the output of layer {parts.name!r} is {field.output[0]}x{field.output[1]}"
    row = _checks.index(row, field.output[0], "row", what)
    col = _checks.index(col, field.output[1], "col", what)
    return tuple(int(v) for v in _boxes(field, np.array(row), np.array(col)))


# --- over a data set ---------------------------------------------------------------------------


def top_patches(
    model: keras.Model,
    images: object,
    layer: str | int,
    *,
    channels: object = None,
    k: int = 9,
    batch_size: int = 512,
) -> dict:
    """Return each channel's `k` strongest activations over the data, at most one per image.

    For every image and channel, the position where the channel is largest
    (the first in row-major order on ties) is its candidate; the `k` largest
    candidates over the data are kept (the earlier image first on ties).
    One forward pass per batch serves every channel, and only the running
    top `k` is kept, so memory does not grow with the number of images.

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested, any number of channels.
    images : array_like or iterable
        Images (N, H, W, C) (or (N, H, W) for one channel), ``uint8``
        (scaled to [0, 1] unless the model scales its own input) or float;
        or an iterable of batches of images or of ``(images, labels)`` pairs
        (a ``tf.data.Dataset``, a generator), read once. Labels are ignored.
    layer : str or int
        A layer whose output is feature maps, by name (nested models'
        layers included) or by index into ``model.layers``.
    channels : int or sequence of int, optional
        The channels to report, by default all, in this order.
    k : int, default 9
        How many images per channel; at most the number of images.
    batch_size : int, default 512
        Images per forward pass when `images` are arrays (a stream brings
        its own batches).

    Returns
    -------
    dict
        ``"layer"``: the layer's name; ``"channels"``: int64 (C,);
        ``"index"``: int64 (C, k), the images' indices in the data (the
        order of the stream); ``"row"``, ``"col"``: int64 (C, k), the
        position in the layer's output; ``"value"``: float32 (C, k), the
        activation, strongest first; ``"box"``: int64 (C, k, 4), the
        receptive box of each position, as :func:`receptive_box` gives it.

    Raises
    ------
    TypeError
        If `model` is not a Keras model, `images` neither arrays nor an
        iterable of batches, or `channels` not integers.
    ValueError
        If the layer does not give feature maps or its receptive field
        cannot be computed, a channel is out of range, `k` or `batch_size`
        is not a positive integer, `k` exceeds the number of images, or
        the images do not fit the model.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, top_patches
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
    >>> result = top_patches(lenet5(), x, "conv2", channels=[0, 5], k=3)
    >>> result["index"].shape, result["box"].shape
    ((2, 3), (2, 3, 4))
    >>> bool((np.diff(result["value"], axis=1) <= 0).all())  # strongest first
    True
    """
    model = _checks.image_model(model)
    parts = _parts(model, layer)
    field = _field(model, parts)
    chosen = _checks.indices(
        channels, _channel_count(parts, spatial=True), "channels", f"of layer {parts.name!r}"
    )
    k = _checks.positive_int(k, "k")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    if _is_array(images) and np.ndim(images) > 0 and k > len(images):
        raise ValueError(f"k must be at most the number of images, {len(images)}; got {k}")
    width = field.output[1]
    c = len(chosen)
    value = np.empty((c, 0), np.float32)
    index = np.empty((c, 0), np.int64)
    where = np.empty((c, 0), np.int64)  # the flat position, row * width + col
    seen = 0
    for x, _ in _batches(model, images, None, need_labels=False, batch_size=batch_size):
        out = _run(parts.head, x)[..., chosen]
        flat = out.reshape(len(x), -1, c)
        position = flat.argmax(axis=1)  # (B, C): the first maximum of each image and channel
        best = np.take_along_axis(flat, position[:, np.newaxis, :], axis=1)[:, 0]
        value = np.concatenate([value, best.T.astype(np.float32)], axis=1)
        index = np.concatenate([index, np.broadcast_to(seen + np.arange(len(x)), (c, len(x)))], 1)
        where = np.concatenate([where, position.T.astype(np.int64)], axis=1)
        # Stable: on ties the earlier image (already kept, or earlier in the batch) stays first.
        order = np.argsort(-value, axis=1, kind="stable")[:, :k]
        value, index, where = (np.take_along_axis(a, order, axis=1) for a in (value, index, where))
        seen += len(x)
    if k > seen:
        raise ValueError(f"k must be at most the number of images, {seen}; got {k}")
    row, col = where // width, where % width
    return {
        "layer": parts.name,
        "channels": chosen,
        "index": index,
        "row": row,
        "col": col,
        "value": value,
        "box": _boxes(field, row, col),
    }


def class_mean_activations(
    model: keras.Model,
    images: object,
    labels: object,
    layer: str | int,
    *,
    num_classes: int | None = None,
) -> np.ndarray:
    """Return each channel's mean activation per class: over the class's images and positions.

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested, any number of channels.
    images : array_like or iterable
        Images (N, H, W, C), as for :func:`top_patches`; or an iterable of
        ``(images, labels)`` batches (a ``tf.data.Dataset``), read once in
        constant memory, and then `labels` must be None.
    labels : array_like or None
        Integer labels (N,) or one-hot rows (N, classes) (their largest
        entry's class) for array `images`; None for a stream.
    layer : str or int
        A layer by name (nested models' layers included) or index into
        ``model.layers``; feature maps (batch, height, width, channels) are
        averaged over positions, other outputs (batch, units) used as they are.
    num_classes : int, optional
        The number of classes. By default the width of the model's output
        when it is (batch, classes), else one more than the largest label.

    Returns
    -------
    numpy.ndarray
        float32 (num_classes, channels). A class without images has a row
        of NaN: its mean is undefined, and a NaN cannot be mistaken for a
        real mean of zero (a dead channel).

    Raises
    ------
    TypeError, ValueError
        As for :func:`top_patches`; ValueError also if labels are missing,
        of another length than the images, or outside ``range(num_classes)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import class_mean_activations, lenet5
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
    >>> means = class_mean_activations(lenet5(), x, np.arange(20) % 5, "relu1")
    >>> means.shape  # 10 classes (the model's output), 6 channels
    (10, 6)
    >>> bool(np.isnan(means[5:]).all())  # classes 5 to 9 have no images
    True
    """
    model = _checks.image_model(model)
    parts = _parts(model, layer)
    channels = _channel_count(parts, spatial=False)
    if num_classes is not None:
        num_classes = _checks.positive_int(num_classes, "num_classes")
    elif len(model.outputs) == 1 and len(model.outputs[0].shape) == 2:
        num_classes = int(model.outputs[0].shape[-1])
    sums = np.zeros((num_classes or 0, channels), np.float64)
    counts = np.zeros(num_classes or 0, np.int64)
    batches = _batches(model, images, labels, need_labels=True, num_classes=num_classes)
    for x, y in batches:
        out = _run(parts.head, x)
        means = out.reshape(len(x), -1, channels).mean(axis=1, dtype=np.float64)
        if y.size and y.max() >= len(counts):  # num_classes from the labels: grow
            grow = int(y.max()) + 1 - len(counts)
            sums = np.concatenate([sums, np.zeros((grow, channels))])
            counts = np.concatenate([counts, np.zeros(grow, np.int64)])
        np.add.at(sums, y, means)
        counts += np.bincount(y, minlength=len(counts))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = sums / counts[:, np.newaxis]
    result[counts == 0] = np.nan
    return result.astype(np.float32)


def channel_ablation(
    model: keras.Model,
    images: object,
    labels: object,
    layer: str | int,
    *,
    channels: object = None,
) -> dict:
    """Return the accuracy with each channel of `layer` switched off (its output set to zero).

    The model is split at the layer: the part up to it runs once per batch,
    and the part after it runs on copies of the layer's output, one per
    ablated channel with that channel zeroed, all in one call (in chunks).
    The given model is never changed. An ablated channel's output is zero
    at every position and for every image; that of a ``Conv2D`` followed by
    a ReLU is the same as zeroing the ReLU's.

    Parameters
    ----------
    model : keras.Model
        A built Keras image classifier with one image input and one output
        (batch, classes): functional, Sequential or nested. The output after
        the layer must depend on the layer's output only (no connection that
        skips it).
    images, labels
        As for :func:`class_mean_activations`.
    layer : str or int
        A layer by name (nested models' layers included) or index into
        ``model.layers``; its last axis is the channels.
    channels : int or sequence of int, optional
        The channels to ablate, one at a time; by default all.

    Returns
    -------
    dict
        ``"layer"``: the layer's name; ``"channels"``: int64 (C,);
        ``"accuracy"``: float64 (C,), the fraction of images whose
        predicted class (the largest output) is their label with that
        channel off; ``"intact_accuracy"``: float, the same with no channel
        off.

    Raises
    ------
    TypeError, ValueError
        As for :func:`class_mean_activations`; ValueError also if the model
        has not one (batch, classes) output or cannot be split at the layer,
        or a channel is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import channel_ablation, lenet5
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
    >>> result = channel_ablation(lenet5(), x, np.arange(20) % 10, "conv1")
    >>> result["channels"], result["accuracy"].shape
    (array([0, 1, 2, 3, 4, 5]), (6,))
    """
    model = _checks.class_output(model)
    parts = _parts(model, layer)
    count = _channel_count(parts, spatial=False)
    chosen = _checks.indices(channels, count, "channels", f"of layer {parts.name!r}")
    tail = _tail(model, parts)
    classes = int(model.outputs[0].shape[-1])
    correct = np.zeros(len(chosen), np.int64)
    intact = total = 0

    def predicted(features: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(tail(features, training=False)).argmax(axis=-1)

    for x, y in _batches(model, images, labels, need_labels=True, num_classes=classes):
        features = _run(parts.head, x)
        intact += int((predicted(features) == y).sum())
        total += len(x)
        per_call = max(1, _ABLATION_ROWS // len(x))
        for first in range(0, len(chosen), per_call):
            group = chosen[first : first + per_call]
            copies = np.repeat(features[np.newaxis], len(group), axis=0)
            for copy, channel in zip(copies, group, strict=True):
                copy[..., channel] = 0
            guesses = predicted(copies.reshape(-1, *features.shape[1:]))
            correct[first : first + len(group)] += (guesses.reshape(len(group), -1) == y).sum(1)
    return {
        "layer": parts.name,
        "channels": chosen,
        "accuracy": correct / total,
        "intact_accuracy": intact / total,
    }


# --- activation maximization -------------------------------------------------------------------


def _gaussian(sigma: float) -> np.ndarray:
    """Return a normalised 1-D Gaussian of standard deviation `sigma` (at least 3 taps)."""
    radius = max(1, int(np.ceil(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-6)) ** 2)
    return (taps / taps.sum()).astype(np.float32)


def _blurred(z, taps):
    """Blur images (B, H, W, C) over H and W with the separable kernel `taps`, edges repeated."""
    radius = (taps.shape[0] - 1) // 2
    channels = z.shape[-1]
    x = tf.pad(z, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "SYMMETRIC")
    column = tf.tile(tf.reshape(taps, (-1, 1, 1, 1)), (1, 1, channels, 1))
    row = tf.reshape(column, (1, -1, channels, 1))
    x = tf.nn.depthwise_conv2d(x, column, (1, 1, 1, 1), "VALID")
    return tf.nn.depthwise_conv2d(x, row, (1, 1, 1, 1), "VALID")


def _ascent(parts: _Parts):
    """Return the compiled objective and ascent step (Adam by hand) of the layer, built once.

    Both work on a batch of images, each with its own channel (one-hot rows) and its
    own weights over the layer's positions (the mean, or one unit); the images do not
    interact, so a batch gives each image what it would get alone. The settings are
    tensors, so one trace serves every channel and setting (a new blur width or number
    of channels traces once more).
    """
    if parts.ascent is None:
        head = parts.head

        def objective(unit, low, high, shift, chosen, where, l2, tv):
            image = low + (high - low) * tf.roll(unit, shift, axis=(1, 2))
            out = head(image, training=False)  # (B, ..., K)
            picked = tf.reduce_sum(out * chosen, axis=-1)  # (B, ...): each image's channel
            activation = tf.reduce_sum(tf.reshape(picked * where, (tf.shape(picked)[0], -1)), 1)
            axes = [1, 2, 3]
            smooth = tf.reduce_mean(tf.abs(unit[:, 1:] - unit[:, :-1]), axes) + tf.reduce_mean(
                tf.abs(unit[:, :, 1:] - unit[:, :, :-1]), axes
            )
            penalty = l2 * tf.reduce_mean(unit**2, axes) + tv * smooth
            return activation, tf.reduce_sum(penalty - activation)

        # Not reduce_retracing: the blur's taps need a known length, one trace per width.
        @tf.function
        def step(z, m, v, t, shift, chosen, where, low, high, rate, l2, tv, taps, blur):
            with tf.GradientTape() as tape:
                tape.watch(z)
                _, loss = objective(tf.sigmoid(z), low, high, shift, chosen, where, l2, tv)
            g = tape.gradient(loss, z)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            z = z - rate * (m / (1 - 0.9**t)) / (tf.sqrt(v / (1 - 0.999**t)) + 1e-7)
            z = tf.cond(blur, lambda: _blurred(z, taps), lambda: z)
            return z, m, v

        @tf.function
        def score(z, chosen, where, low, high):
            no_shift = tf.zeros(2, tf.int32)
            zero = tf.constant(0.0)
            return objective(tf.sigmoid(z), low, high, no_shift, chosen, where, zero, zero)[0]

        parts.ascent = (step, score)
    return parts.ascent


def _unit_weights(parts: _Parts, position: object) -> np.ndarray:
    """Weights over the layer's positions: the mean (None) or one unit (row, col)."""
    spatial = tuple(int(n) for n in parts.feature.shape[1:-1])
    if position is None:
        return np.full(spatial, 1 / max(int(np.prod(spatial)), 1), np.float32)
    if len(spatial) != 2:
        raise ValueError(
            f"position needs a layer with feature maps (batch, height, width, channels); "
            f"layer {parts.name!r} gives shape {tuple(parts.feature.shape)}"
        )
    if not isinstance(position, (tuple, list)) or len(position) != 2:
        raise ValueError(f"position must be None or a pair (row, col); got {position!r}")
    row = _checks.index(position[0], spatial[0], "position's row", f"of layer {parts.name!r}")
    col = _checks.index(position[1], spatial[1], "position's col", f"of layer {parts.name!r}")
    weights = np.zeros(spatial, np.float32)
    weights[row, col] = 1
    return weights


def maximize_activation(
    model: keras.Model,
    layer: str | int,
    channel: int | Sequence[int],
    *,
    steps: int = 256,
    seed: int = 0,
    learning_rate: float = 0.05,
    jitter: int = 1,
    blur: float = 0.5,
    l2: float = 0.02,
    tv: float = 0.05,
    position: tuple[int, int] | None = None,
) -> np.ndarray:
    """Return an image that excites a channel: gradient ascent on its activation.

    The image is ``low + (high - low) * sigmoid(z)``, so it stays in the
    model's input range ([0, 1], or [0, 255] for a model that scales its own
    input, the rule of :func:`~cnnviz.layer_outputs`); ``z`` starts as the
    best of 16 noise images of several grains and brightnesses. Each of
    `steps` Adam steps (``tf.GradientTape``) raises the channel's mean
    activation over the layer's positions (or, with `position`, the
    activation of one unit), minus penalties that keep the image readable at
    28x28: an L2 penalty that pulls pixels to the low end (black,
    Fashion-MNIST's background), a total variation penalty against pixel
    noise, a random shift of up to `jitter` pixels before each step (the
    image must work wherever it lies), and a Gaussian blur of ``z`` after
    each step (Yosinski et al., 2015; Olah et al., 2017). The same seed gives
    the same image, whether the channel is asked for alone or in a list. A
    channel that no start excites (a dead channel, or one that needs more
    than noise) has no gradient and gives back its start: check the
    activation, as below.

    Several channels are one batch: one ascent for all of them, each image
    its own channel's, at about the cost of one.

    What is maximised matters. For a convolution with no non-linearity
    before it (a first layer), the mean over all positions is linear in the
    image, so its best image is flat: white where the kernel's weights sum
    to more than zero, black otherwise. One unit (`position`, for example
    the centre) gives the kernel's own pattern inside the unit's receptive
    field (:func:`receptive_box`); outside it the image has no effect and the
    L2 penalty keeps it black.

    The penalties are relative to the image in [0, 1] and the objective is
    in the layer's units, so a layer with small activations may want smaller
    `l2` and `tv`. To see whether the image is stronger than real data,
    compare its activation with that of the test images, for example
    ``layer_outputs(model, x_test, [name])[name][..., channel].mean(axis=(1,
    2)).max()`` against the same for ``image[np.newaxis]`` (the means over
    positions, which is what is maximised without `position`;
    :func:`top_patches` reports the maximum over positions instead).

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested, any number of channels.
    layer : str or int
        A layer by name (nested models' layers included) or index into
        ``model.layers``; its last axis is the channels.
    channel : int or sequence of int
        The channel to excite, or several (one image each).
    steps : int, default 256
        Gradient steps.
    seed : int, default 0
        Seed of the starting noise (drawn per channel) and of the shifts.
    learning_rate : float, default 0.05
        Adam's step size on ``z``.
    jitter : int, default 1
        Largest random shift in pixels, each step; 0 for none.
    blur : float, default 0.5
        Standard deviation in pixels of the blur after each step; 0 for none.
    l2 : float, default 0.02
        Weight of the L2 penalty; 0 for none.
    tv : float, default 0.05
        Weight of the total variation penalty; 0 for none.
    position : tuple of int, optional
        ``(row, col)`` of one unit of the layer's feature maps to maximise
        instead of the channel's mean over all positions.

    Returns
    -------
    numpy.ndarray
        float32 (H, W, C), the model's input shape, in its input range; for
        a sequence of channels, (len(channel), H, W, C) in their order.

    Raises
    ------
    TypeError, ValueError
        If `model` is not a Keras model, the layer is unknown, a channel
        is out of range or the sequence is empty, `steps` is not a positive
        integer, `seed` or `jitter` not a non-negative integer,
        `learning_rate` not above 0, `blur`, `l2` or `tv` not finite
        numbers of at least 0, or `position` not a unit of the layer.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, maximize_activation
    >>> image = maximize_activation(lenet5(), "conv1", 2, steps=4)
    >>> image.shape, image.dtype, bool(0 <= image.min() and image.max() <= 1)
    ((28, 28, 1), dtype('float32'), True)
    >>> maximize_activation(lenet5(), "conv2", [0, 5, 9], steps=4, position=(4, 4)).shape
    (3, 28, 28, 1)
    """
    model = _checks.image_model(model)
    parts = _parts(model, layer)
    count = _channel_count(parts, spatial=False)
    chosen = _checks.indices(channel, count, "channel", f"of layer {parts.name!r}")
    steps = _checks.positive_int(steps, "steps")
    seed = _checks.non_negative_int(seed, "seed")
    learning_rate = _checks.positive_number(learning_rate, "learning_rate")
    jitter = _checks.non_negative_int(jitter, "jitter")
    blur = _checks.non_negative_number(blur, "blur")
    l2 = _checks.non_negative_number(l2, "l2")
    tv = _checks.non_negative_number(tv, "tv")
    one = np.ndim(channel) == 0  # one channel: one image, not a batch of one
    where = tf.constant(_unit_weights(parts, position))
    low, high = _checks.input_range(model)
    shape = tuple(int(n) for n in model.inputs[0].shape[1:])
    step, score = _ascent(parts)
    onehot = np.eye(count, dtype=np.float32)[chosen]
    rank = len(parts.feature.shape)
    rows = onehot.reshape(len(chosen), *([1] * (rank - 2)), count)
    bounds = [tf.constant(low), tf.constant(high)]
    # The start: the best of 16 noise images, from fine to coarse grain and dark to bright,
    # so that a channel which flat noise leaves at zero (after a ReLU: no gradient) has
    # somewhere to start from. Each channel draws its own, so a channel's image does not
    # depend on which channels are asked for with it.
    grains = [np.ones(1, np.float32)] + [_gaussian(sigma) for sigma in (1.0, 2.0, 3.0)]
    candidates = np.empty((len(chosen), 16, *shape), np.float32)
    for i, c in enumerate(chosen):
        rng = np.random.default_rng([seed, int(c)])
        noise = rng.normal(0.0, 1.0, (16, *shape)).astype(np.float32)
        for g, taps in enumerate(grains):
            group = noise[4 * g : 4 * g + 4]
            if g:
                group = _blurred(group, taps).numpy()
                group /= group.std(axis=(1, 2, 3), keepdims=True) + 1e-6
            candidates[i, 4 * g : 4 * g + 4] = group + np.array([-1.5, -0.5, 0.5, 1.5]).reshape(
                4, *([1] * len(shape))
            )
    flat = candidates.reshape(-1, *shape)
    scores = score(
        tf.constant(flat), tf.constant(np.repeat(rows, 16, axis=0)), where, *bounds
    ).numpy()
    best = scores.reshape(len(chosen), 16).argmax(axis=1)
    z = tf.constant(candidates[np.arange(len(chosen)), best])
    m = v = tf.zeros_like(z)
    taps = tf.constant(_gaussian(blur) if blur > 0 else np.ones(3, np.float32) / 3)
    fixed = [tf.constant(rows), where, *bounds]
    rates = [tf.constant(learning_rate), tf.constant(l2), tf.constant(tv)]
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-jitter, jitter + 1, (steps, 2)).astype(np.int32)
    for t in range(1, steps + 1):
        z, m, v = step(
            z,
            m,
            v,
            tf.constant(float(t)),
            tf.constant(shifts[t - 1]),
            *fixed,
            *rates,
            taps,
            tf.constant(blur > 0),
        )
    unit = 1 / (1 + np.exp(-z.numpy().astype(np.float64)))
    images = (low + (high - low) * unit).astype(np.float32)
    return images[0] if one else images
