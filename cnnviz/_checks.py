"""Argument checks shared by every public function (private).

Each check takes the value and the argument's name as the caller knows it,
returns the value in the form the caller needs, and otherwise raises with a
message that says which argument, what was expected and what was given. One
rule lives in one place: a public function never repeats a check inline.

Only NumPy at import time: the plotting and data modules use these checks
and must not import Keras. The model checks import Keras when called.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: What ``verbose`` may be wherever it is passed to Keras.
VERBOSE = ("auto", 0, 1, 2)


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(value: object, name: str) -> int:
    """Return `value` as an int if it is an integer of at least 1."""
    if not _is_integer(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def non_negative_int(value: object, name: str) -> int:
    """Return `value` as an int if it is an integer of at least 0 (a seed, an index)."""
    if not _is_integer(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def positive_number(value: object, name: str) -> float:
    """Return `value` as a float if it is a finite real number above 0."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not value > 0
    ):
        raise ValueError(f"{name} must be a finite number above 0; got {value!r}")
    return float(value)


def verbose(value: object) -> Any:
    """Return `value` if Keras' ``verbose`` accepts it."""
    if isinstance(value, bool) or value not in VERBOSE:
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {value!r}")
    return value


def float_images(x: object, name: str) -> np.ndarray:
    """Return images as float32: ``uint8`` scaled to [0, 1], float used as it is.

    This is the one rule for pixel values in cnnviz: ``uint8`` images hold
    0 to 255 and are divided by 255 (exactly as ``x / 255.0``, then cast);
    float images are taken to be scaled already. Any other dtype is refused
    rather than guessed.
    """
    from .data import scale_images  # here, not at the top: data uses these checks too

    array = np.asarray(x)
    if array.dtype == np.uint8:
        return scale_images(array)
    if np.issubdtype(array.dtype, np.floating):
        # Converted once here, not per batch inside Keras.
        return np.ascontiguousarray(array, dtype=np.float32)
    raise TypeError(
        f"{name} must be uint8 images (0 to 255, scaled for you) or float images; "
        f"got dtype {array.dtype}"
    )


def keras_model(model: object, name: str = "model"):
    """Return `model` if it is a Keras model."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"{name} must be a keras.Model; got {type(model).__name__}")
    return model


def image_model(model: object, name: str = "model"):
    """Return `model` if it is a built Keras model with exactly one 4-D image input."""
    model = keras_model(model, name)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"{name} {model.name!r} is not built: give it an Input or call it on data first"
        ) from error
    if not inputs or len(inputs) != 1:
        raise ValueError(
            f"{name} must have exactly one image input; {model.name!r} has {len(inputs or [])}"
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(
            f"{name} must take images of shape (batch, height, width, channels); "
            f"{model.name!r} takes {shape}"
        )
    return model


def image_batch(images: object, input_shape: tuple, name: str = "images") -> np.ndarray:
    """Return `images` as a float32 batch (N, H, W, C) that fits `input_shape`.

    One image may be given as (H, W) (one channel) or (H, W, C); pixel
    values follow :func:`float_images`.
    """
    x = float_images(images, name)
    expected = tuple(input_shape[1:])
    if x.ndim == 2:
        if expected[-1] != 1:
            raise ValueError(
                f"{name} of shape {x.shape} have no channel axis, but the model takes "
                f"{expected[-1]} channels: give (H, W, C) = {expected} or a batch (N, H, W, C)"
            )
        x = x[np.newaxis, ..., np.newaxis]
    elif x.ndim == 3:
        x = x[np.newaxis]
    elif x.ndim != 4:
        raise ValueError(
            f"{name} must be one image (H, W) or (H, W, C), or a batch (N, H, W, C); "
            f"got shape {np.shape(images)}"
        )
    if len(x) == 0:
        raise ValueError(f"{name} is an empty batch (shape {np.shape(images)})")
    if any(e is not None and e != g for e, g in zip(expected, x.shape[1:], strict=True)):
        raise ValueError(
            f"the model takes images of shape {expected} (H, W, C); got {name} of shape "
            f"{np.shape(images)}"
        )
    return x
