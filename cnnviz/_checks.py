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


def is_integer(value: object) -> bool:
    """Whether `value` is an integer: Python's or NumPy's (``np.int64(28)``), never a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(value: object, name: str) -> int:
    """Return `value` as an int if it is an integer of at least 1."""
    if not is_integer(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def non_negative_int(value: object, name: str) -> int:
    """Return `value` as an int if it is an integer of at least 0 (a seed, an index)."""
    if not is_integer(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def one_of(value: object, choices: tuple, name: str) -> Any:
    """Return `value` if it is one of `choices` (compared by equality, bools never match)."""
    try:
        found = not isinstance(value, (bool, np.bool_)) and value in choices
    except (TypeError, ValueError):  # an array compares element by element: no one answer
        found = False
    if not found:
        shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise ValueError(f"{name} must be one of {choices}; got {shown}")
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


def non_negative_number(value: object, name: str) -> float:
    """Return `value` as a float if it is a finite real number of at least 0."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not value >= 0
    ):
        raise ValueError(f"{name} must be a finite number of at least 0; got {value!r}")
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


def flag(value: object, name: str) -> bool:
    """Return `value` as a bool if it is one: Python's or NumPy's, never a number or a string."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def optional_text(value: object, name: str) -> str | None:
    """Return `value` if it is a str or None (a title): not bytes, not a number shown as one."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None; got {type(value).__name__}")
    return value


def verbose(value: object) -> Any:
    """Return `value` if Keras' ``verbose`` accepts it."""
    if isinstance(value, (bool, np.bool_)) or value not in VERBOSE:
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {value!r}")
    return value


def _scaled(array: np.ndarray) -> np.ndarray:
    """Return uint8 `array` / 255 as float32, as Keras computes it from ``x / 255.``.

    The notebook's float64 ``x / 255.`` rounded once to float32 gives, for
    each of the 256 pixel values, the float32 quotient of float32 division,
    which IEEE arithmetic rounds correctly on every machine:
    ``test_scale_images_is_x_over_255_in_float32_bit_for_bit`` checks all 256,
    bit for bit. Divided in float32, no float64 temporary eight times the
    size of the images is made, nor (as a lookup table would) an 8-byte index
    per pixel: 31 ms for the 60,000 training images, where a table took 97.
    The one home of the rule (:func:`cnnviz.scale_images` is its public face).
    """
    return np.divide(array, np.float32(255), dtype=np.float32)


def float_images(x: object, name: str, *, scale: bool = True) -> np.ndarray:
    """Return images as float32: ``uint8`` scaled to [0, 1] (if `scale`), float as it is.

    ``uint8`` images hold 0 to 255 and are divided by 255 (exactly as
    ``x / 255.0``, then cast); with ``scale=False`` they are only cast.
    Float images are taken to be scaled already and must be finite. Any
    other dtype is refused rather than guessed.
    """
    array = np.asarray(x)
    if array.dtype == object and not isinstance(x, np.ndarray):
        # A stream (a tf.data.Dataset, a generator) where only an array is taken.
        raise TypeError(
            f"{name} must be an array of images, uint8 (0 to 255) or float; got "
            f"{type(x).__name__}, which is not an array"
        )
    if array.dtype == np.uint8:
        return _scaled(array) if scale else array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        # Converted once here, not per batch inside Keras.
        return finite(np.ascontiguousarray(array, dtype=np.float32), name)
    raise TypeError(
        f"{name} must be uint8 images (0 to 255) or float images; got dtype {array.dtype}"
    )


def where_bad(array: np.ndarray, bad: np.ndarray) -> str:
    """Say how many values `bad` marks in `array` and where the first is, for a message."""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return (
        f"{int(bad.sum())} NaN or infinite value(s), the first at index {where} "
        f"({float(array[where])})"
    )


def finite(array: np.ndarray, name: str) -> np.ndarray:
    """Return `array` if every value is finite; else say how many are not and where the first is.

    One NaN or inf pixel or target turns every weight it reaches into NaN
    and the model's answers into noise, with nothing to show for it; so
    non-finite inputs are refused where they enter.
    """
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must hold finite values; got {where_bad(array, bad)}")
    return array


#: The most classes a label may name where nothing gives the number of classes, and the
#: most a ``num_classes`` may ask for: a (classes, classes) int64 confusion matrix of
#: 10,000 classes takes 800 MB, and one stray label (10**6 for 10) must not ask for
#: terabytes. ImageNet has 1,000 classes.
MAX_CLASSES = 10_000


def class_count(value: object, name: str = "num_classes") -> int:
    """Return `value` as an int if it is a number of classes: an integer in [1, MAX_CLASSES]."""
    count = positive_int(value, name)
    if count > MAX_CLASSES:
        raise ValueError(
            f"{name} must be at most {MAX_CLASSES:,} (the most classes cnnviz counts: their "
            f"matrices grow as the square); got {value!r}"
        )
    return count


def labels(y: object, name: str, num_classes: int | None = None) -> np.ndarray:
    """Return `y` as 1-D int64 class labels: at least 0, and below `num_classes` if given.

    Without `num_classes`, labels must be below :data:`MAX_CLASSES`: the
    number of classes is then read from the labels, and a stray label must
    not make a result of its size.
    """
    array = np.asarray(y)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D integer labels of shape (N,); got shape {array.shape}"
        )
    if array.size and (not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold integer labels; got dtype {array.dtype}")
    bound = MAX_CLASSES if num_classes is None else num_classes
    # Compared before the cast: a uint64 label above 2**63 would wrap to a negative int64.
    bad = (array < 0) | (array >= bound)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        allowed = f"range(0, {bound})" + (
            f" (without a number of classes, at most {MAX_CLASSES:,})"
            if num_classes is None
            else ""
        )
        raise ValueError(
            f"{name} must hold labels in {allowed}; got {int(bad.sum())} outside it, the "
            f"first {array[first]} at index {first}"
        )
    return array.astype(np.int64)


def one_hot_targets(y: object, num_classes: int, name: str) -> np.ndarray:
    """Return targets as float32 one-hot rows: from labels (N,) or from rows (N, num_classes).

    Rows must be a distribution each (one-hot, or soft labels), since
    cross-entropy needs one.
    """
    y = np.asarray(y)
    if y.ndim == 1:
        chosen = labels(y, name, num_classes)
        encoded = np.zeros((chosen.size, num_classes), dtype=np.float32)
        encoded[np.arange(chosen.size), chosen] = 1.0
        return encoded
    if y.ndim == 2 and y.shape[1] == num_classes:
        if not np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_:
            raise TypeError(f"{name} must hold numbers; got dtype {y.dtype}")
        y = finite(np.ascontiguousarray(y, dtype=np.float32), name)
        sums = y.sum(axis=1)
        bad = np.flatnonzero((y < 0).any(axis=1) | (np.abs(sums - 1) > 1e-3))
        if bad.size:
            raise ValueError(
                f"{name} of shape {y.shape} must hold one-hot rows (or class probabilities: "
                f"non-negative, summing to 1); {bad.size} row(s) do not, e.g. row {bad[0]} "
                f"= {y[bad[0]].tolist()}"
            )
        return y
    raise ValueError(
        f"{name} must be integer labels of shape (N,) or one-hot of shape (N, {num_classes}); "
        f"got shape {y.shape}"
    )


def index(value: object, count: int, name: str, what: str) -> int:
    """Return `value` as an int if it is an integer in ``range(count)``; `what` says what it counts."""
    if not is_integer(value) or not 0 <= value < count:
        raise ValueError(f"{name} must be an integer in range(0, {count}) ({what}); got {value!r}")
    return int(value)


def indices(values: object, count: int, name: str, what: str) -> np.ndarray:
    """Return int64 indices in ``range(count)``: all of them for None, one int, or a sequence."""
    if values is None:
        return np.arange(count, dtype=np.int64)
    if is_integer(values):
        values = [values]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(
            f"{name} must be None, an integer or a sequence of integers; got {values!r}"
        )
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: give at least one index, or None for all {count}")
    return np.array([index(value, count, name, what) for value in values], dtype=np.int64)


def class_labels(y: object, name: str, num_classes: int | None = None) -> np.ndarray:
    """Return class labels as int64 (N,): from integer labels (N,) or one-hot rows (N, C).

    One-hot rows (or class probabilities) are checked as :func:`one_hot_targets`
    checks them and give the class of their largest entry; a row whose largest entry
    is shared by several classes names no one class and is refused, not taken for the
    first of them.
    """
    array = np.asarray(y)
    if array.ndim == 2:
        width = array.shape[1] if num_classes is None else num_classes
        rows = one_hot_targets(array, width, name)
        ties = (rows == rows.max(axis=1, keepdims=True)).sum(axis=1) > 1
        if ties.any():
            row = int(np.flatnonzero(ties)[0])
            tied = np.flatnonzero(rows[row] == rows[row].max()).tolist()
            raise ValueError(
                f"{name} must give each image one class: a row's class is its largest entry, "
                f"but {int(ties.sum())} row(s) share theirs among classes, the first row "
                f"{row}, largest ({float(rows[row].max()):g}) at classes {tied}"
            )
        return rows.argmax(axis=1).astype(np.int64)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be integer labels (N,) or one-hot rows (N, classes); "
            f"got shape {array.shape}"
        )
    return labels(array, name, num_classes)
