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


def one_of(value: object, choices: tuple, name: str) -> Any:
    """Return `value` if it is one of `choices` (compared by equality, bools never match)."""
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


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


def finite_number(value: object, name: str) -> float:
    """Return `value` as a float if it is a finite real number (a colour limit, an offset)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
    ):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def verbose(value: object) -> Any:
    """Return `value` if Keras' ``verbose`` accepts it."""
    if isinstance(value, bool) or value not in VERBOSE:
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {value!r}")
    return value


def float_images(x: object, name: str, *, scale: bool = True) -> np.ndarray:
    """Return images as float32: ``uint8`` scaled to [0, 1] (if `scale`), float as it is.

    ``uint8`` images hold 0 to 255 and are divided by 255 (exactly as
    ``x / 255.0``, then cast); with ``scale=False`` they are only cast.
    Float images are taken to be scaled already and must be finite. Any
    other dtype is refused rather than guessed.
    """
    from .data import scale_images  # here, not at the top: data uses these checks too

    array = np.asarray(x)
    if array.dtype == np.uint8:
        return scale_images(array) if scale else array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        # Converted once here, not per batch inside Keras.
        return finite(np.ascontiguousarray(array, dtype=np.float32), name)
    raise TypeError(
        f"{name} must be uint8 images (0 to 255) or float images; got dtype {array.dtype}"
    )


def scales_its_input(model) -> bool:
    """Say whether `model` rescales its own input: its first layer is Rescaling or Normalization.

    Looked into where the first layer is itself a model (a nested model).
    """
    import keras

    layer = model
    while isinstance(layer, keras.Model):
        layers = [item for item in layer.layers if not isinstance(item, keras.layers.InputLayer)]
        if not layers:
            return False
        layer = layers[0]
    return isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization))


def scale_setting(scale: object, model) -> bool:
    """Return whether to divide ``uint8`` images by 255 for `model`: the one rule of cnnviz.

    ``scale=None`` (the default everywhere) scales ``uint8`` images unless
    the model scales its own input (:func:`scales_its_input`); ``True`` or
    ``False`` say it outright.
    """
    if scale is None:
        return not scales_its_input(model)
    if not isinstance(scale, (bool, np.bool_)):
        raise ValueError(f"scale must be None, True or False; got {scale!r}")  # noqa: TRY004
    return bool(scale)


def finite(array: np.ndarray, name: str) -> np.ndarray:
    """Return `array` if every value is finite; else say how many are not and where the first is.

    One NaN or inf pixel or target turns every weight it reaches into NaN
    and the model's answers into noise, with nothing to show for it; so
    non-finite inputs are refused where they enter.
    """
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold finite values; got {int(bad.sum())} NaN or infinite value(s), "
            f"the first at index {where} ({float(array[where])})"
        )
    return array


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
        if model.built:  # a subclassed model called on data: built, but no graph to read
            raise ValueError(
                f"{name} {model.name!r} is a subclassed model, whose layers cnnviz cannot "
                "reach; wrap it in a functional model: inputs = keras.Input(shape); "
                f"model = keras.Model(inputs, {model.name}(inputs))"
            ) from error
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


def softmax_end(model) -> bool:
    """Say whether `model`'s output comes out of a softmax.

    The rule: the model's last layer (looked into where it is itself a
    model) is a ``Softmax`` layer, or a layer whose ``activation`` is
    Keras' softmax (a ``Dense(..., activation="softmax")`` or an
    ``Activation("softmax")``).
    """
    import keras

    layer = model
    while isinstance(layer, keras.Model) and layer.layers:
        layer = layer.layers[-1]
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and keras.activations.serialize(activation) == "softmax"


def classifier(model: object, name: str = "model"):
    """Return `model` if it is an image model with one output of class probabilities."""
    model = image_model(model, name)
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        shapes = [tuple(output.shape) for output in model.outputs]
        raise ValueError(
            f"{name} must have one output of shape (batch, classes); {model.name!r} has {shapes}"
        )
    if not softmax_end(model):
        raise ValueError(
            f"{name} {model.name!r} does not end in a softmax, but the recipe's loss "
            "(categorical cross-entropy) needs class probabilities: give its last layer "
            "activation='softmax' or add keras.layers.Softmax()"
        )
    return model


def image_batch(
    images: object,
    model,
    name: str = "images",
    *,
    one_image: bool = True,
    scale: bool | None = None,
) -> np.ndarray:
    """Return `images` as a float32 batch (N, H, W, C) that fits `model`'s input.

    With `one_image`, one image may be given as (H, W) (one channel) or
    (H, W, C); otherwise `images` is always a batch, (N, H, W, C) or, for
    a one-channel model, (N, H, W). Pixel values follow :func:`float_images`
    and :func:`scale_setting`.
    """
    x = float_images(images, name, scale=scale_setting(scale, model))
    expected = tuple(model.inputs[0].shape[1:])
    if not one_image:
        batch = (
            f"{name} must be a batch of images (N, H, W, C) = (N, {', '.join(map(str, expected))})"
        )
        if x.ndim == 3 and expected[-1] == 1:
            x = x[..., np.newaxis]
        if x.ndim != 4 or any(
            e is not None and e != g for e, g in zip(expected, x.shape[1:], strict=True)
        ):
            raise ValueError(f"{batch}; got shape {np.shape(images)}")
    elif x.ndim == 2:
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
