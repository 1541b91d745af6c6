"""LeNet-5 for 28x28 images, as in the notebook, and the shape arithmetic behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._checks import is_integer, one_of, positive_int

if TYPE_CHECKING:
    import keras

__all__ = ["PADDINGS", "lenet5", "output_size", "same_padding"]

#: The padding modes that :func:`lenet5` accepts.
PADDINGS: tuple[str, ...] = ("valid", "same")


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
    one_of(padding, PADDINGS, "padding")
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
    for axis, size in (("height", height), ("width", width)):
        n = size
        for kernel, stride in ((5, 1), (2, 2), (5, 1), (2, 2)):
            n = output_size(n, kernel, stride=stride, padding=padding)
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
) -> keras.Model:
    """Build the notebook's LeNet-5 as a Keras functional model (untrained).

    The layers, by name: ``input``, ``conv1`` (6 filters, 5x5, stride 1),
    ``relu1``, ``max_pool1`` (2x2, stride 2), ``conv2`` (16 filters, 5x5),
    ``relu2``, ``max_pool2``, ``flatten``, ``fc1`` (120 units, ReLU),
    ``fc2`` (84 units, ReLU) and ``op`` (`num_classes` units, softmax).
    The ReLUs are layers of their own so that their outputs can be drawn.

    Parameters
    ----------
    padding : {"valid", "same"}, default "valid"
        Padding of both convolutions and both poolings.
    input_shape : tuple of int, default (28, 28, 1)
        (height, width, channels) of one image.
    num_classes : int, default 10
        Number of output classes.

    Returns
    -------
    keras.Model
        The model, not compiled. It has 44,426 parameters with ``"valid"``
        padding and 107,786 with ``"same"`` (for the defaults).

    Raises
    ------
    ValueError
        If `padding` is not ``"valid"`` or ``"same"``, `input_shape` is not
        three positive integers or too small for the network, or
        `num_classes` is not a positive integer.

    Examples
    --------
    >>> from cnnviz import lenet5
    >>> model = lenet5("valid")
    >>> model.count_params()
    44426
    >>> model.get_layer("max_pool2").output.shape
    (None, 4, 4, 16)
    """
    padding = one_of(padding, PADDINGS, "padding")
    input_shape = _check_input_shape(input_shape, padding)
    num_classes = positive_int(num_classes, "num_classes")

    import keras  # here: the shape arithmetic of this module needs no Keras

    layers = keras.layers
    # Channels last whatever keras.config.image_data_format() says: the inputs are.
    last = "channels_last"
    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.Conv2D(6, 5, strides=1, padding=padding, data_format=last, name="conv1")(inputs)
    x = layers.Activation("relu", name="relu1")(x)
    x = layers.MaxPooling2D(2, strides=2, padding=padding, data_format=last, name="max_pool1")(x)
    x = layers.Conv2D(16, 5, strides=1, padding=padding, data_format=last, name="conv2")(x)
    x = layers.Activation("relu", name="relu2")(x)
    x = layers.MaxPooling2D(2, strides=2, padding=padding, data_format=last, name="max_pool2")(x)
    x = layers.Flatten(data_format=last, name="flatten")(x)
    x = layers.Dense(120, activation="relu", name="fc1")(x)
    x = layers.Dense(84, activation="relu", name="fc2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="op")(x)
    return keras.Model(inputs, outputs, name=f"lenet5_{padding}")
