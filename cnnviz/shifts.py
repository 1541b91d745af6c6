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

import itertools
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

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


# Layers whose every output unit is computed from one window of their input, the same way at
# every position (channels last): on a chain of them from the input, the output for images
# moved within a zero frame is, away from the border, a cut of the output for the framed
# images: the computation the shifts share. Exact types: a subclass may compute something else.
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


def _shareable(layer: object) -> bool:
    """Return whether the shifts can share `layer`'s computation (see ``_POINTWISE``)."""
    kind = type(layer)
    activation = getattr(layer, "activation", None)
    if activation is not None and not any(activation is own for own in _OWN_ACTIVATIONS):
        return False
    if kind is keras.layers.BatchNormalization:
        return layer.axis in (-1, 3)
    if kind in _geometry._WINDOWED:
        return layer.data_format == "channels_last"
    return kind in _POINTWISE


def _chain_ops(chain: list, size: tuple[int, int], memo: dict | None = None) -> list | None:
    """Return the chain's `_geometry` ops per layer (rows, columns) on images of `size`.

    None if a map of the chain is empty at that size. `memo` keeps each layer's ops per
    input size for one choice of the shared layers: reading a layer's settings
    (``get_config``) was most of the 3 s that choice took for a 224x224 model.
    """
    ops = []
    for layer in chain:
        if memo is None:
            pair = _geometry._ops(layer, size, layer.name)
        else:
            key = (id(layer), size)
            if key not in memo:
                memo[key] = _geometry._ops(layer, size, layer.name)
            pair = memo[key]
        size = (pair[0].size, pair[1].size)
        if min(size) < 1:
            return None
        ops.append(pair)
    return ops


def _wrong(ops: list, n: int, low_bad: bool, high_bad: bool, *, framed: bool) -> np.ndarray:
    """Along one axis: which units at the chain's end may differ from the true ones.

    The chain ran on other images than the true ones, [0, n) of the axis: the framed
    images (`framed`), of which they are a part, or a strip of them, whose padding
    stands in for pixels at one end. A unit differs where it reads, at some layer, a
    unit that differs or a position outside [0, n) whose value is not the padding the
    true run reads there: so below (`low_bad`) or above (`high_bad`) the images. The
    framed images' values outside, zeros on the side a shift moved away from, are past
    the first layer that layer's outputs, never known to be its padding; a strip's
    padding is the true run's at its end of the images at every layer. (The caller says
    whether the first layer's padding is zeros at all: a pooling's is not.)
    """
    wrong = np.zeros(n, dtype=bool)
    for op in ops:
        if op.kind == "taps":
            reads = np.arange(op.size)[:, None] * op.stride - op.before + np.array(op.offsets)[None]
            inside = (reads >= 0) & (reads < n)
            outside = ((reads < 0) & low_bad) | ((reads >= n) & high_bad)
            wrong = np.where(inside, wrong[np.clip(reads, 0, n - 1)], outside).any(axis=1)
            n = op.size
        if framed:
            low_bad = high_bad = True
    return wrong


def _befores(ops: list, axis: int) -> list:
    return [pair[axis].before for pair in ops]


def _bands(
    chain: list, frame: list, canvas: list, image: tuple, jump: tuple, memo: dict | None = None
) -> tuple | None:
    """Return how to mend the border units of the chain's cut output, per axis, or None.

    Per axis: ``wrong[sign + 1] = (low, high)``, the units at the low and high end that
    may differ from the true ones for shifts of that sign, and the strip of the shifted
    images whose run of the chain gives them: ``(low strip, high strip)`` lengths.
    None when the border cannot be mended (or the framed images' run does not line up).
    """
    # The frame's zeros stand in for the first layer's padding only where that padding is
    # zeros: a pooling leaves its padding out (a max of negative values is not 0, and an
    # average counts only the pixels), so there the frame is never its padding.
    zeros = type(chain[0]) not in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    plan = []
    for axis in range(2):
        n, out = image[axis], frame[-1][axis].size
        if _befores(canvas, axis) != _befores(frame, axis):
            return None
        wrong = []
        for sign in (-1, 0, 1):
            # Images moved down (sign 1) are framed above by zeros; moved up, below.
            low_bad, high_bad = sign < 0 or not zeros, sign > 0 or not zeros
            mask = _wrong([pair[axis] for pair in frame], n, low_bad, high_bad, framed=True)
            low = int(np.argmin(mask)) if not mask.all() else out
            high = int(np.argmin(mask[::-1])) if not mask.all() else out
            if low + high >= out or mask[low : out - high].any():
                return None
            wrong.append((low, high))
        need_low, need_high = max(w[0] for w in wrong), max(w[1] for w in wrong)
        strips, gots = [], []
        for side, need in (("low", need_low), ("high", need_high)):
            found = (
                (0, 0) if need == 0 else _strip(chain, frame, image, jump, axis, side, need, memo)
            )
            if found is None:
                return None
            strips.append(found[0])
            gots.append(found[1])
        plan.append((tuple(wrong), tuple(strips), tuple(gots)))
    return tuple(plan)


def _strip(chain, frame, image, jump, axis, side, need, memo=None) -> tuple[int, int] | None:
    """Return the shortest strip that mends the `need` units at one end, and its output's length.

    The strip is the `side` end of the images along `axis`: its run of the chain must
    give the `need` end units of the images' own run (the same padding before every
    layer, whole jumps from the images' start, and no padding of its own read there).
    """
    n = image[axis]
    for r in range(1, n + 1):
        if side == "high" and (n - r) % jump[axis]:
            continue
        size = (r, image[1]) if axis == 0 else (image[0], r)
        ops = _chain_ops(chain, size, memo)
        if ops is None or _befores(ops, axis) != _befores(frame, axis):
            continue
        # No map of one unit the true run has not: TensorFlow 2.21's CPU Conv2D gives
        # garbage for one output column with a column stride, one input channel and
        # more than one image (mending LeNet-like models with strides=(1, 2)).
        if any(
            mine[axis].size < min(2, true[axis].size) for mine, true in zip(ops, frame, strict=True)
        ):
            continue
        got = ops[-1][axis].size
        if side == "low":
            mask = _wrong([pair[axis] for pair in ops], r, False, True, framed=False)
            if got >= need and not mask[:need].any():
                return r, got
        elif all(  # at every layer, the strip's units are the images' last ones
            pair[axis].size + (n - r) // step == whole[axis].size
            for pair, whole, step in zip(
                ops, frame, np.cumprod([pair[axis].stride for pair in frame]), strict=True
            )
        ):
            mask = _wrong([pair[axis] for pair in ops], r, True, False, framed=False)
            if got >= need and not mask[got - need :].any():
                return r, got
    return None


def _shared_prefix(model: keras.Model, m: int, image_shape: tuple) -> tuple | None:
    """Return how shift_accuracy shares the model's first layers across shifts, or None.

    The model's first layers, from the input along a chain (each read by the next
    alone), that :func:`_shareable` admits, up to the layer where sharing saves the
    most: (the chain up to it, as a :class:`_Chain`, the model after it, the layer's
    jump per axis, its output size, the border plan of :func:`_bands`). Images moved
    by (dy, dx) are a window of the images framed by m zeros: a unit of the layer that
    reads no padding on the way reads the same pixels in both, so its output for the
    moved images is a cut of its output for the framed ones, where the framed images
    start at the same offset modulo the jump (the phase). The units near the border
    that read padding (``same``) are run again on a strip of the moved images. The
    chain runs once per phase, at most (2m + 1)^2 times, and the rest once per shift.
    """
    declared = tuple(model.inputs[0].shape[1:3])
    if None in declared or tuple(image_shape[:2]) != declared:
        return None
    return _graph.cached(model, "shift_prefix", m, lambda: _choose_prefix(model, m))


def _macs(chain: list, ops: list, channels: list[int]) -> list[float]:
    """Per chain layer: its multiply-adds per image, by the sizes of `ops`.

    `channels` are the input's channels and then every chain layer's.
    """
    rows = []
    for layer, (rows_op, columns_op), (before, out) in zip(
        chain, ops, itertools.pairwise(channels), strict=False
    ):
        taps = len(rows_op.offsets) * len(columns_op.offsets)
        if type(layer) is keras.layers.Conv2D:
            taps *= before // layer.groups
        rows.append(float(rows_op.size * columns_op.size * out * taps))
    return rows


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
    chain, current, channels = [], x, [int(x.shape[-1])]
    while readers.get(id(current)) == 1 and id(current) not in outputs:
        layer, _, out = next(call for call in calls if call[1] is current)
        if not _shareable(layer) or trace.counts[id(layer)] != 1 or len(out.shape) != 4:
            break
        chain.append(layer)
        channels.append(int(out.shape[-1]))
        current = out
    image = tuple(int(n) for n in x.shape[1:3])
    side = 2 * m + 1
    memo: dict = {}
    plain_ops = _chain_ops(chain, image, memo) or []
    plain = _macs(chain, plain_ops, channels)
    best, cost = None, side * side * sum(plain)
    for k in range(len(plain_ops)):
        frame = plain_ops[: k + 1]
        canvas = _chain_ops(chain[: k + 1], (image[0] + 2 * m, image[1] + 2 * m), memo)
        if canvas is None:
            break
        jump = (
            int(np.prod([pair[0].stride for pair in frame])),
            int(np.prod([pair[1].stride for pair in frame])),
        )
        bands = _bands(chain[: k + 1], frame, canvas, image, jump, memo)
        if bands is None:
            continue
        phases = min(jump[0], side) * min(jump[1], side)
        total = phases * sum(_macs(chain, canvas, channels)) + side * side * sum(plain[k + 1 :])
        total += _mending_cost(chain[: k + 1], bands, image, m, jump, channels, memo)
        # Every shift's cut is copied into the pass and read by the next layer.
        total += side * side * _MOVE * frame[-1][0].size * frame[-1][1].size * channels[k + 1]
        if total < cost:
            best, cost = (k, jump, bands), total
    if best is None:
        return None
    k, jump, bands = best
    name = chain[k].name
    try:
        rest = _graph.tail(model, _graph.split(model, name))
    except ValueError:
        return None
    size = (plain_ops[k][0].size, plain_ops[k][1].size)
    return _Chain(chain[: k + 1], model.inputs[0].dtype, {}), rest, jump, size, bands


@dataclass(frozen=True)
class _Chain:
    """The shared layers, run as one Keras model per shape of the images they are given.

    A model per shape (the framed images, the strips of each axis, the corners), each
    with its compiled step for that shape. (TensorFlow counts the traces of all Keras
    models' steps together and may warn of retracing, at most twice per process, when a
    first call builds several of them; it is harmless.)
    """

    layers: list
    dtype: object
    models: dict

    def model(self, shape: tuple[int, int, int]) -> keras.Model:
        with _CHAIN_LOCK:
            if shape not in self.models:
                inputs = keras.Input(shape, dtype=self.dtype)
                h = inputs
                for layer in self.layers:
                    h = layer(h)
                self.models[shape] = keras.Model(inputs, h, name=f"to_{self.layers[-1].name}")
            return self.models[shape]


_CHAIN_LOCK = threading.Lock()


# What moving one value of a cut costs, in multiply-adds: a guess that picks, for LeNet-5
# (same), the cut after the pooling (a quarter of the values) over the one before it.
_MOVE = 4


def _mending_cost(chain, bands, image, m, jump, channels, memo=None) -> float:
    """Return the multiply-adds per image of the strips that mend the cuts of every shift."""
    side, total, costs = 2 * m + 1, 0.0, {}
    framed = (image[0] + 2 * m, image[1] + 2 * m)
    # Shifts by sign (-1, 0, 1) along an axis: m, 1 and m of them. A strip's cost depends on
    # its size alone, so each is counted once and multiplied: one cost per shift took
    # seconds for LeNet-5 (same) at m=6 and minutes for larger images and shifts.
    counts = {-1: m, 0: 1, 1: m}

    def cost(size):
        if size not in costs:
            costs[size] = sum(_macs(chain, _chain_ops(chain, size, memo), channels))
        return costs[size]

    for axis in range(2):
        wrong, strips, _ = bands[axis]
        other = min(jump[1 - axis], side)  # the other axis' phases: one strip each
        for end in (0, 1):
            shifts = sum(n for sign, n in counts.items() if wrong[sign + 1][end])
            if shifts:
                size = list(framed)
                size[axis] = strips[end]
                total += shifts * other * cost(tuple(size))
    for e0, e1 in itertools.product((0, 1), repeat=2):
        pairs = sum(
            n0 * n1
            for (s0, n0), (s1, n1) in itertools.product(counts.items(), repeat=2)
            if bands[0][0][s0 + 1][e0] and bands[1][0][s1 + 1][e1]
        )
        if pairs:
            total += pairs * cost((bands[0][1][e0], bands[1][1][e1]))
    return total


def _run(chain: _Chain, images: list[np.ndarray]) -> list[np.ndarray]:
    """Return the chain's outputs for each array of images (all of one shape), in order.

    Several arrays share one pass where they fit in one chunk.
    """
    first = chain.model(images[0].shape[1:])
    chunk = _batches.chunk_size(first, images[0].shape[1:])
    per_pass = max(1, chunk // len(images[0]))
    out = []
    for start in range(0, len(images), per_pass):
        group = images[start : start + per_pass]
        batch = group[0] if len(group) == 1 else np.concatenate(group)
        maps = [_graph.predict(first, batch[i : i + chunk]) for i in range(0, len(batch), chunk)]
        out.extend(np.split(maps[0] if len(maps) == 1 else np.concatenate(maps), len(group)))
    return out


def _regions(bands: tuple, shift: tuple[int, int]) -> list[tuple]:
    """Return the regions the cut for `shift` is made of, in the order they are laid.

    A region is a part per axis: None (the whole axis, from the framed images) or the
    end (0: low, 1: high) whose wrong units a strip mends. The whole cut first, then
    the bands along one axis, then the corners where two bands meet.
    """
    parts = []
    for axis in range(2):
        wrong = bands[axis][0][int(np.sign(shift[axis])) + 1]
        parts.append([end for end in (0, 1) if wrong[end]])
    return (
        [(None, None)]
        + [(end, None) for end in parts[0]]
        + [(None, end) for end in parts[1]]
        + [(e0, e1) for e0 in parts[0] for e1 in parts[1]]
    )


def _shared_passes(
    model: keras.Model, shared: tuple, x: np.ndarray, m: int, grid: list[tuple[int, int]]
):
    """Yield (grid indices, probabilities): the shared chain once per phase, the rest per shift.

    Each region of each shift's cut (see :func:`_regions`) is the chain's output for a
    piece of the framed images: along an axis a region spans whole, the framed images
    at the shift's phase (shared by every shift of that phase); along an axis it mends,
    the strip of the moved images at that end (shared by the shifts moved as far along
    it). Every piece runs once.
    """
    chain, rest, jump, out, bands = shared
    image = x.shape[1:3]
    # Framed by m zeros, and by jump - 1 more at the bottom and right, so that the framed
    # images of every phase have one size (one compiled step); no unit cut reads them.
    framed = np.pad(x, ((0, 0), (m, m + jump[0] - 1), (m, m + jump[1] - 1), (0, 0)))

    def along(axis: int, part: int | None, d: int) -> tuple:
        """Return the piece along `axis` and where its output goes.

        As (its key, its slice of `framed`, the part of its output taken, where in the
        cut that part is put).
        """
        n, size, phase = image[axis], out[axis], (m - d) % jump[axis]
        if part is None:
            top = (m - d - phase) // jump[axis]
            whole = slice(0, size)
            return ("all", phase), slice(phase, phase + n + 2 * m), slice(top, top + size), whole
        wrong = bands[axis][0][int(np.sign(d)) + 1][part]
        strip = bands[axis][1][part]
        start = m - d + (0 if part == 0 else n - strip)
        got = bands[axis][2][part]
        taken = slice(0, wrong) if part == 0 else slice(got - wrong, got)
        put = slice(0, wrong) if part == 0 else slice(size - wrong, size)
        return (part, d), slice(start, start + strip), taken, put

    phases: dict[tuple[int, int], list[int]] = {}
    for i, (dy, dx) in enumerate(grid):
        phases.setdefault(((m - dy) % jump[0], (m - dx) % jump[1]), []).append(i)
    channels = int(rest.inputs[0].shape[-1])
    per_pass = max(1, _batches.chunk_size(rest, (*out, channels)) // len(x))
    buffer = None  # the cuts of one pass, made once: no fresh pages per pass
    for members in phases.values():
        plans = {i: [] for i in members}
        pieces: dict[tuple, tuple] = {}
        for i in members:
            for region in _regions(bands, grid[i]):
                rows = along(0, region[0], grid[i][0])
                columns = along(1, region[1], grid[i][1])
                key = (rows[0], columns[0])
                pieces[key] = (rows[1], columns[1])
                plans[i].append((key, rows[2:], columns[2:]))
        # The pieces of one shape run together.
        shapes: dict[tuple, list] = {}
        for key, (rows, columns) in pieces.items():
            shapes.setdefault((rows.stop - rows.start, columns.stop - columns.start), []).append(
                key
            )
        maps = {}
        for keys in shapes.values():
            images = [framed[:, pieces[key][0], pieces[key][1]] for key in keys]
            maps.update(zip(keys, _run(chain, images), strict=True))
        # Several shifts per pass, as many as the chunk policy lets `rest` take: a pass of
        # one chunk of images was a quarter slower per image for LeNet-5 (same) than two.
        n = len(x)
        for start in range(0, len(members), per_pass):
            group = members[start : start + per_pass]
            if buffer is None or len(buffer) != len(group) * n:
                buffer = np.empty((len(group) * n, *out, channels), dtype=np.float32)
            for slot, i in enumerate(group):
                (key, (taken_r, _), (taken_c, _)), *mends = plans[i]
                cut = buffer[slot * n : (slot + 1) * n]
                cut[...] = maps[key][:, taken_r, taken_c]
                for key, (taken_r, put_r), (taken_c, put_c) in mends:
                    cut[:, put_r, put_c] = maps[key][:, taken_r, taken_c]
            yield np.array(group), _graph.predict(rest, buffer)


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
    begins with convolutions and poolings (and layers that act on each
    position alone), their output for a shifted image is a cut of their
    output for the image framed by m zeros: they run once per phase of
    their stride (4 for LeNet-5 ``valid``, up to relu2) instead of once per
    shift, and only the rest of the model runs per shift. With ``same``
    padding the units near the border, which read padding where the framed
    image holds the pixels the shift pushed out, are run again on strips of
    the shifted images (LeNet-5 ``same``: up to max_pool1, one pooled row
    and column from strips 4 pixels wide). Both ways give the same classes
    and probabilities up to float rounding.

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
