"""What a unit of a layer is made of and what it sees: kernels and receptive fields."""

from __future__ import annotations

import keras
import numpy as np

from .. import _checks, _graph
from .._geometry import _boxes, _field, _image_size

__all__ = ["kernels", "receptive_box", "receptive_field"]


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
        does not change the model. For a grouped convolution
        (``Conv2D(groups=g)``), whose kernel Keras keeps as (kh, kw,
        in_channels / g, filters), filter ``f`` reads only the channels of
        its group, and ``[..., c, f]`` is 0 for the others: the kernel of the
        ungrouped convolution that computes the same output, so ``c`` is
        always the input channel.

    Raises
    ------
    TypeError
        If `model` is not a Keras model or `layer` neither a name nor an index.
    ValueError
        If the layer is unknown, the model's input layer or not a
        ``Conv2D`` layer.

    Examples
    --------
    >>> from cnnviz import kernels, lenet5
    >>> kernels(lenet5(), "conv2").shape
    (5, 5, 6, 16)
    """
    model = _graph.image_model(model)
    name = _graph.layer_name(model, layer)
    found = _graph.find(_graph.trace(model)[2], name)[0]
    if not isinstance(found, keras.layers.Conv2D):
        # A wrong layer of a right model: a ValueError, as for an unknown name.
        raise ValueError(  # noqa: TRY004
            f"layer {name!r} is a {type(found).__name__}, not a Conv2D layer, so it has no "
            "kernel of shape (kh, kw, in_channels, filters)"
        )
    kernel = np.array(keras.ops.convert_to_numpy(found.kernel), dtype=np.float32)
    groups = int(getattr(found, "groups", 1) or 1)
    if groups == 1:
        return kernel
    # Keras keeps a grouped kernel as (kh, kw, in_channels / groups, filters): filter f reads
    # only its group's channels. Laid out in the full input channels, with zeros where a filter
    # reads nothing, index c means input channel c for every filter, as documented.
    kh, kw, per_group, filters = kernel.shape
    full = np.zeros((kh, kw, per_group * groups, filters), np.float32)
    per_filter_group = filters // groups
    for group in range(groups):
        reads = slice(group * per_group, (group + 1) * per_group)
        made = slice(group * per_filter_group, (group + 1) * per_filter_group)
        full[:, :, reads, made] = kernel[:, :, :, made]
    return full


def receptive_field(
    model: keras.Model, layer: str | int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the receptive field of a layer's units: its size and its jump, in input pixels.

    Computed from the layers between the input and `layer`: convolutions
    (``Conv2D``, ``DepthwiseConv2D``, ``SeparableConv2D``) and poolings
    (``MaxPooling2D``, ``AveragePooling2D``) of any window, stride, dilation
    and padding, ``ZeroPadding2D``, cnnviz's :class:`~cnnviz.Padding2D`
    (a border of mirrored or wrapped pixels: its field is that of the same
    window over zeros) and ``Cropping2D``, with layers that work
    per position passed through (activations, batch normalization at
    inference, dropout, rescaling, a ``Dense`` layer on the channel axis, a
    ``LayerNormalization`` or ``Softmax`` over the channel axis only, random
    augmentation layers, which do nothing at inference), merges of maps of
    one size (``Add``, ``Concatenate`` on the channel axis, ...: the union
    of their inputs' fields) and nested models looked into. A window of
    ``k`` with stride ``s`` grows the field by ``(k - 1)`` times the jump so
    far and multiplies the jump by ``s`` (CS231n's notes).

    The size and jump do not depend on the images' size, so a model that
    takes images of any size (``keras.Input((None, None, 1))``) has them too.

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
        (h, w): how many input rows and columns one unit's field spans,
        before any clipping at the image's border (see
        :func:`receptive_box`); with dilation, or a stride larger than the
        window, the field has holes that the span includes.
    jump : tuple of int
        (h, w): how many input pixels apart neighbouring units' fields start.

    Raises
    ------
    TypeError
        If `model` is not a Keras model or `layer` neither a name nor an index.
    ValueError
        If the layer is unknown, the model's input layer, or does not give
        feature maps (a unit of ``Flatten``, ``Dense`` and later layers sees
        the whole image), or a layer before it is one that cnnviz cannot
        follow (a transposed convolution, a ``Reshape``, an attention layer,
        a merge other than of maps of one size), or its units have no one
        size and jump: after a layer that mixes the positions along an axis
        (a ``LayerNormalization`` or ``Softmax`` over a spatial axis, global
        pooling), every unit sees the whole image along it, and after an
        upsampling neighbouring units share a field (:func:`receptive_box`
        gives each unit's box in both cases). The message says which.

    Examples
    --------
    >>> from cnnviz import lenet5, receptive_field
    >>> model = lenet5("valid")
    >>> [receptive_field(model, name) for name in ("conv1", "max_pool1", "conv2", "max_pool2")]
    [((5, 5), (1, 1)), ((6, 6), (2, 2)), ((14, 14), (2, 2)), ((16, 16), (4, 4))]
    """
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    field = _field(model, parts)
    if field.why:
        raise ValueError(
            f"the units of layer {parts.name!r} have no receptive field of one size and jump: "
            f"{field.why}; receptive_box gives each unit's box"
        )
    return field.size, field.jump


def receptive_box(
    model: keras.Model,
    layer: str | int,
    row: int,
    col: int,
    *,
    image_size: tuple[int, int] | None = None,
) -> tuple[int, int, int, int]:
    """Return the input pixels that unit (`row`, `col`) of `layer` sees, as a box.

    The box is the exact bounding box of the input pixels that the unit's
    computation reads, through the layers :func:`receptive_field` follows,
    for every channel at that position (where channels see different
    pixels, as those of a ``Concatenate`` of two branches may, the box
    bounds them all).
    With ``same`` padding the fields of border units hang over the image's
    edge, into the zeros of the padding, which no pixel reaches: the box
    stops at the image, so it is smaller there than
    :func:`receptive_field`'s size. Padding follows TensorFlow: of an odd
    total, the smaller half goes before. A dilated or strided window reads
    only some of the pixels it spans, so at the border the box holds only
    the taps that land in the image. After a layer that mixes the positions
    along an axis (a ``LayerNormalization`` or ``Softmax`` over a spatial
    axis, global pooling with ``keepdims=True``) the box spans the whole
    image along it. A unit that reads only padding sees no pixel: its box
    is empty, ``(0, 0, 0, 0)``. A border of the image's own pixels
    (:class:`~cnnviz.Padding2D`) is followed to the pixels it copies: a
    ``reflect`` unit at the edge reads real pixels mirrored back inside,
    so its box stops at the edge as with zeros; a ``circular`` unit at the
    edge reads pixels on the far side as well, so its box, which bounds
    them all, spans the image along that axis.

    Parameters
    ----------
    model, layer
        As for :func:`receptive_field`.
    row, col : int
        The unit's position in the layer's output, from 0.
    image_size : tuple of int, optional
        ``(height, width)`` of the images, needed for a model that takes
        images of any size (its input has ``None`` for them): the border
        clips the boxes, and ``same`` padding depends on the size. For a
        model of one input size it may be given, and must be that size.

    Returns
    -------
    tuple of int
        (top, left, bottom, right), bottom and right exclusive, so that
        ``image[top:bottom, left:right]`` is what the unit sees.

    Raises
    ------
    TypeError, ValueError
        As for :func:`receptive_field` (not for fields without one size or
        jump: those have boxes); ValueError also if `row` or `col` is not
        an integer within the layer's output, or `image_size` is missing
        for a model of any input size, not a pair of positive integers, not
        the model's own size, or too small for the layers.

    Examples
    --------
    >>> from cnnviz import lenet5, receptive_box
    >>> receptive_box(lenet5("valid"), "max_pool2", 1, 2)
    (4, 8, 20, 24)
    >>> receptive_box(lenet5("same"), "max_pool2", 0, 0)  # hangs over the edge by 6 pixels
    (0, 0, 10, 10)
    >>> import keras
    >>> inputs = keras.Input((None, None, 1))  # images of any size
    >>> model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same", name="c")(inputs))
    >>> receptive_box(model, "c", 39, 0, image_size=(40, 30))
    (38, 0, 40, 2)
    """
    model = _graph.image_model(model)
    parts = _graph.split(model, layer)
    size = _image_size(
        model, image_size, "a unit's box depends on the images' size (their border clips it)"
    )
    field = _field(model, parts, size, "image_size" if image_size is not None else "images")
    what = f"the output of layer {parts.name!r} is {field.output[0]}x{field.output[1]}"
    row = _checks.index(row, field.output[0], "row", what)
    col = _checks.index(col, field.output[1], "col", what)
    return tuple(int(v) for v in _boxes(field, np.array(row), np.array(col)))
