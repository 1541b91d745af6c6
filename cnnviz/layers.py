"""cnnviz's own Keras layers: the padding that mirrors or wraps the image's border.

Keras pads with zeros only (``padding="same"``, ``ZeroPadding2D``). The
padding experiments of Alsallakh et al. ("Mind the Pad", ICLR 2021) need
borders made of the image's own pixels, mirrored or wrapped, so cnnviz has a
layer of its own for them, written with public ``keras.ops`` only and
registered as serializable (``"cnnviz>Padding2D"``), so that a saved model
containing it loads with ``safe_mode=True`` once this module is imported
(importing ``cnnviz.Padding2D`` does it; so do the cache and
:func:`~cnnviz.trained_lenet5`).
"""

from __future__ import annotations

import keras

from ._checks import is_integer, one_of

__all__ = ["PADDING_MODES", "Padding2D"]

#: The modes of :class:`Padding2D`, named as NumPy's ``np.pad`` would be ("wrap" is
#: called "circular" here, as in PyTorch and the padding literature).
PADDING_MODES: tuple[str, ...] = ("reflect", "circular")


def _edges(padding: object) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return ``((top, bottom), (left, right))`` from ZeroPadding2D's three forms."""

    def count(value: object) -> int:
        if not is_integer(value) or value < 0:
            raise ValueError(
                "padding must be a non-negative integer, a pair (rows, columns) or a pair of "
                f"pairs ((top, bottom), (left, right)) of them; got {padding!r}"
            )
        return int(value)

    if is_integer(padding):
        return (count(padding),) * 2, (count(padding),) * 2
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(is_integer(p) for p in padding):
            rows, cols = (count(p) for p in padding)
            return (rows, rows), (cols, cols)
        if all(isinstance(p, (tuple, list)) and len(p) == 2 for p in padding):
            (top, bottom), (left, right) = ((count(a), count(b)) for a, b in padding)
            return (top, bottom), (left, right)
    count(padding)  # raises, with the message
    raise AssertionError  # pragma: no cover


@keras.saving.register_keras_serializable(package="cnnviz")
class Padding2D(keras.layers.Layer):
    """Pad images with their own pixels: mirrored (``"reflect"``) or wrapped (``"circular"``).

    The counterpart of Keras' ``ZeroPadding2D`` for borders that are not
    zeros, channels last: its output is NumPy's
    ``np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), mode)``
    with `mode` ``"reflect"`` (the edge pixel is not repeated: ``[2, 1]``
    before ``[0, 1, 2, ...]``) or ``"wrap"`` for ``"circular"`` (the other
    edge's pixels: the image on a torus). Values are copied, never
    computed, so the output is exact. It has no weights. Its ``padding``
    attribute (and configuration) is ``((top, bottom), (left, right))``,
    whichever form was given.
    :func:`~cnnviz.lenet5` puts one before each convolution of its
    ``"reflect"`` and ``"circular"`` models.

    Parameters
    ----------
    padding : int or tuple of int or tuple of tuple of int, default 1
        As for ``ZeroPadding2D``: the same count on every side; ``(rows,
        columns)``, added above and below and left and right; or
        ``((top, bottom), (left, right))``.
    mode : {"reflect", "circular"}, default "reflect"
        What the border is made of.
    **kwargs
        Keras' layer arguments (``name``, ``dtype``, ...).

    Raises
    ------
    ValueError
        If `padding` or `mode` is not one of the above. When the layer is
        built: if the input is not 4-D, or a mirrored border is as wide as
        the image or wider (``"reflect"`` needs ``top, bottom < height`` and
        ``left, right < width``: the edge pixel is not repeated), or a
        wrapped one is wider than the image.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from cnnviz import Padding2D
    >>> x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)  # one row: 0 1 2 3
    >>> keras.ops.convert_to_numpy(Padding2D((0, 2), "reflect")(x))[0, 0, :, 0]
    array([2., 1., 0., 1., 2., 3., 2., 1.], dtype=float32)
    >>> keras.ops.convert_to_numpy(Padding2D((0, 2), "circular")(x))[0, 0, :, 0]
    array([2., 3., 0., 1., 2., 3., 0., 1.], dtype=float32)
    """

    def __init__(self, padding: object = 1, mode: str = "reflect", **kwargs):
        super().__init__(**kwargs)
        self.padding = _edges(padding)
        self.mode = one_of(mode, PADDING_MODES, "mode")
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape) -> None:
        """Check that the border fits the input's height and width, where they are known."""
        for axis, name, (first, last) in (
            (1, "height", self.padding[0]),
            (2, "width", self.padding[1]),
        ):
            size = input_shape[axis]
            if size is None:
                continue
            too_wide = (
                max(first, last) >= size if self.mode == "reflect" else max(first, last) > size
            )
            if too_wide:
                most = "less than" if self.mode == "reflect" else "at most"
                raise ValueError(
                    f"layer {self.name!r} (Padding2D, mode={self.mode!r}) pads the {name} by "
                    f"{first} and {last}, but its input's {name} is {size} pixels: a "
                    f"{self.mode} border must be {most} the input's {name}"
                )
        super().build(input_shape)

    def call(self, inputs):
        """Return `inputs` padded: ``np.pad(inputs, ..., mode)``, copied values only."""
        (top, bottom), (left, right) = self.padding
        if self.mode == "reflect":
            return keras.ops.pad(
                inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="reflect"
            )
        x = inputs
        # Wrapped: the last rows above, the first rows below; then the same for the columns.
        # Negative starts work where the size is open (None) as well.
        if top or bottom:
            parts = ([x[:, -top:]] if top else []) + [x] + ([x[:, :bottom]] if bottom else [])
            x = keras.ops.concatenate(parts, axis=1)
        if left or right:
            parts = ([x[:, :, -left:]] if left else []) + [x] + ([x[:, :, :right]] if right else [])
            x = keras.ops.concatenate(parts, axis=2)
        return x

    def compute_output_shape(self, input_shape):
        """Return the input's shape grown by the border (open sizes stay open)."""
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height + top + bottom,
            None if width is None else width + left + right,
            channels,
        )

    def get_config(self) -> dict:
        """Return Keras' layer settings with `padding` (as pairs) and `mode`."""
        return {**super().get_config(), "padding": self.padding, "mode": self.mode}
