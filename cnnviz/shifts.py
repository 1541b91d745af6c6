"""What padding does to position: shifted images, shift accuracy and consistency, equivariance, paths.

A convolution is equivariant to shifts (shift the image, and its maps shift
with it) only where no border and no stride gets in the way. Zero padding
writes the image's border into the maps, so a network can learn where things
are (Islam, Jia & Bruce, 2020; Kayhan & van Gemert, 2020); border pixels reach
the output along fewer paths than central ones (Alsallakh et al., 2021); and
pooling with a stride makes a network's answer change under shifts of a pixel
or two (Azulay & Weiss, 2019; Zhang, 2019). The functions here measure each of
these on any Keras image model, for whole batches or streams of images.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import keras
import numpy as np

from . import _batches, _checks, _geometry, _graph
from .activations import layer_outputs

__all__ = ["equivariance", "pixel_paths", "shift_accuracy", "shift_consistency", "shift_images"]


def _shift(value: object, name: str) -> int:
    if not _checks.is_integer(value):
        raise TypeError(f"{name} must be an integer number of pixels; got {value!r}")
    return int(value)


def shift_images(images: object, dy: int, dx: int) -> np.ndarray:
    """Return `images` moved down by `dy` and right by `dx` pixels.

    Negative shifts move them up and left. The pixels left behind are 0
    (Fashion-MNIST's black background); those moved past the edge are
    dropped, so the images keep their size, as a garment drawn off-centre
    would be.

    Parameters
    ----------
    images : numpy.ndarray
        One image (H, W), a batch of one-channel images (N, H, W), as
        :func:`~cnnviz.load_fashion_mnist` gives them, or a batch
        (N, H, W, C); an array, or anything with ``__array__`` (a
        tensor). One image with channels, (H, W, C), is given as a
        batch of one: ``image[np.newaxis]``. A list is not taken: in
        cnnviz a list is a stream of batches, whose each batch is
        shifted on its own.
    dy, dx : int
        The shift in pixels, down and right; each smaller in size than
        the images' height and width.

    Returns
    -------
    numpy.ndarray
        The shifted images: the same shape and dtype.

    Raises
    ------
    TypeError
        If `images` is not an array of numbers (a stream: shift its
        batches one by one) or a shift is not an integer.
    ValueError
        If `images` has not 2, 3 or 4 axes, a 3-D array looks like one
        image with channels (its last axis is 1, 3 or 4 long: a batch of
        one-channel images that narrow is given with a channel axis), or a
        shift is as large as the images or larger.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import shift_images
    >>> image = np.arange(9).reshape(3, 3)
    >>> shift_images(image, 1, -1)
    array([[0, 0, 0],
           [1, 2, 0],
           [4, 5, 0]])
    """
    if not _batches.is_array(images):
        raise TypeError(
            "images must be an array of images: (H, W), (N, H, W) or (N, H, W, C); got "
            f"{type(images).__name__} (shift a stream's batches one by one)"
        )
    array = np.asarray(images)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(f"images must be an array of numbers; got dtype {array.dtype}")
    if array.ndim not in (2, 3, 4):
        raise ValueError(
            "images must be one image (H, W), a batch of one-channel images (N, H, W) or a "
            f"batch (N, H, W, C); got shape {array.shape}"
        )
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        raise ValueError(
            f"images of shape {array.shape} look like one image (H, W, C), but a 3-D array is "
            "read as a batch of one-channel images (N, H, W): give one image with channels "
            "as a batch of one, images[np.newaxis] (a batch of one-channel images "
            f"{array.shape[-1]} pixel{'s' if array.shape[-1] > 1 else ''} wide with a "
            "channel axis, images[..., np.newaxis])"
        )
    rows, cols = (0, 1) if array.ndim == 2 else (1, 2)
    height, width = array.shape[rows], array.shape[cols]
    dy, dx = _shift(dy, "dy"), _shift(dx, "dx")
    for value, name, size, what in ((dy, "dy", height, "height"), (dx, "dx", width, "width")):
        if abs(value) >= size:
            raise ValueError(
                f"{name} must be smaller in size than the images' {what}, {size} pixels "
                f"(a shift of {size} or more leaves nothing); got {name}={value}"
            )
    shifted = np.zeros_like(array)
    target = [slice(None)] * array.ndim
    source = [slice(None)] * array.ndim
    for axis, value in ((rows, dy), (cols, dx)):
        target[axis] = slice(max(value, 0), array.shape[axis] + min(value, 0))
        source[axis] = slice(max(-value, 0), array.shape[axis] - max(value, 0))
    shifted[tuple(target)] = array[tuple(source)]
    return shifted


def _max_shift(value: object, model: keras.Model, image: tuple | None = None) -> int:
    """Return `max_shift`: a non-negative integer smaller than the images' height and width."""
    if not _checks.is_integer(value):
        raise TypeError(f"max_shift must be a non-negative integer (pixels); got {value!r}")
    m = int(value)
    if m < 0:
        raise ValueError(f"max_shift must be a non-negative integer (pixels); got {m}")
    sizes = [int(n) for n in (image or tuple(model.inputs[0].shape[1:3])) if n is not None]
    if sizes and m >= min(sizes):
        raise ValueError(
            f"max_shift must be smaller than the images' height and width ({min(sizes)} "
            f"pixels), or a shift would leave nothing of them; got max_shift={m}"
        )
    return m


def _padded(x: np.ndarray, m: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (m, m), (m, m), (0, 0)))


def _window(padded: np.ndarray, m: int, dy: int, dx: int, size: tuple[int, int]) -> np.ndarray:
    """Return the images of `padded` (padded by `m`) shifted by (dy, dx): a view, no copy."""
    return padded[:, m - dy : m - dy + size[0], m - dx : m - dx + size[1]]


def _plain_passes(model: keras.Model, x: np.ndarray, m: int, grid: list[tuple[int, int]]):
    """Yield (grid indices, probabilities): the whole model on the shifted copies of `x`."""
    padded = _padded(x, m)
    # Several shifts per pass, the pass no larger than the one chunk policy's.
    per_pass = max(1, _batches.chunk_size(model, x.shape[1:]) // len(x))
    for start in range(0, len(grid), per_pass):
        group = grid[start : start + per_pass]
        batch = np.concatenate([_window(padded, m, dy, dx, x.shape[1:3]) for dy, dx in group])
        yield np.arange(start, start + len(group)), _graph.predict(model, batch)


# Layers that compute each output unit from one window of their input, the same way at every
# position (channels last), and, with ``padding="valid"``, read no padding. On a chain of them
# the output for an image moved within a zero frame is the output for the framed image, cut:
# the computation the shifts share. Exact types: a subclass may compute something else.
_WINDOWED = _geometry._WINDOWED
_POINTWISE = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
)


# Keras' own activations act on each position alone (softmax and the like along the channels):
# an activation given as any other callable (a Lambda in disguise) may mix positions.
_OWN_ACTIVATIONS = tuple(
    getattr(keras.activations, name)
    for name in dir(keras.activations)
    if not name.startswith("_") and name not in ("get", "serialize", "deserialize")
)


def _window_of(layer: object) -> tuple[int, ...] | None:
    """Return (kernel, stride, dilation) per axis of a layer the shifts can share, else None."""
    kind = type(layer)
    activation = getattr(layer, "activation", None)
    if activation is not None and not any(activation is own for own in _OWN_ACTIVATIONS):
        return None
    if kind in _POINTWISE or (kind is keras.layers.BatchNormalization and layer.axis in (-1, 3)):
        return (1, 1, 1, 1, 1, 1)
    if kind not in _WINDOWED:
        return None
    if layer.padding != "valid" or layer.data_format != "channels_last":
        return None
    if kind in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D):
        (kh, kw), (sh, sw), (dh, dw) = layer.pool_size, layer.strides, (1, 1)
    else:
        (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.strides, layer.dilation_rate
    return (kh, kw, sh, sw, dh, dw)


def _shared_prefix(model: keras.Model, m: int, image_shape: tuple) -> tuple | None:
    """Return how shift_accuracy shares the model's first layers across shifts, or None.

    The model's first layers, from the input along a chain (each read by the next
    alone), that :func:`_window_of` knows, up to the layer where sharing saves the
    most: (its name, its jump per axis, the chain up to it on images of any size, the
    model after it). Images moved by (dy, dx) are a window of the images framed by m
    zeros; on such a chain a unit of the layer reads the same pixels in both, so its
    output for the moved images is a cut of its output for the framed ones, where the
    framed images start at the same offset modulo the jump (the phase). The chain
    runs once per phase, at most (2m + 1)^2 times, and the rest once per shift.
    """
    declared = tuple(model.inputs[0].shape[1:3])
    if None in declared or tuple(image_shape[:2]) != declared:
        return None
    return _graph.cached(model, "shift_prefix", m, lambda: _choose_prefix(model, m))


def _choose_prefix(model: keras.Model, m: int) -> tuple | None:
    x, output, trace = _graph.trace(model)
    calls = [
        (layer, inputs, out)
        for key, (layer, inputs, out) in trace.calls.items()
        if not isinstance(layer, keras.layers.InputLayer)
        and not (isinstance(layer, keras.Model) and key not in trace.whole)
    ]
    readers: dict[int, int] = {}
    for _, inputs, _ in calls:
        for tensor in keras.tree.flatten(inputs):
            readers[id(tensor)] = readers.get(id(tensor), 0) + 1
    outputs = {id(tensor) for tensor in keras.tree.flatten(output)}
    chain, current = [], x
    while readers.get(id(current)) == 1 and id(current) not in outputs:
        layer, _, out = next(call for call in calls if call[1] is current)
        window = _window_of(layer)
        if window is None or trace.counts[id(layer)] != 1 or len(out.shape) != 4:
            break
        chain.append((layer, window, out))
        current = out
    if not chain:
        return None
    side = 2 * m + 1

    def work(size: tuple[int, int]) -> list[tuple[float, tuple[int, int], tuple[int, int]]]:
        """Per chain layer: its multiply-adds per image on images of `size`, sizes, jump."""
        rows, jump, channels = [], (1, 1), int(x.shape[-1])
        for layer, (kh, kw, sh, sw, dh, dw), out in chain:
            size = (
                (size[0] - dh * (kh - 1) - 1) // sh + 1,
                (size[1] - dw * (kw - 1) - 1) // sw + 1,
            )
            jump = (jump[0] * sh, jump[1] * sw)
            taps = kh * kw * (channels // getattr(layer, "groups", 1))
            if type(layer) is not keras.layers.Conv2D:
                taps = kh * kw
            rows.append((size[0] * size[1] * int(out.shape[-1]) * taps, size, jump))
            channels = int(out.shape[-1])
        return rows

    image = tuple(int(n) for n in x.shape[1:3])
    plain = work(image)
    framed = work((image[0] + 2 * m, image[1] + 2 * m))
    best, cost = None, side * side * sum(row[0] for row in plain)
    for k, (_, size, jump) in enumerate(framed):
        if min(size) < 1 or min(plain[k][1]) < 1:
            break
        phases = min(jump[0], side) * min(jump[1], side)
        total = phases * sum(row[0] for row in framed[: k + 1]) + side * side * sum(
            row[0] for row in plain[k + 1 :]
        )
        if total < cost:
            best, cost = k, total
    if best is None:
        return None
    name = chain[best][0].name
    try:
        rest = _graph.tail(model, _graph.split(model, name))
    except ValueError:
        return None
    inputs = keras.Input((None, None, int(x.shape[-1])), dtype=model.inputs[0].dtype)
    h = inputs
    for layer, _, _ in chain[: best + 1]:
        h = layer(h)
    first = keras.Model(inputs, h, name=f"{model.name}_to_{name}_any_size")
    jump = framed[best][2]
    size = tuple(int(n) for n in chain[best][2].shape[1:3])
    return first, rest, jump, size


def _shared_passes(
    model: keras.Model, shared: tuple, x: np.ndarray, m: int, grid: list[tuple[int, int]]
):
    """Yield (grid indices, probabilities): the shared chain once per phase, the rest per shift."""
    first, rest, (jy, jx), (h, w) = shared
    height, width = x.shape[1:3]
    # Framed by m zeros, and by jump - 1 more at the bottom and right, so that the framed
    # images of every phase have one size (one compiled step); no unit cut reads them.
    framed = np.pad(x, ((0, 0), (m, m + jy - 1), (m, m + jx - 1), (0, 0)))
    size = (height + 2 * m, width + 2 * m)
    phases: dict[tuple[int, int], list[int]] = {}
    for i, (dy, dx) in enumerate(grid):
        phases.setdefault(((m - dy) % jy, (m - dx) % jx), []).append(i)
    first_chunk = _batches.chunk_size(first, (*size, x.shape[-1]))
    for (py, px), members in phases.items():
        images = framed[:, py : py + size[0], px : px + size[1]]
        maps = np.concatenate(
            [
                _graph.predict(first, images[start : start + first_chunk])
                for start in range(0, len(x), first_chunk)
            ]
        )
        # One shift per pass, its cut given as a view: TensorFlow copies it once. Gathering
        # several shifts' cuts into one batch first copied every value twice, and the cuts
        # (169 of the chunk's relu2 maps for LeNet-5) were then a third of the time.
        for i in members:
            top, left = (m - grid[i][0] - py) // jy, (m - grid[i][1] - px) // jx
            yield np.array([i]), _graph.predict(rest, maps[:, top : top + h, left : left + w])


def shift_accuracy(
    model: keras.Model,
    images: object,
    labels: object = None,
    *,
    max_shift: int = 4,
    steps: int | None = None,
) -> dict[str, object]:
    """Return a classifier's accuracy on `images` shifted by every offset up to `max_shift`.

    Every image is moved by each (dy, dx) in ``[-m, m]^2`` (m =
    `max_shift`; vacated pixels 0, as :func:`shift_images` does) and
    classified. The shifted copies of a chunk of images are made from one
    padded copy and classified together, several shifts per forward pass,
    so the grid costs (2m + 1)^2 passes over the images' pixels but few
    calls; the images are read once (a stream too). Where the model
    begins with ``valid`` convolutions and poolings (and layers that act on
    each position alone), their output for a shifted image is a cut of
    their output for the image framed by m zeros: they run once per phase
    of their stride (4 for LeNet-5 ``valid``, up to relu2) instead of once
    per shift, and only the rest of the model runs per shift. Both ways
    give the same classes and probabilities up to float rounding.

    Parameters
    ----------
    model : keras.Model
        A classifier that ends in a softmax, with one image input (any
        Keras image model: functional, Sequential or nested).
    images : array_like or iterable
        A batch (N, H, W, C), or (N, H, W) for a one-channel model;
        ``uint8`` images are scaled to [0, 1] unless the model takes
        [0, 255], as for :func:`~cnnviz.predict`. Or a stream of
        ``(images, labels)`` batches (a ``tf.data.Dataset`` or any
        iterable), read once.
    labels : array_like, optional
        The true classes (N,) or one-hot rows (N, classes) of an array of
        images; None for a stream, which brings its own.
    max_shift : int, default 4
        The largest shift in pixels, m, along each axis; smaller than the
        images.
    steps : int, optional
        The number of batches to read from a stream; refused with an
        array.

    Returns
    -------
    dict
        ``"shifts"``: int64 (2m + 1,), the offsets -m..m;
        ``"accuracy"``: float64 (2m + 1, 2m + 1), the fraction of images
        classified right, at ``[dy + m, dx + m]`` for a shift down by dy and
        right by dx (the centre is the plain accuracy);
        ``"probability"``: float64, the mean probability of the true class,
        on the same grid; ``"count"``: the number of images.

    Raises
    ------
    TypeError, ValueError
        As for :func:`~cnnviz.evaluate` (the model, the images and their
        labels), and if `max_shift` is not a non-negative integer smaller
        than the images.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, shift_accuracy
    >>> images = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    >>> result = shift_accuracy(lenet5(), images, [0, 1, 2, 3], max_shift=1)
    >>> result["shifts"], result["accuracy"].shape
    (array([-1,  0,  1]), (3, 3))
    """
    model = _graph.classifier(
        model, need="shift_accuracy gives the mean probability of the true class"
    )
    m = _max_shift(max_shift, model)
    classes = int(model.outputs[0].shape[-1])
    batches = _batches.source(
        model, images, labels, steps=steps, need_labels=True, num_classes=classes
    )
    offsets = np.arange(-m, m + 1)
    grid = [(int(dy), int(dx)) for dy in offsets for dx in offsets]
    right = np.zeros(len(grid), dtype=np.int64)
    probability = np.zeros(len(grid))
    count = 0
    for x, y in batches:
        _max_shift(m, model, x.shape[1:3])  # a model of any input size: these images' size
        shared = _shared_prefix(model, m, x.shape[1:])
        passes = (
            _plain_passes(model, x, m, grid)
            if shared is None
            else _shared_passes(model, shared, x, m, grid)
        )
        for indices, p in passes:
            p = p.reshape(len(indices), len(x), classes)
            right[indices] += np.sum(p.argmax(axis=2) == y, axis=1)
            probability[indices] += np.sum(
                np.take_along_axis(
                    p, np.broadcast_to(y[None, :, None], (len(indices), len(y), 1)), 2
                )[..., 0],
                axis=1,
                dtype=np.float64,
            )
        count += len(x)
    side = 2 * m + 1
    return {
        "shifts": offsets.astype(np.int64),
        "accuracy": (right / count).reshape(side, side),
        "probability": (probability / count).reshape(side, side),
        "count": count,
    }


def shift_consistency(
    model: keras.Model,
    images: object,
    *,
    max_shift: int = 4,
    seed: int = 0,
    steps: int | None = None,
) -> dict[str, object]:
    """Return how often a classifier's answer survives a random shift: Zhang's consistency.

    Each image is shifted twice, by two offsets (dy, dx) drawn
    independently and uniformly from ``[-m, m]^2`` (m = `max_shift`;
    vacated pixels 0, as :func:`shift_images` does), and classified both
    times; the consistency is the fraction of images given the same class
    both times (Zhang, "Making Convolutional Networks Shift-Invariant
    Again", ICML 2019). No labels are needed: it measures whether the
    answer changes, not whether it is right.

    The offsets come from ``numpy.random.default_rng(seed)``, four
    integers per image in the images' order, so the same seed gives the
    same offsets and the same answer for an array and for a stream of the
    same images, however they are batched.

    Parameters
    ----------
    model : keras.Model
        A classifier that ends in a softmax, with one image input.
    images : array_like or iterable
        A batch (N, H, W, C), or (N, H, W) for a one-channel model, or a
        stream of batches (labels in it ignored), as for
        :func:`~cnnviz.predict`.
    max_shift : int, default 4
        The largest shift in pixels along each axis; smaller than the
        images.
    seed : int, default 0
        The seed of the random offsets: a non-negative integer.
    steps : int, optional
        The number of batches to read from a stream.

    Returns
    -------
    dict
        ``"consistency"``: float, the fraction of images whose two
        classes agree; ``"agree"``: bool (N,), per image;
        ``"shifts"``: int64 (N, 2, 2), per image the two offsets, each
        (dy, dx); ``"max_shift"``: m.

    Raises
    ------
    TypeError, ValueError
        As for :func:`~cnnviz.predict`, and if `max_shift` is not a
        non-negative integer smaller than the images or `seed` is not a
        non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import lenet5, shift_consistency
    >>> images = np.zeros((5, 28, 28, 1), dtype=np.uint8)  # blank: every shift is the same
    >>> shift_consistency(lenet5(), images, max_shift=3)["consistency"]
    1.0
    """
    model = _graph.classifier(
        model, need="shift_consistency takes a classifier whose output is class probabilities"
    )
    m = _max_shift(max_shift, model)
    seed = _checks.non_negative_int(seed, "seed")
    batches = _batches.source(model, images, steps=steps)
    rng = np.random.default_rng(seed)
    agree = _batches.Rows(batches.count, "images", "agreements")
    drawn = _batches.Rows(batches.count, "images", "shifts")
    for x, _ in batches:
        _max_shift(m, model, x.shape[1:3])
        n, (height, width) = len(x), x.shape[1:3]
        # Drawn image by image in order (dy1, dx1, dy2, dx2): the same for any batching.
        shifts = rng.integers(-m, m + 1, size=(n, 4), dtype=np.int64).reshape(n, 2, 2)
        # Both shifted copies of a piece go through one pass, which holds no more images
        # than the chunk policy allows.
        piece = max(1, _batches.chunk_size(model, x.shape[1:]) // 2)
        for start in range(0, n, piece):
            part = slice(start, start + piece)
            padded = _padded(x[part], m)
            index = np.arange(len(padded))[:, None, None]
            pair = []
            for k in range(2):
                rows = (m - shifts[part, k, 0])[:, None, None] + np.arange(height)[None, :, None]
                cols = (m - shifts[part, k, 1])[:, None, None] + np.arange(width)[None, None, :]
                pair.append(padded[index, rows, cols])
            classes = _graph.predict(model, np.concatenate(pair)).argmax(axis=1)
            agree.add(classes[: len(padded)] == classes[len(padded) :])
        drawn.add(shifts)
    agreed = agree.result()
    return {
        "consistency": float(np.mean(agreed)),
        "agree": agreed,
        "shifts": drawn.result(),
        "max_shift": m,
    }


def _spatial_layers(
    model: keras.Model, layers: Sequence[str | int] | None
) -> list[tuple[str, _geometry._Field]]:
    """Return the layers to measure with their fields: named ones checked, by default all spatial."""
    given = layers is not None
    names = [str(name) for name in _graph.layer_names(model, layers)]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        # A result names each layer once, as plot_equivariance needs it.
        raise ValueError(
            f"layers must name each layer once (by name or index); got {twice} twice or more"
        )
    chosen, skipped = [], []
    _, _, calls = _graph.trace(model)
    for name in names:
        layer, _, output = _graph.find(calls, name)
        shape = tuple(output.shape)
        if isinstance(layer, keras.layers.InputLayer):
            if given:
                raise ValueError(
                    f"layers holds the input layer {name!r}: its output is the images, "
                    "equivariant by definition; give layers after it"
                )
            continue
        why = None
        if len(shape) != 4:
            why = f"its output {shape} has no spatial axes"
        elif any(n is not None and n < 2 for n in shape[1:3]):
            why = f"its output {shape} has fewer than two units along an axis, so none is left after a move by one"
        if why is None:
            try:
                field = _geometry._field(model, _graph.split(model, name), boxes=False)
            except ValueError as error:
                why = str(error)
            else:
                if field.why:
                    why = f"its units have no one jump: {field.why}"
        if why is None:
            chosen.append((name, field))
        elif given:
            raise ValueError(f"layer {name!r} cannot be measured for shift equivariance: {why}")
        elif len(shape) == 4 and shape[1:3] != (1, 1):
            skipped.append(f"{name!r} ({why})")
    if skipped:
        warnings.warn(
            f"equivariance leaves out layers with spatial outputs it cannot follow: {'; '.join(skipped)}",
            stacklevel=3,
        )
    if not chosen:
        raise ValueError(
            f"model {model.name!r} has no layer with spatial outputs (feature maps of at least "
            "2x2 units, whose receptive fields are a fixed number of pixels apart) to measure"
        )
    return chosen


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image, the cosine similarity of two maps: 1 where both are all zero, 0 where one is."""
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    both_zero = ~a.any(axis=1) & ~b.any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, np.sum(a * b, axis=1) / norms, 0.0)
    return np.where(both_zero, 1.0, np.clip(cosine, -1.0, 1.0))


def _comparable(names: list[str], jumps: np.ndarray, outputs: dict, image: tuple) -> None:
    """Refuse a layer that these images leave nothing to compare in.

    A model of any input size gives small images maps of fewer than 2x2 units (no unit
    is left after a move by one), and a jump as large as the images is a shift that
    leaves nothing of them: neither can be told before the images are seen.
    """
    height, width = image
    for name, (jy, jx) in zip(names, jumps.tolist(), strict=True):
        rows, cols = outputs[name].shape[1:3]
        if jy >= height or jx >= width:
            raise ValueError(
                f"images of {height}x{width} pixels are too small for layer {name!r}, whose "
                f"units are {jy}x{jx} pixels apart: a shift by that much leaves nothing of "
                "them; give larger images, or layers without it"
            )
        if rows < 2 or cols < 2:
            raise ValueError(
                f"images of {height}x{width} pixels give layer {name!r} {rows}x{cols} units, "
                "fewer than two along an axis, so none is left after a move by one unit; give "
                "larger images, or layers without it"
            )


def equivariance(
    model: keras.Model,
    images: object,
    *,
    layers: Sequence[str | int] | None = None,
    steps: int | None = None,
) -> dict[str, object]:
    """Return how far each layer is from shift equivariance on `images`.

    A layer is equivariant to a shift when shifting the image shifts its
    output the same way. One unit of a layer is `jump` pixels apart from
    the next (:func:`~cnnviz.receptive_field`), so the images are shifted
    down and right by the layer's jump (vacated pixels 0, as
    :func:`shift_images` does), and the layer's output for them is
    compared with its output for the originals moved down and right by
    one unit, over the units present in both (all but the first row and
    column of the one, the last row and column of the other). The measure
    is the cosine similarity of the two, over every channel of those
    units, per image.

    A network of ``valid`` convolutions and poolings is exactly
    equivariant on the units it has: each of those units reads the same
    pixels, moved (1.0, up to float rounding). With ``same`` padding the
    units at the far border read padding where the originals' units read
    the pixels the shift pushed out of the image, and from the second
    padded layer on, units next to the vacated rows read the first
    layer's answer to black (its bias, through the activation) where the
    originals' read padding zeros: less than 1.

    Parameters
    ----------
    model : keras.Model
        Any Keras image model with one input: functional, Sequential or
        nested.
    images : array_like or iterable
        A batch (N, H, W, C), or (N, H, W) for a one-channel model, or a
        stream of batches (labels in it ignored), as for
        :func:`~cnnviz.layer_outputs`.
    layers : sequence of str or int, optional
        The layers to measure (names, nested models' layers included, or
        indices into ``model.layers``); each must give feature maps of at
        least 2x2 units a fixed number of pixels apart. By default every
        layer of ``model.layers`` with such outputs; layers with spatial
        outputs whose fields cnnviz cannot follow (after an upsampling, a
        ``Lambda``) are left out with a warning that names them.
    steps : int, optional
        The number of batches to read from a stream.

    Returns
    -------
    dict
        ``"layers"``: list of str, the layers measured, in order;
        ``"jump"``: int64 (L, 2), each one's jump in pixels (rows,
        columns), the shift its images were given; ``"similarity"``:
        float64 (L,), the mean over the images of ``"per_image"``:
        float64 (N, L), each image's cosine similarity (1.0 where both
        outputs are all zero, 0.0 where one is).

    Raises
    ------
    TypeError, ValueError
        As for :func:`~cnnviz.layer_outputs`, and if a layer given cannot
        be measured (no spatial output, fewer than 2x2 units, no one jump,
        the input layer: the message says which), or the model has no
        layer to measure, or the images are too small for a layer (a jump
        as large as them, or, for a model of any input size, maps of fewer
        than 2x2 units).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import equivariance, lenet5
    >>> images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    >>> result = equivariance(lenet5("valid"), images, layers=["conv1", "max_pool2"])
    >>> result["layers"], result["jump"].tolist()
    (['conv1', 'max_pool2'], [[1, 1], [4, 4]])
    >>> bool(np.allclose(result["similarity"], 1.0, atol=1e-5))
    True
    """
    model = _graph.image_model(model)
    chosen = _spatial_layers(model, layers)
    names = [name for name, _ in chosen]
    jumps = np.array([field.jump for _, field in chosen], dtype=np.int64)
    by_jump: dict[tuple[int, int], list[int]] = {}
    for i, jump in enumerate(map(tuple, jumps.tolist())):
        by_jump.setdefault(jump, []).append(i)
    batches = _batches.source(model, images, steps=steps)
    rows = _batches.Rows(batches.count, "images", "similarities")
    for x, _ in batches:
        original = layer_outputs(model, x, names)
        _comparable(names, jumps, original, x.shape[1:3])
        similarity = np.empty((len(x), len(names)))
        for (jy, jx), members in by_jump.items():
            moved = layer_outputs(model, shift_images(x, jy, jx), [names[i] for i in members])
            for i in members:
                a = moved[names[i]][:, 1:, 1:]
                b = original[names[i]][:, :-1, :-1]
                similarity[:, i] = _cosine(a, b)
        rows.add(similarity)
    per_image = rows.result()
    return {
        "layers": names,
        "jump": jumps,
        "similarity": per_image.mean(axis=0),
        "per_image": per_image,
    }


def pixel_paths(
    model: keras.Model, layer: str | int, *, image_size: tuple[int, int] | None = None
) -> np.ndarray:
    """Return, for each input pixel, the number of paths into all units of `layer`.

    A path runs along the network's spatial connections, one kernel tap or
    pooling-window cell per layer, channels not counted (Alsallakh et al.,
    "Mind the Pad", ICLR 2021). A ``valid`` 5x5 convolution of a 28x28
    image reads a corner pixel once, a pixel in the middle of an edge 5
    times and a central pixel 25 times: border pixels have fewer ways to
    reach the output, whatever the weights. ``same`` padding reads every
    pixel more evenly (9 at a corner for 5x5), its padding taking the
    missing taps. A border of the image's own pixels
    (:class:`~cnnviz.Padding2D`) hands each padded tap to the pixel it
    copies: mirrored, the pixels next to the edge gain the paths the
    padding takes from ``same``; wrapped (``circular``), every pixel of an
    image whose size the strides divide has the same count. Merges (``Add``, ``Concatenate``) add their inputs'
    paths; a layer that mixes every position (global pooling with
    ``keepdims=True``) connects each unit to all of them.

    Parameters
    ----------
    model : keras.Model
        Any Keras image model with one input: functional, Sequential or
        nested; the layers on the way are those
        :func:`~cnnviz.receptive_field` follows.
    layer : str or int
        The layer's name (nested models' layers included) or index into
        ``model.layers``; its output must be feature maps.
    image_size : tuple of int, optional
        ``(height, width)``, for a model that takes images of any size.

    Returns
    -------
    numpy.ndarray
        int64 (H, W): each pixel's paths (0 for a pixel no unit reads);
        float64, rounded, where a count passes 2**53 (a deep network).

    Raises
    ------
    TypeError, ValueError
        As for :func:`~cnnviz.receptive_box`.

    Examples
    --------
    >>> from cnnviz import lenet5, pixel_paths
    >>> paths = pixel_paths(lenet5("valid"), "conv1")
    >>> int(paths[0, 0]), int(paths[0, 14]), int(paths[14, 14])
    (1, 5, 25)
    >>> int(pixel_paths(lenet5("same"), "conv1")[0, 0])
    9
    """
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    size = _geometry._image_size(
        model, image_size, "the paths depend on the images' size (their border clips them)"
    )
    given = "image_size" if image_size is not None else "images"
    paths = _geometry._paths(model, parts, size, given)
    if paths.max(initial=0) < 2**53:
        return np.rint(paths).astype(np.int64)
    return paths
