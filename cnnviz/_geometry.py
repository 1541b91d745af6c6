"""Receptive-field geometry: which input pixels a unit of a layer sees (private).

Computed from the layers between the input and the layer, in the flat graph
of cnnviz's one walk of a model (``cnnviz._graph``); shared by
:mod:`~cnnviz.channels.fields` (the public functions),
:mod:`~cnnviz.channels.dataset_views` (the boxes of the top patches) and
:mod:`~cnnviz.attribution.methods` (where Grad-CAM places a layer's cells), so
it sits beside ``_graph``, not inside either package.

Three answers come out of one walk back from the layer:

- the field's size and jump (CS231n's rule), which need no image size;
- where each unit's field is centred (its start, before any clipping, plus
  half its size; Araujo et al., 2019), which needs the image size where
  ``same`` padding with a stride depends on it;
- each unit's box: the exact bounding box of the input pixels that the unit's
  computation reads, which needs the image size (the border clips the field,
  and a dilated or strided window reaches only some of the pixels it spans).

Every layer on the way is one of: a window (convolutions, poolings, and
padding and cropping as windows of one tap; cnnviz's ``Padding2D``, whose
border is made of real pixels, as a window of one tap at the position each
padded one copies), a nearest upsampling, a layer
that works per position (activations, batch normalization at inference, a
``Dense`` layer on the channel axis, dropout, ...), a layer that mixes every
position along an axis (a ``LayerNormalization`` or ``Softmax`` over a
spatial axis, global pooling that keeps its axes), or a merge of maps of one
size (``Add``, ``Concatenate`` on the channel axis, ...). Anything else is
refused with the reason.

The boxes are exact: along each axis a unit reads a set of positions of the
layer before, and the pixels it sees are the union of what those positions
see. A map is kept as products of one interval per row and one per column
(a merge adds products; those that are empty in the same places are joined
without loss), so a unit that only reads padding sees nothing, and a
dilated unit at the border does not claim the pixels between its taps.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from . import _checks, _graph
from .layers import Padding2D
from .models import same_padding

# Layers whose output at a position depends on their input at that position only (at
# inference: dropout and noise do nothing, batch normalization uses its moving statistics,
# a random augmentation layer passes its input through).
_PER_POSITION = (
    keras.layers.InputLayer,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.BatchNormalization,
    keras.layers.Dropout,  # SpatialDropout2D, GaussianDropout, AlphaDropout... are its kin
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.Rescaling,
    keras.layers.Normalization,
    keras.layers.Identity,
    keras.layers.ActivityRegularization,
    keras.layers.Dense,  # on a 4-D input it multiplies the channel axis, at every position
    keras.layers.RandomFlip,
    keras.layers.RandomRotation,
    keras.layers.RandomZoom,
    keras.layers.RandomTranslation,
    keras.layers.RandomContrast,
    keras.layers.RandomBrightness,
)
# Layers with an `axis` setting: per position when it names the channel axis only.
_ALONG_AXES = (
    keras.layers.LayerNormalization,
    keras.layers.Softmax,
    keras.layers.UnitNormalization,
)
# Layers that slide a window: their config has the window, strides, padding (and dilation).
_WINDOWED = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)
# Merges of maps of one size: each output position reads that position of every input.
_MERGES = (
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
    keras.layers.Concatenate,
)
_KNOWN = (
    "convolutions, poolings, padding, cropping, nearest upsampling, merges of maps of one "
    "size and layers that work per position"
)
_EMPTY = 2**40  # an empty interval is (_EMPTY, -_EMPTY)


@dataclass(frozen=True)
class _Op:
    """What one layer does along one spatial axis.

    ``"taps"``: output position o reads input positions ``o * stride - before + offsets``
    (those inside the input), or, where `index` is given (a border of the image's own
    pixels, :class:`~cnnviz.Padding2D`), the one position ``index[o]``; ``"repeat"``: o
    reads ``o // factor``; ``"all"``: every position reads every input position;
    ``"same"``: o reads o.
    """

    kind: str
    size: int | None  # the output's length along the axis (None: unknown, an open size)
    offsets: tuple[int, ...] = (0,)
    stride: int = 1
    before: int | None = 0  # None: depends on an input size that is open
    factor: int = 1
    # Where a padded position reads a real one (mirrored, wrapped): the position o reads.
    # None where the input's size is open; the size, jump and start then follow `before`,
    # the window as if the border were zeros.
    index: tuple[int, ...] | None = None


@dataclass(frozen=True)
class _Field:
    """The receptive fields of one layer's units.

    Along axis a (0: rows, 1: columns), unit i's field starts at ``start[a] + i * jump[a]``
    and spans ``size[a]`` pixels before any clipping; ``why`` says why a size and jump do
    not describe the fields, where they do not. ``terms`` (None without an image size)
    hold the exact boxes: per term, (top, bottom) per output row and (left, right) per
    output column; unit (i, j)'s box bounds the terms that are non-empty at both.
    """

    start: tuple[int | None, int | None]
    jump: tuple[int, int]
    size: tuple[int, int]
    why: str | None
    output: tuple[int | None, int | None]  # the layer's output height and width
    image: tuple[int | None, int | None]  # the input's height and width
    terms: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...] | None


def _pair(value: object) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def _channels_last(layer: keras.layers.Layer, config: dict) -> None:
    if config.get("data_format", "channels_last") != "channels_last":
        raise ValueError(
            f"layer {layer.name!r} has data_format={config['data_format']!r}; receptive fields "
            "are computed for channels_last layers only"
        )


def _axes(layer: keras.layers.Layer, value: object) -> set[int]:
    axes = [value] if np.ndim(value) == 0 else list(value)
    return {int(a) % 4 for a in axes}


def _ops(layer: keras.layers.Layer, sizes: tuple[int | None, int | None], target: str):
    """Return the layer's `_Op` along rows and columns, or raise why it cannot be followed.

    `sizes` are the input's height and width (None where open).
    """
    config = layer.get_config()
    kind = type(layer).__name__
    if isinstance(layer, _PER_POSITION):
        return _Op("same", sizes[0]), _Op("same", sizes[1])
    if isinstance(layer, _ALONG_AXES):
        axes = _axes(layer, config["axis"])
        if 0 in axes:
            raise ValueError(
                f"layer {layer.name!r} ({kind}) on the way to {target!r} works along the "
                "batch axis, so a unit depends on the other images; receptive fields are "
                "per image"
            )
        return tuple(
            _Op("all", sizes[a]) if a + 1 in axes else _Op("same", sizes[a]) for a in range(2)
        )
    if isinstance(layer, keras.layers.GroupNormalization):
        # Its statistics run over the height and width (and a group of channels).
        return _Op("all", sizes[0]), _Op("all", sizes[1])
    if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
        _channels_last(layer, config)
        return _Op("all", 1), _Op("all", 1)  # feature maps only with keepdims=True
    if isinstance(layer, _WINDOWED):
        _channels_last(layer, config)
        window = _pair(config["pool_size"] if "pool_size" in config else config["kernel_size"])
        strides = _pair(config["strides"] if config.get("strides") is not None else window)
        dilation = _pair(config.get("dilation_rate", 1))
        ops = []
        for a in range(2):
            span = dilation[a] * (window[a] - 1) + 1
            n, s = sizes[a], strides[a]
            if config["padding"] == "same":
                out = None if n is None else -(-n // s)
                if n is not None:
                    before = same_padding(n, span, s)[0]
                else:  # with a stride of 1 the padding does not depend on the size
                    before = (span - 1) // 2 if s == 1 else None
            else:
                out = None if n is None else (n - span) // s + 1
                before = 0
            offsets = tuple(range(0, span, dilation[a]))
            ops.append(_Op("taps", out, offsets, s, before))
        return tuple(ops)
    if isinstance(layer, Padding2D):
        # Its border is made of real pixels: a padded position reads the one NumPy's
        # np.pad would copy (mirrored or wrapped), so boxes and pixel paths follow the
        # pixels actually read; the field's size, jump and start (where it is centred)
        # are those of the window, as for zeros.
        mode = "reflect" if layer.mode == "reflect" else "wrap"
        ops = []
        for a in range(2):
            first, last = layer.padding[a]
            n = sizes[a]
            if n is None:
                ops.append(_Op("taps", None, (0,), 1, first))
                continue
            index = np.pad(np.arange(n), (first, last), mode=mode)
            ops.append(_Op("taps", len(index), (0,), 1, first, index=tuple(int(i) for i in index)))
        return tuple(ops)
    if isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
        _channels_last(layer, config)
        padding = isinstance(layer, keras.layers.ZeroPadding2D)
        edges = config["padding"] if padding else config["cropping"]
        sign = 1 if padding else -1
        ops = []
        for a in range(2):
            first, last = (int(e) for e in edges[a])
            out = None if sizes[a] is None else sizes[a] + sign * (first + last)
            ops.append(_Op("taps", out, (0,), 1, sign * first))
        return tuple(ops)
    if isinstance(layer, keras.layers.UpSampling2D):
        _channels_last(layer, config)
        if config["interpolation"] != "nearest":
            raise ValueError(
                f"layer {layer.name!r} (UpSampling2D) on the way to {target!r} interpolates "
                f"({config['interpolation']!r}), so which input pixels reach a unit depends "
                "on where it falls between them; cnnviz follows interpolation='nearest' only"
            )
        factor = _pair(config["size"])
        return tuple(
            _Op("repeat", None if sizes[a] is None else sizes[a] * factor[a], factor=factor[a])
            for a in range(2)
        )
    if isinstance(
        layer,
        (keras.layers.Flatten, keras.layers.Reshape, keras.layers.Permute),
    ):
        raise ValueError(  # noqa: TRY004 (the model's structure, not an argument's type)
            f"layer {layer.name!r} ({kind}) on the way to {target!r} rearranges the positions "
            "of its input, so a unit after it is no window of the image; receptive fields "
            "are computed where the positions stay in place"
        )
    if isinstance(layer, (keras.layers.MultiHeadAttention, keras.layers.Attention)):
        raise ValueError(  # noqa: TRY004
            f"layer {layer.name!r} ({kind}) on the way to {target!r} is an attention layer: "
            "its output mixes the positions of inputs that cnnviz's walk does not follow, so "
            "which pixels reach a unit cannot be known from it"
        )
    raise ValueError(
        f"layer {layer.name!r} is a {kind}, which cnnviz cannot follow back to the input "
        f"pixels on the way to {target!r} (it knows {_KNOWN})"
    )


# --- along one axis: the exact intervals, and the size and jump --------------------------------


def _taps(op: _Op) -> np.ndarray:
    """Return (output positions, taps) int: the input positions each output position reads."""
    o = np.arange(op.size)[:, np.newaxis]
    if op.kind == "repeat":
        return o // op.factor
    if op.index is not None:
        return np.array(op.index)[:, np.newaxis]
    return o * op.stride - op.before + np.array(op.offsets)[np.newaxis, :]


def _intervals(op: _Op, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map per-position input intervals [lo, hi) through `op` (empty where lo > hi)."""
    n_in = len(lo)
    if op.kind == "same":
        return lo, hi
    if op.kind == "all":
        return np.full(op.size, lo.min()), np.full(op.size, hi.max())
    taps = _taps(op)
    inside = (taps >= 0) & (taps < n_in)
    taps = np.clip(taps, 0, max(n_in - 1, 0))
    return (
        np.where(inside, lo[taps], _EMPTY).min(axis=1),
        np.where(inside, hi[taps], -_EMPTY).max(axis=1),
    )


def _joined(terms: list) -> list:
    """Join the terms that are empty at the same rows and columns: their union's box is exact."""
    by_pattern: dict[bytes, list] = {}
    for rlo, rhi, clo, chi in terms:
        key = np.packbits(rlo < rhi).tobytes() + b"|" + np.packbits(clo < chi).tobytes()
        if key in by_pattern:
            old = by_pattern[key]
            by_pattern[key] = [
                np.minimum(old[0], rlo),
                np.maximum(old[1], rhi),
                np.minimum(old[2], clo),
                np.maximum(old[3], chi),
            ]
        else:
            by_pattern[key] = [rlo, rhi, clo, chi]
    return [tuple(term) for term in by_pattern.values()]


@dataclass(frozen=True)
class _Affine:
    """Along one axis: unit i's field starts at ``start + i * jump`` and spans ``size``."""

    start: int | None  # None: depends on an input size that is open
    jump: int
    size: int
    why: str | None = None  # why a size and jump do not describe the fields


def _affine(op: _Op, field: _Affine, layer: keras.layers.Layer, axis: int) -> _Affine:
    if field.why or op.kind == "same":
        return field
    if op.kind == "all":
        what = "a spatial axis" if op.size != 1 else "every position (global pooling)"
        return _Affine(
            None,
            0,
            0,
            f"layer {layer.name!r} ({type(layer).__name__}) mixes {what}: every unit after it "
            f"sees the whole image along the {('rows', 'columns')[axis]}",
        )
    if op.kind == "repeat":
        return _Affine(
            None,
            0,
            0,
            f"after layer {layer.name!r} (UpSampling2D) neighbouring units share one field, so "
            "the fields are not one jump apart",
        )
    start = None if field.start is None or op.before is None else field.start
    if start is not None:
        start -= op.before * field.jump
    return _Affine(start, field.jump * op.stride, field.size + max(op.offsets) * field.jump)


def _merged(fields: list[_Affine], layer: keras.layers.Layer, axis: int) -> _Affine:
    """Return the field along one axis of a merge: the union of its inputs' fields."""
    for field in fields:
        if field.why:
            return field
    if all(field == fields[0] for field in fields):
        return fields[0]
    why = None
    if len({field.jump for field in fields}) > 1:
        why = "its inputs' fields are different numbers of pixels apart"
    elif any(field.start is None for field in fields):
        why = "where its inputs' fields start depends on the input size, which is open"
    if why:
        return _Affine(
            None,
            0,
            0,
            f"layer {layer.name!r} ({type(layer).__name__}) merges maps whose fields differ "
            f"along the {('rows', 'columns')[axis]}: {why}",
        )
    start = min(field.start for field in fields)
    end = max(field.start + field.size for field in fields)
    return _Affine(start, fields[0].jump, end - start)


# --- the walk ----------------------------------------------------------------------------------


def _field(
    model: keras.Model,
    parts: _graph.Split,
    image: tuple[int, int] | None = None,
    given: str = "images",
    *,
    boxes: bool = True,
    steps: list | None = None,
) -> _Field:
    """Compute the receptive fields of `parts`' layer, walking back to the input.

    `image` is the input's height and width where the model's own is open (None);
    without either, or without `boxes`, the boxes are not computed (``terms`` is None):
    the size, jump and start need none. `given` names the argument the size came from,
    for the message if it is too small: ``"images"`` or ``"image_size"``. A list given as
    `steps` receives the layers on the way, inputs before the layers that read them (for
    :func:`_paths`): ``(input ids, output id, ops or None for a merge, input sizes)``.
    """
    _graph.channel_count(parts, spatial=True)
    x, _, trace = _graph.trace(model)
    static = tuple(None if n is None else int(n) for n in x.shape[1:3])
    if image is None and None not in static:
        image = static
    producers: dict[int, tuple[keras.layers.Layer, object]] = {}
    for layer, inputs, output in trace.calls.values():
        # The first producer wins: a nested model's layers are recorded before the model.
        producers.setdefault(id(output), (layer, inputs))
    memo: dict[int, tuple] = {}

    def walk(tensor) -> tuple:
        """Return (sizes, affine per axis, terms or None) of `tensor`."""
        if tensor is x:
            sizes = image if image is not None else static
            affine = (_Affine(0, 1, 1), _Affine(0, 1, 1))
            terms = None
            if image is not None and boxes:
                rows, cols = np.arange(image[0]), np.arange(image[1])
                terms = [(rows, rows + 1, cols, cols + 1)]
            return sizes, affine, terms
        if id(tensor) in memo:
            return memo[id(tensor)]
        if id(tensor) not in producers:
            # The trace keeps a shared layer's last call only: its other calls' outputs
            # have no producer.
            shared = [
                layer.name for key, (layer, _, _) in trace.calls.items() if trace.counts[key] > 1
            ]
            because = (
                f": the way back passes a layer called more than once ({', '.join(shared)}), "
                "whose calls cnnviz cannot tell apart"
                if shared
                else ""
            )
            raise ValueError(
                f"layer {parts.name!r} cannot be traced back to the model's input{because}"
            )
        layer, inputs = producers[id(tensor)]
        if isinstance(inputs, (list, tuple, dict)):
            result = merge(layer, inputs, tensor)
        else:
            result = follow(layer, inputs, tensor)
        memo[id(tensor)] = result
        return result

    def follow(layer, inputs, tensor) -> tuple:
        sizes, affine, terms = walk(inputs)
        ops = _ops(layer, sizes, parts.name)
        out_sizes = tuple(op.size for op in ops)
        if any(n is not None and n < 1 for n in out_sizes):
            # Said of the images' size, which is what the caller gave: `sizes` are the
            # layer's input, which is the images' size only for a first layer.
            height, width = image if image is not None else static
            what = (
                f"image_size={(height, width)!r} is"
                if given == "image_size"
                else f"images of {height}x{width} pixels are"
            )
            raise ValueError(
                f"{what} too small for layer {layer.name!r} ({type(layer).__name__}) on the "
                f"way to {parts.name!r}: its input would be {sizes[0]}x{sizes[1]} and its "
                f"output {out_sizes[0]}x{out_sizes[1]}"
            )
        expected = tuple(tensor.shape[1:3]) if len(tensor.shape) == 4 else None
        if expected is None or any(
            e is not None and o is not None and int(e) != o
            for e, o in zip(expected, out_sizes, strict=True)
        ):
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) on the way to {parts.name!r} "
                f"gives {tuple(tensor.shape)}, not feature maps whose size cnnviz can follow "
                f"from its input {tuple(inputs.shape)}"
            )
        affine = tuple(_affine(ops[a], affine[a], layer, a) for a in range(2))
        if steps is not None:
            steps.append(((id(inputs),), id(tensor), ops, (sizes,)))
        if terms is not None:
            terms = _joined(
                [
                    (*_intervals(ops[0], rlo, rhi), *_intervals(ops[1], clo, chi))
                    for rlo, rhi, clo, chi in terms
                ]
            )
        return out_sizes, affine, terms

    def merge(layer, inputs, tensor) -> tuple:
        inputs = list(inputs.values()) if isinstance(inputs, dict) else list(inputs)
        if not isinstance(layer, _MERGES) or (
            isinstance(layer, keras.layers.Concatenate) and int(layer.get_config()["axis"]) % 4 != 3
        ):
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) on the way to {parts.name!r} "
                "takes several inputs, and cnnviz follows only merges of maps of one size "
                "(Add, Subtract, Multiply, Average, Maximum, Minimum, and Concatenate on the "
                "channel axis)"
            )
        results = [walk(tensor) for tensor in inputs]
        # A map of one row or column is broadcast to the others' size (Multiply, Add...).
        sizes = tuple(
            None if any(r[0][a] is None for r in results) else max(r[0][a] for r in results)
            for a in range(2)
        )
        affine = tuple(_merged([r[1][a] for r in results], layer, a) for a in range(2))
        if steps is not None:
            steps.append((tuple(id(t) for t in inputs), id(tensor), None, [r[0] for r in results]))
        terms = None
        if results[0][2] is not None:

            def spread(array: np.ndarray, n: int) -> np.ndarray:
                return np.repeat(array, n) if len(array) == 1 else array

            terms = _joined(
                [
                    (
                        spread(rlo, sizes[0]),
                        spread(rhi, sizes[0]),
                        spread(clo, sizes[1]),
                        spread(chi, sizes[1]),
                    )
                    for r in results
                    for rlo, rhi, clo, chi in r[2]
                ]
            )
        return sizes, affine, terms

    sizes, affine, terms = walk(parts.feature)
    return _Field(
        start=(affine[0].start, affine[1].start),
        jump=(affine[0].jump, affine[1].jump),
        size=(affine[0].size, affine[1].size),
        why=affine[0].why or affine[1].why,
        output=sizes,
        image=image if image is not None else static,
        terms=None if terms is None else tuple(terms),
    )


def _image_size(model: keras.Model, image_size: object, needs: str) -> tuple[int, int]:
    """Return the images' height and width: the model's own, or `image_size` where it is open.

    `needs` says why the size is needed, for the message.
    """
    shape = tuple(model.inputs[0].shape[1:])
    static = tuple(None if n is None else int(n) for n in shape[:2])
    if image_size is None:
        if None in static:
            raise ValueError(
                f"model {model.name!r} takes images of any size {shape}, so {needs}: give "
                "image_size=(height, width)"
            )
        return static
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(_checks.is_integer(n) and n > 0 for n in image_size)
    ):
        raise ValueError(
            f"image_size must be None or a pair of positive integers (height, width); "
            f"got {image_size!r}"
        )
    size = (int(image_size[0]), int(image_size[1]))
    if any(s is not None and s != n for s, n in zip(static, size, strict=True)):
        raise ValueError(
            f"image_size must be the size model {model.name!r} takes, {shape[:2]} (None: any); "
            f"got {image_size!r}"
        )
    return size


def _boxes(field: _Field, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return (..., 4) int64 boxes (top, left, bottom, right) of units (rows, cols).

    Each is the bounding box of the pixels the unit reads; (0, 0, 0, 0) for a unit that
    reads none (only padding).
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    top = np.full(rows.shape, _EMPTY)
    left = np.full(rows.shape, _EMPTY)
    bottom = np.full(rows.shape, -_EMPTY)
    right = np.full(rows.shape, -_EMPTY)
    for rlo, rhi, clo, chi in field.terms:
        seen = (rlo[rows] < rhi[rows]) & (clo[cols] < chi[cols])
        top = np.where(seen, np.minimum(top, rlo[rows]), top)
        bottom = np.where(seen, np.maximum(bottom, rhi[rows]), bottom)
        left = np.where(seen, np.minimum(left, clo[cols]), left)
        right = np.where(seen, np.maximum(right, chi[cols]), right)
    box = np.stack([top, left, bottom, right], axis=-1)
    box[top > bottom] = 0
    return box.astype(np.int64)


def _centres(field: _Field) -> tuple[np.ndarray, np.ndarray]:
    """Return the centres of the fields of the layer's rows and of its columns, in input pixels.

    Pixel k's centre is at k, so unit i's field along an axis, ``size`` pixels from
    ``start + i * jump``, is centred at ``start + i * jump + (size - 1) / 2`` (Araujo et
    al., 2019): the centre of the whole field, padding included, not of the part the
    border leaves (a ``same`` unit at the edge is centred where its window is). float64
    arrays, one centre per row and one per column of the layer's output; the field must
    have been computed for a known image size. ValueError where the units have no one
    size and jump (``field.why`` says why).
    """
    if field.why:
        raise ValueError(field.why)
    return tuple(
        field.start[a] + field.jump[a] * np.arange(field.output[a]) + (field.size[a] - 1) / 2
        for a in range(2)
    )


def _covered(field: _Field) -> tuple[np.ndarray, np.ndarray]:
    """Return which input rows and which columns lie within the units' fields, (H,) and (W,) bool.

    Along an axis, the fields run from the first unit's start to the last unit's end
    (``start + (n - 1) * jump + size``, as for :func:`_centres`); a pixel beyond them
    is one the layer never sees: cut off by a ``Cropping2D``, or left over at the far
    edge by a stride that does not reach it (a 3x3 stride-2 valid unit on 16 pixels:
    the last reads 12..14, none 15). Pixels between two fields (a jump wider than a
    field) count as within. ValueError as for :func:`_centres`.
    """
    if field.why:
        raise ValueError(field.why)
    covered = []
    for a in range(2):
        first = field.start[a]
        stop = first + (field.output[a] - 1) * field.jump[a] + field.size[a]
        pixel = np.arange(field.image[a])
        covered.append((pixel >= first) & (pixel < stop))
    return tuple(covered)


def _matrix(op: _Op, n_in: int) -> np.ndarray:
    """Return `op` along one axis as a matrix (output positions, input positions) of tap counts."""
    if op.kind == "same":
        return np.eye(n_in)
    if op.kind == "all":
        return np.ones((op.size, n_in))
    taps = _taps(op)
    o = np.arange(op.size)[:, np.newaxis]
    matrix = np.zeros((op.size, n_in))
    rows = np.broadcast_to(o, taps.shape)
    inside = (taps >= 0) & (taps < n_in)
    np.add.at(matrix, (rows[inside], taps[inside]), 1)
    return matrix


def _paths(
    model: keras.Model, parts: _graph.Split, image: tuple[int, int], given: str = "images"
) -> np.ndarray:
    """Return (H, W) float64: per input pixel, the paths into all units of `parts`' layer.

    A path is a chain of connections, one kernel tap or pooling-window cell per layer,
    channels not counted (Alsallakh et al., 2021). Counted backwards from the layer (one
    path per unit), as reverse-mode differentiation counts: a layer hands each of its
    input positions the counts of the outputs whose taps read it, a merge hands every
    input its count, and a map read by several layers sums what they hand it. `given`
    names the argument the size came from, as for :func:`_field`.
    """
    steps: list = []
    field = _field(model, parts, image, given, boxes=False, steps=steps)
    x, _, _ = _graph.trace(model)
    counts = {id(parts.feature): np.ones(field.output)}

    def hand(key: int, count: np.ndarray) -> None:
        counts[key] = counts[key] + count if key in counts else count

    for inputs, output, ops, sizes in reversed(steps):
        count = counts.pop(output, None)
        if count is None:  # not on a way to the layer
            continue
        if ops is not None:
            rows, cols = (_matrix(ops[a], sizes[0][a]) for a in range(2))
            hand(inputs[0], rows.T @ count @ cols)
            continue
        for key, size in zip(inputs, sizes, strict=True):
            # A map of one row or column was broadcast to the others' size: it reads them all.
            share = count
            for a in range(2):
                if size[a] == 1 and share.shape[a] != 1:
                    share = share.sum(axis=a, keepdims=True)
            hand(key, share)
    return counts.get(id(x), np.zeros(image))
