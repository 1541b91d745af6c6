"""The one way images arrive: arrays, or a stream of batches (private)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import keras
import numpy as np

from . import _checks

# Images per forward pass when arrays are given (a stream brings its own batches).
_BATCH = 512


def is_array(value: object) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype")
    )


def batches(
    model: keras.Model,
    images: object,
    labels: object,
    *,
    need_labels: bool,
    num_classes: int | None = None,
    batch_size: int = _BATCH,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield (float32 images, int64 labels or None) batch by batch, from arrays or a stream.

    Arrays are cut into slices of `batch_size`, each converted on its own, so
    memory stays that of one batch beyond the arrays themselves. A stream is
    any iterable (a ``tf.data.Dataset`` included) of batches of images, or of
    ``(images, labels)`` pairs; it is read once, one batch at a time.
    """
    if is_array(images):
        x = np.asarray(images)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"images is empty (shape {x.shape}): give at least one image")
        y = None
        if need_labels:
            if labels is None:
                raise ValueError(
                    "labels must be given with images as arrays (integer labels (N,) or "
                    "one-hot rows); only a stream of (images, labels) batches brings its own"
                )
            y = _checks.class_labels(labels, "labels", num_classes)
            if len(y) != len(x):
                raise ValueError(
                    f"images and labels must have the same length; got {len(x)} images and "
                    f"{len(y)} labels"
                )
        for start in range(0, len(x), batch_size):
            part = slice(start, start + batch_size)
            name = f"images[{start}:{start + len(x[part])}]"
            batch = _checks.image_batch(x[part], model, name, one_image=False)
            yield batch, None if y is None else y[part]
        return
    if labels is not None:
        raise ValueError(
            "labels must be None when images is a stream of batches: give (images, labels) "
            f"pairs in the stream instead; got labels of type {type(labels).__name__}"
        )
    if isinstance(images, (str, bytes, dict)) or not isinstance(images, Iterable):
        raise TypeError(
            "images must be an array of images (N, H, W, C) or an iterable of batches "
            f"(a tf.data.Dataset, a generator); got {type(images).__name__}"
        )
    seen = 0
    for number, element in enumerate(images):
        if isinstance(element, (tuple, list)) and len(element) in (1, 2):
            batch, y = element[0], (element[1] if len(element) == 2 else None)
        elif is_array(element):
            batch, y = element, None
        else:
            raise TypeError(
                f"batch {number} of images must be an array of images or a pair "
                f"(images, labels); got {type(element).__name__}"
                + (f" of length {len(element)}" if isinstance(element, (tuple, list)) else "")
            )
        x = _checks.image_batch(
            np.asarray(batch), model, f"batch {number} of images", one_image=False
        )
        if need_labels:
            if y is None:
                raise ValueError(
                    f"batch {number} of images has no labels: this function needs a stream of "
                    "(images, labels) pairs"
                )
            y = _checks.class_labels(np.asarray(y), f"the labels of batch {number}", num_classes)
            if len(y) != len(x):
                raise ValueError(
                    f"batch {number} must hold as many labels as images; got {len(x)} images "
                    f"and {len(y)} labels"
                )
        seen += len(x)
        yield x, (y if need_labels else None)
    if not seen:
        raise ValueError("images gave no batches: the stream is empty")
