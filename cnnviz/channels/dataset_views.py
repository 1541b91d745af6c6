"""Channels seen over a data set: their strongest patches, their mean per class, their ablation.

Each function goes over arrays or a stream of batches (a ``tf.data.Dataset``,
an iterable; ``steps=`` bounds it) once, through ``cnnviz._batches``, one
forward pass per chunk for every channel, in memory that does not grow with
the number of images.
"""

from __future__ import annotations

import keras
import numpy as np
from numpy.typing import ArrayLike

from .. import _batches, _checks, _graph
from .._geometry import _boxes, _field

__all__ = ["channel_ablation", "class_mean_activations", "top_patches"]

#: What :func:`channel_ablation` may put in an ablated channel's place, by name; its result
#: says ``"given"`` for values given as numbers.
FILLS = ("zero", "mean")


def top_patches(
    model: keras.Model,
    images: object,
    layer: str | int,
    *,
    channels: object = None,
    k: int = 9,
    batch_size: int = 512,
    steps: int | None = None,
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
        (scaled to [0, 1] unless the model takes [0, 255], the rule of
        :func:`~cnnviz.layer_outputs`' `scale`) or float;
        or a stream: a ``tf.data.Dataset`` or any iterable of batches of
        images or of ``(images, labels)`` pairs (a list, a generator), read
        once, one batch at a time. Labels are ignored.
    layer : str or int
        A layer whose output is feature maps, by name (nested models'
        layers included) or by index into ``model.layers``.
    channels : int or sequence of int, optional
        The channels to report, by default all, in this order.
    k : int, default 9
        How many images per channel; at most the number of images.
    batch_size : int, default 512
        At most this many images per forward pass (arrays are cut into
        passes, and so are larger batches of a stream); it bounds memory,
        not the result.
    steps : int, optional
        The number of batches to read from a stream (Keras' convention); by
        default all of them. Needed for a stream that never ends (a dataset
        after ``dataset.repeat()`` is refused without it); refused with an
        array (slice it instead).

    Returns
    -------
    dict
        ``"layer"``: the layer's name; ``"channels"``: int64 (C,);
        ``"index"``: int64 (C, k), the images' indices in the data (the
        order of the stream); ``"row"``, ``"col"``: int64 (C, k), the
        position in the layer's output; ``"value"``: float32 (C, k), the
        activation, strongest first; ``"box"``: int64 (C, k, 4), the
        receptive box of each position, as :func:`receptive_box` gives it
        (for a model that takes images of any size, for its image's size).

    Raises
    ------
    TypeError
        If `model` is not a Keras model, `images` neither arrays nor an
        iterable of batches, or `channels` not integers.
    ValueError
        If the layer is unknown or the model's input layer (it has
        nothing to explain), does not give feature maps or its receptive
        boxes cannot be computed (the message says why), a channel is out of range, `k`, `batch_size` or
        `steps` is not a positive integer, `k` exceeds the number of images,
        the images do not fit the model (a stream's batch: which one), the
        stream is empty or never ends without `steps`, or the images are
        ``uint8`` and cnnviz cannot tell the model's input scale (see
        :func:`~cnnviz.layer_outputs`' `scale`).

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
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    # The boxes of a model of any input size follow each batch's images' size.
    fields = {None: _field(model, parts)}
    chosen = _checks.indices(
        channels, _graph.channel_count(parts, spatial=True), "channels", f"of layer {parts.name!r}"
    )
    k = _checks.positive_int(k, "k")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    batches = _batches.source(model, images, chunk=batch_size, steps=steps)
    if batches.count is not None and k > batches.count:
        raise ValueError(f"k must be at most the number of images, {batches.count}; got {k}")
    c = len(chosen)
    value = np.empty((c, 0), np.float32)
    index = np.empty((c, 0), np.int64)
    row = np.empty((c, 0), np.int64)
    col = np.empty((c, 0), np.int64)
    box = np.empty((c, 0, 4), np.int64)
    seen = 0
    for x, _ in batches:
        out = _graph.run(parts.head, x)[..., chosen]
        flat = out.reshape(len(x), -1, c)
        position = flat.argmax(axis=1)  # (B, C): the first maximum of each image and channel
        best = np.take_along_axis(flat, position[:, np.newaxis, :], axis=1)[:, 0]
        rows, cols = (position // out.shape[2]).T, (position % out.shape[2]).T
        size = x.shape[1:3] if fields[None].terms is None else None
        if size not in fields:
            fields[size] = _field(model, parts, size)
        value = np.concatenate([value, best.T.astype(np.float32)], axis=1)
        index = np.concatenate([index, np.broadcast_to(seen + np.arange(len(x)), (c, len(x)))], 1)
        row = np.concatenate([row, rows], axis=1)
        col = np.concatenate([col, cols], axis=1)
        box = np.concatenate([box, _boxes(fields[size], rows, cols)], axis=1)
        # Stable: on ties the earlier image (already kept, or earlier in the batch) stays first.
        order = np.argsort(-value, axis=1, kind="stable")[:, :k]
        value, index, row, col = (
            np.take_along_axis(a, order, axis=1) for a in (value, index, row, col)
        )
        box = np.take_along_axis(box, order[..., np.newaxis], axis=1)
        seen += len(x)
    if k > seen:
        raise ValueError(f"k must be at most the number of images, {seen}; got {k}")
    return {
        "layer": parts.name,
        "channels": chosen,
        "index": index,
        "row": row,
        "col": col,
        "value": value,
        "box": box,
    }


def class_mean_activations(
    model: keras.Model,
    images: object,
    labels: object,
    layer: str | int,
    *,
    num_classes: int | None = None,
    steps: int | None = None,
) -> np.ndarray:
    """Return each channel's mean activation per class: over the class's images and positions.

    Parameters
    ----------
    model : keras.Model
        Any built Keras image model with one input: functional, Sequential
        or nested, any number of channels.
    images : array_like or iterable
        Images (N, H, W, C), as for :func:`top_patches`; or a stream of
        ``(images, labels)`` batches (a ``tf.data.Dataset`` or any iterable
        of pairs), read once in constant memory, and then `labels` is None.
    labels : array_like or None
        Integer labels (N,) or one-hot rows (N, classes) (their largest
        entry's class) for array `images`; None for a stream, whose batches
        hold them, in the same two forms.
    layer : str or int
        A layer by name (nested models' layers included) or index into
        ``model.layers``; feature maps (batch, height, width, channels) are
        averaged over positions, other outputs (batch, units) used as they are.
    num_classes : int, optional
        The number of classes, at most 10,000. By default the width of the
        model's output when it is (batch, classes), else one more than the
        largest label (which must then be below 10,000).
    steps : int, optional
        The number of batches to read from a stream, as for
        :func:`top_patches`.

    Returns
    -------
    numpy.ndarray
        float32 (num_classes, channels). A class without images has a row
        of NaN: its mean is undefined, and a NaN cannot be mistaken for a
        real mean of zero (a dead channel).

    Raises
    ------
    TypeError, ValueError
        As for :func:`top_patches`; ValueError also if labels are missing
        (beside arrays, or in a batch of a stream), given beside a stream,
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
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    channels = _graph.channel_count(parts, spatial=False)
    if num_classes is not None:
        num_classes = _checks.class_count(num_classes)
    elif len(model.outputs) == 1 and len(model.outputs[0].shape) == 2:
        num_classes = int(model.outputs[0].shape[-1])
    sums = np.zeros((num_classes or 0, channels), np.float64)
    counts = np.zeros(num_classes or 0, np.int64)
    batches = _batches.source(
        model, images, labels, steps=steps, need_labels=True, num_classes=num_classes
    )
    for x, y in batches:
        out = _graph.run(parts.head, x)
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
    steps: int | None = None,
    fill: str | float | ArrayLike = "zero",
) -> dict:
    """Return the accuracy with each channel of `layer` switched off: set to zero, its mean or a value.

    The model is split at the layer: the part up to it runs once per batch,
    and the part after it runs on copies of the layer's output, one per
    ablated channel with that channel replaced, as many per call as the chunk
    policy of ``cnnviz._batches`` allows for that part.
    The given model is never changed. An ablated channel's output is one
    value at every position and for every image: zero (``fill="zero"``,
    the default), the channel's mean activation (``fill="mean"``), or a
    value given for each channel (for example the channels' means over
    other images than the ones ablated: the training images', when the
    accuracy is measured on the test images).
    Zero is not "off" for a channel whose normal level is not zero (a
    convolution's bias moves it): zeroing moves it to a level it never has.
    The mean keeps its average level (mean ablation, as Wang et al., 2023,
    "Interpretability in the wild", ablate attention heads), but puts it
    everywhere, also where the channel is normally silent (below a ReLU, on
    a black background): that moves the next layer's input too, and can
    cost more than zeroing. Neither fill removes only the information the
    channel carries; read the two together.
    The mean is over every image read and every position of the layer's
    output, per channel: a first pass over the same images computes it
    (float64 sums, memory constant in the number of images), the second
    ablates; so the images are read twice (a generator, which can be read
    only once, is refused with ``fill="mean"``), and a stream must give the
    same images both times: a ``tf.data`` dataset that reshuffles each time
    it is read does, read whole, but its first `steps` batches are other
    images each time. A channel whose output is
    the same value everywhere gets exactly that value back (float64 sums of
    one float32 value are exact), so its mean ablation changes no
    prediction. Zeroing a ``Conv2D`` followed by a ReLU is the same as
    zeroing the ReLU's. Each ablated prediction is
    compared with the intact one computed in a call of the same shape (so
    rounded the same way): an image whose prediction the ablation leaves as
    it is counts as it does intact, and a channel that cannot change the
    output gives exactly ``intact_accuracy``, near ties included.

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
    steps : int, optional
        The number of batches to read from a stream, as for
        :func:`top_patches` (with ``fill="mean"``, the first `steps`
        batches in both passes: the same images only if the stream gives
        its batches in the same order each time it is read, which a
        dataset shuffled with ``reshuffle_each_iteration=True``, tf.data's
        default, does not: its means are then over other images than
        the ones ablated).
    fill : {"zero", "mean"}, float or array_like, default "zero"
        What an ablated channel's output becomes: zero, the channel's
        mean activation over the images and positions, or the given
        value: one number for every channel, or one per channel of the
        layer, shape (C,), C the layer's channel count (also when only
        some are ablated).

    Returns
    -------
    dict
        ``"layer"``: the layer's name; ``"channels"``: int64 (C,);
        ``"accuracy"``: float64 (C,), the fraction of images whose
        predicted class (the largest output) is their label with that
        channel off; ``"intact_accuracy"``: float, the same with no channel
        off; ``"fill"``: ``"zero"``, ``"mean"`` or ``"given"`` (values
        given as numbers); ``"fill_values"``: float64 (C,), the value each
        ablated channel was given.

    Raises
    ------
    TypeError, ValueError
        As for :func:`class_mean_activations`; ValueError also if the model
        has not one (batch, classes) output or cannot be split at the layer,
        a channel is out of range, or `fill` is another string, or values
        of another shape than (C,) or not finite; TypeError also if `fill`
        holds other things than real numbers, or is ``"mean"`` and `images`
        is an iterator (a generator), which cannot be read twice.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import channel_ablation, lenet5
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
    >>> result = channel_ablation(lenet5(), x, np.arange(20) % 10, "conv1")
    >>> result["channels"], result["accuracy"].shape
    (array([0, 1, 2, 3, 4, 5]), (6,))
    >>> mean = channel_ablation(lenet5(), x, np.arange(20) % 10, "conv1", fill="mean")
    >>> mean["fill"], mean["fill_values"].shape
    ('mean', (6,))
    >>> model, y = lenet5(), np.arange(20) % 10
    >>> means = channel_ablation(model, x, y, "conv1", fill="mean")
    >>> given = channel_ablation(model, x, y, "conv1", fill=means["fill_values"])
    >>> given["fill"], bool((given["accuracy"] == means["accuracy"]).all())
    ('given', True)
    """
    model = _graph.class_output(model)
    given = fill  # numbers: checked once the layer's channel count is known
    if isinstance(fill, str):
        if fill not in FILLS:
            raise ValueError(
                f"fill must be one of {FILLS}, a number or one number per channel; got {fill!r}"
            )
    else:
        fill = "given"
    parts = _graph.split(model, layer)
    count = _graph.channel_count(parts, spatial=False)
    chosen = _checks.indices(channels, count, "channels", f"of layer {parts.name!r}")
    tail = _graph.tail(model, parts)
    classes = int(model.outputs[0].shape[-1])
    correct = np.zeros(len(chosen), np.int64)
    intact = total = 0

    def read():
        return _batches.source(
            model, images, labels, steps=steps, need_labels=True, num_classes=classes
        )

    values = np.zeros(count)
    if fill == "given":
        dtype = keras.backend.standardize_dtype(parts.head.outputs[0].dtype)
        values = _fill_values(given, count, parts.name, dtype)
    elif fill == "mean":
        _batches.refuse_one_pass(images, "images", 'fill="mean" reads the images twice')
        values = _channel_means(parts, read(), count)

    def predicted(features: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(tail(features, training=False)).argmax(axis=-1)

    for x, y in read():
        features = _graph.run(parts.head, x)
        # Copies of the layer's output per call of the tail: the policy for the tail's input.
        rows = _batches.chunk_size(tail, features.shape[1:])
        total += len(x)
        per_call = max(1, rows // len(x))
        # What each ablated copy is compared with: the intact output in a call of the same
        # shape, each image in the row its ablated copies take. Kernels round differently
        # for other batch shapes (and other CPUs pick other kernels), so an image whose
        # prediction the ablation leaves as it is in such a call counts as it does intact,
        # and a channel that cannot change the output gives exactly the intact accuracy.
        guessed = predicted(features)
        right = guessed == y
        intact += int(right.sum())
        references = {1: guessed[np.newaxis]}  # one copy per call: the call of the intact output
        for first in range(0, len(chosen), per_call):
            group = chosen[first : first + per_call]
            copies = np.repeat(features[np.newaxis], len(group), axis=0)
            if len(group) not in references:
                whole = predicted(copies.reshape(-1, *features.shape[1:]))
                references[len(group)] = whole.reshape(len(group), -1)
            for copy, channel in zip(copies, group, strict=True):
                copy[..., channel] = values[channel]  # rounded to the features' type
            guesses = predicted(copies.reshape(-1, *features.shape[1:])).reshape(len(group), -1)
            changed = guesses != references[len(group)]
            counted = np.where(changed, guesses == y, right)
            correct[first : first + len(group)] += counted.sum(1)
    return {
        "layer": parts.name,
        "channels": chosen,
        "accuracy": correct / total,
        "intact_accuracy": intact / total,
        "fill": fill,
        "fill_values": values[chosen],
    }


def _fill_values(given: object, count: int, layer: str, dtype: str) -> np.ndarray:
    """Return the values given for the ablated channels, float64 (count,): checked, broadcast.

    `dtype` is the layer's output type: a value must fit in it, for it is written there.
    """
    expected = "fill must be 'zero', 'mean', a real number or one real number per channel"
    if np.ma.isMaskedArray(given) and np.ma.is_masked(given):
        raise ValueError(f"{expected}; got a masked array with masked values")
    try:
        array = np.asarray(given)
    except (TypeError, ValueError):  # a ragged list: NumPy's own words do not name fill
        raise ValueError(f"{expected}; got {type(given).__name__} {given!r:.80}") from None
    if array.dtype.kind not in "iuf":  # not bool, complex, dates, durations, text or objects
        shown = f"an array of dtype {array.dtype}" if array.ndim else repr(given)
        raise TypeError(f"{expected}; got {shown}")
    if array.ndim == 0:
        array = np.full(count, array)
    if array.shape != (count,):
        raise ValueError(
            f"fill must hold one value per channel of layer {layer!r}, shape ({count},); "
            f"got shape {array.shape}"
        )
    values = _checks.finite(array.astype(np.float64), "fill")
    if np.issubdtype(np.dtype(dtype), np.floating):
        largest = float(np.finfo(dtype).max)
        if np.abs(values).max() > largest:
            raise ValueError(
                f"fill must fit in layer {layer!r}'s output type, {dtype} (at most {largest:g} "
                f"in size); got {values[np.abs(values).argmax()]:g}"
            )
    return values


def _channel_means(parts: _graph.Split, batches: _batches.Source, count: int) -> np.ndarray:
    """Return each channel's mean output over the images and positions, (C,) float64.

    Sums in float64, chunk by chunk: memory constant in the number of images, and a
    channel that is one float32 value everywhere has exactly that value as its mean.
    """
    sums, values = np.zeros(count), 0
    for x, _ in batches:
        features = _graph.run(parts.head, x).reshape(-1, count)
        sums += features.sum(axis=0, dtype=np.float64)
        values += len(features)
    return sums / values
