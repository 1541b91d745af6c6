"""LeNet-5 for 28x28 images, as in the notebook, and the shape arithmetic behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._checks import is_integer, one_of, positive_int

if TYPE_CHECKING:
    import keras

__all__ = ["PADDINGS", "lenet5", "output_size", "same_padding"]

#: The padding modes that :func:`lenet5` accepts.
PADDINGS: tuple[str, ...] = ("valid", "same", "reflect", "circular")
# The poolings that lenet5 accepts: Keras' max pooling, or Zhang's MaxBlurPool.
POOLINGS: tuple[str, ...] = ("max", "blur")
# Keras' own padding modes, those of a window layer (output_size, same_padding).
_KERAS_PADDINGS = ("valid", "same")
# Zhang's blur: the binomial [1, 2, 1] / 4 along each axis; powers of two, exact in float32.
_BLUR = ((1, 2, 1), (2, 4, 2), (1, 2, 1))


def output_size(size: int, kernel_size: int, *, stride: int = 1, padding: str = "valid") -> int:
    """Return the length of one spatial axis after a convolution or pooling.

    With ``"valid"`` padding the window stays inside the input,
    ``(size - kernel_size) // stride + 1``; with ``"same"`` the input is
    padded so that the output has ``ceil(size / stride)`` elements.

    Parameters
    ----------
    size : int
        Input length along the axis.
    kernel_size : int
        Window length (the kernel of a convolution, the pool size of a pooling).
    stride : int, default 1
        Step between windows.
    padding : {"valid", "same"}
        The padding mode.

    Returns
    -------
    int
        The output length; 0 or less means the window does not fit.

    Raises
    ------
    ValueError
        If `size`, `kernel_size` or `stride` is not a positive integer, or
        `padding` is not ``"valid"`` or ``"same"``.

    Examples
    --------
    >>> output_size(28, 5)  # conv1 of LeNet-5, valid padding
    24
    >>> output_size(24, 2, stride=2)  # max_pool1
    12
    >>> output_size(28, 5, padding="same")
    28
    """
    size = positive_int(size, "size")
    kernel_size = positive_int(kernel_size, "kernel_size")
    stride = positive_int(stride, "stride")
    one_of(padding, _KERAS_PADDINGS, "padding")
    if padding == "same":
        return -(-size // stride)
    return (size - kernel_size) // stride + 1


def same_padding(size: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """Return the zeros that ``"same"`` padding adds before and after one spatial axis.

    TensorFlow's rule (and so Keras'): the output has ``ceil(size / stride)``
    elements, the input is padded by the total that this needs,
    ``max((ceil(size / stride) - 1) * stride + kernel - size, 0)``, and of an
    odd total the smaller half goes before (top, left). Every part of cnnviz
    that needs the rule (receptive fields, the pages, the explorer's tests)
    takes it from here.

    Parameters
    ----------
    size : int
        Input length along the axis.
    kernel : int
        Window length along the axis; for a dilated kernel its span,
        ``dilation * (kernel - 1) + 1``.
    stride : int, default 1
        Step between windows.

    Returns
    -------
    tuple of int
        ``(before, after)``: zeros added before the first and after the
        last element.

    Raises
    ------
    ValueError
        If `size`, `kernel` or `stride` is not a positive integer.

    Examples
    --------
    >>> same_padding(28, 5)  # conv1 of lenet5("same"): centred, 2 on each side
    (2, 2)
    >>> same_padding(28, 2, 2)  # max_pool1: 28 is even, nothing to add
    (0, 0)
    >>> same_padding(7, 2, 2)  # an odd size: the one zero goes after
    (0, 1)
    >>> same_padding(28, 4)  # an even kernel: the smaller half before
    (1, 2)
    """
    size = positive_int(size, "size")
    kernel = positive_int(kernel, "kernel")
    stride = positive_int(stride, "stride")
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _check_input_shape(input_shape: object, padding: str) -> tuple[int, int, int]:
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or not all(is_integer(d) and d > 0 for d in input_shape)
    ):
        raise ValueError(
            "input_shape must be (height, width, channels) with three positive integers; "
            f"got {input_shape!r}"
        )
    height, width, channels = (int(d) for d in input_shape)  # NumPy integers as Python's
    shape = "same" if padding in ("reflect", "circular") else padding
    for axis, size in (("height", height), ("width", width)):
        n = size
        for kernel, stride in ((5, 1), (2, 2), (5, 1), (2, 2)):
            if kernel == 5 and padding in ("reflect", "circular"):
                # Padding2D: a mirrored border of 2 needs 3 pixels, a wrapped one 2.
                least = 3 if padding == "reflect" else 2
                if n < least:
                    raise ValueError(
                        f"input_shape {tuple(input_shape)} is too small for LeNet-5 with "
                        f"padding={padding!r}: the {axis} ({size}) is {n} pixels before a "
                        f"5x5 convolution, whose {padding} border of 2 needs at least {least}"
                    )
            n = output_size(n, kernel, stride=stride, padding=shape)
            if n < 1:
                raise ValueError(
                    f"input_shape {tuple(input_shape)} is too small for LeNet-5 with "
                    f"padding={padding!r}: the {axis} ({size}) shrinks to nothing "
                    "(valid padding needs at least 16 pixels per side)"
                )
    return height, width, channels


def lenet5(
    padding: str = "valid",
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    *,
    pooling: str = "max",
) -> keras.Model:
    """Build the notebook's LeNet-5 as a Keras functional model (untrained).

    The layers, by name: ``input``, ``conv1`` (6 filters, 5x5, stride 1),
    ``relu1``, ``max_pool1`` (2x2, stride 2), ``conv2`` (16 filters, 5x5),
    ``relu2``, ``max_pool2``, ``flatten``, ``fc1`` (120 units, ReLU),
    ``fc2`` (84 units, ReLU) and ``op`` (`num_classes` units, softmax).
    The ReLUs are layers of their own so that their outputs can be drawn.

    ``"reflect"`` and ``"circular"`` padding give the shapes of ``"same"``
    with the image's own pixels in place of its zeros (Alsallakh et al.,
    "Mind the Pad", ICLR 2021): each convolution reads the output of a
    :class:`~cnnviz.Padding2D` (``pad1``, ``pad2``), which adds 2 pixels on
    each side, mirrored (NumPy's ``"reflect"``) or wrapped (``"wrap"``),
    and is itself ``"valid"``; the poolings are those of ``"same"``.

    ``pooling="blur"`` is Zhang's MaxBlurPool ("Making Convolutional
    Networks Shift-Invariant Again", ICML 2019), at the place of each max
    pooling: ``max_pool1`` becomes a 2x2 max with stride 1, and ``blur1``
    (a ``DepthwiseConv2D``) blurs each channel with the fixed binomial
    kernel ``[1, 2, 1] x [1, 2, 1] / 16`` (it sums to 1) with stride 2,
    as in Zhang's code: the stride-1 max is ``"valid"`` (one row and column
    fewer; in ``"circular"``, a wrapped column and row, ``max_pad1``, come
    first, so that the max map keeps the period), and ``blur_pad1`` adds a
    pixel on each side before the blur: zeros (``ZeroPadding2D``) for
    ``"valid"`` and ``"same"``, mirrored or wrapped pixels for
    ``"reflect"`` and ``"circular"``. So each blurred unit is centred where
    the max pooling's window was, both borders of a map of even size are
    treated alike, and the blur adds no trainable weight (its kernel is
    stored, not trained). Every output shape is that of the max-pooling
    model for any input size: along an axis of odd size, ``"same"`` and
    ``"reflect"`` first give the max a row or column of zeros after the map
    (``max_pad1``), as ``"same"`` max pooling reads one beyond it (zeros
    never win over the ReLU's outputs before it). The model's name tells
    the variant: ``lenet5_same``, ``lenet5_reflect_blur``.

    Parameters
    ----------
    padding : {"valid", "same", "reflect", "circular"}, default "valid"
        Padding of both convolutions (see above); the max poolings are
        ``"valid"`` in the ``"valid"`` model and ``"same"`` in the others
        (with blur pooling, their output sizes are kept: see above).
    input_shape : tuple of int, default (28, 28, 1)
        (height, width, channels) of one image.
    num_classes : int, default 10
        Number of output classes.
    pooling : {"max", "blur"}, default "max"
        Keras' max pooling (2x2, stride 2), or Zhang's MaxBlurPool.

    Returns
    -------
    keras.Model
        The model, not compiled. It has 44,426 parameters with ``"valid"``
        padding and 107,786 with the other three (for the defaults); blur
        pooling adds 198 that are not trained (a 3x3 kernel per channel of
        ``max_pool1`` and ``max_pool2``).

    Raises
    ------
    ValueError
        If `padding` or `pooling` is not one of the above, `input_shape` is
        not three positive integers or too small for the network, or
        `num_classes` is not a positive integer.

    Examples
    --------
    >>> from cnnviz import lenet5
    >>> model = lenet5("valid")
    >>> model.count_params()
    44426
    >>> model.get_layer("max_pool2").output.shape
    (None, 4, 4, 16)
    >>> blurred = lenet5("reflect", pooling="blur")
    >>> blurred.name, blurred.get_layer("blur2").output.shape
    ('lenet5_reflect_blur', (None, 7, 7, 16))
    >>> len(blurred.trainable_weights) == len(lenet5("same").trainable_weights)
    True
    """
    padding = one_of(padding, PADDINGS, "padding")
    pooling = one_of(pooling, POOLINGS, "pooling")
    input_shape = _check_input_shape(input_shape, padding)
    num_classes = positive_int(num_classes, "num_classes")

    import keras  # here: the shape arithmetic of this module needs no Keras

    from .layers import Padding2D

    layers = keras.layers
    # Channels last whatever keras.config.image_data_format() says: the inputs are.
    last = "channels_last"
    own = padding in ("reflect", "circular")  # borders of cnnviz's Padding2D
    window = "valid" if padding == "valid" else "same"  # the poolings' Keras padding

    def convolution(x, filters: int, k: int):
        if own:
            x = Padding2D(2, padding, name=f"pad{k}")(x)
        conv = "valid" if own else padding
        return layers.Conv2D(
            filters, 5, strides=1, padding=conv, data_format=last, name=f"conv{k}"
        )(x)

    def pool(x, k: int):
        if pooling == "max":
            return layers.MaxPooling2D(
                2, strides=2, padding=window, data_format=last, name=f"max_pool{k}"
            )(x)
        # Unit i of the blur reads max positions 2i - 1 .. 2i + 1, one pixel of padding
        # before the max map and one after it. "valid" keeps floor(n / 2) units of a map of
        # n. The others keep "same"'s ceil(n / 2): along an axis of odd size, the max first
        # gets one more row or column after the map, as "same" max pooling reads one beyond
        # it; zeros, which never beat the ReLU's outputs it follows (circular's is wrapped).
        if padding == "circular":  # wrapped, as the rest of the model, so shifts stay exact
            x = Padding2D(((0, 1), (0, 1)), padding, name=f"max_pad{k}")(x)
        elif padding != "valid" and any(n % 2 for n in x.shape[1:3]):
            odd = tuple((0, n % 2) for n in x.shape[1:3])
            x = layers.ZeroPadding2D(odd, data_format=last, name=f"max_pad{k}")(x)
        x = layers.MaxPooling2D(
            2, strides=1, padding="valid", data_format=last, name=f"max_pool{k}"
        )(x)
        if own:
            x = Padding2D(1, padding, name=f"blur_pad{k}")(x)
        else:
            x = layers.ZeroPadding2D(1, data_format=last, name=f"blur_pad{k}")(x)
        kernel = [[[[value / 16]] for value in row] for row in _BLUR]  # (3, 3, 1, 1)
        return layers.DepthwiseConv2D(
            3,
            strides=2,
            padding="valid",
            data_format=last,
            use_bias=False,
            depthwise_initializer=keras.initializers.Constant(kernel),
            trainable=False,
            name=f"blur{k}",
        )(x)

    inputs = keras.Input(shape=input_shape, name="input")
    x = convolution(inputs, 6, 1)
    x = layers.Activation("relu", name="relu1")(x)
    x = pool(x, 1)
    x = convolution(x, 16, 2)
    x = layers.Activation("relu", name="relu2")(x)
    x = pool(x, 2)
    x = layers.Flatten(data_format=last, name="flatten")(x)
    x = layers.Dense(120, activation="relu", name="fc1")(x)
    x = layers.Dense(84, activation="relu", name="fc2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="op")(x)
    name = f"lenet5_{padding}" if pooling == "max" else f"lenet5_{padding}_blur"
    return keras.Model(inputs, outputs, name=name)
