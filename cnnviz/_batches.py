"""The one way images arrive (private): an array, a ``tf.data.Dataset`` or an iterable of batches.

Every public function that takes images reads them through :func:`source`
(or :func:`whole`, where the result is per image and the images are needed
all at once), so the three forms, ``steps``, the pixel scaling and the chunk
sizes mean the same everywhere.

The three forms
    An **array**: one batch (N, H, W, C) (or (N, H, W) for a one-channel
    model; some functions also take one image, (H, W) or (H, W, C)), with
    any labels beside it. A ``tf.data.Dataset`` or any other **iterable of
    batches** (a list, a generator; not a tuple, which Keras reads as
    ``(x, y)``): each element is a batch of images or an ``(images, labels)``
    pair, read once, one batch at a time. Labels in a stream serve the
    functions that need them and are ignored by the others; labels given
    beside a stream are refused (they belong in the stream).

``steps``
    Keras' convention: the number of batches to read from a stream (a
    stream that ends sooner is read to its end); None reads to the end. A
    ``tf.data.Dataset`` that says it never ends (its cardinality is
    ``tf.data.INFINITE_CARDINALITY``, as after ``dataset.repeat()``) is
    refused without ``steps`` before anything is read. A generator, or a
    dataset whose cardinality is unknown (after ``filter``, or
    ``from_generator``), cannot say so and is read until it ends: it needs
    ``steps`` where it may not end. An array has no batches to count, so
    ``steps`` with an array is refused: slice it. Exactly ``steps`` batches
    are pulled from the source, never one more: a dataset is read through
    ``dataset.take(steps)`` (tf.data's own iterator would prefetch batches
    ahead of those read), any other stream through ``itertools.islice``.

Pixels
    Every piece goes through :func:`image_batch`, the one rule
    of cnnviz: ``uint8`` scaled to [0, 1] unless the model takes [0, 255]
    (:func:`scale_setting`, which refuses ``uint8`` where the model cannot
    say and ``scale`` does not), float used as it is, non-finite values
    refused. A pixel given as one number follows the same rule
    (:func:`pixel_value`). An array is converted chunk by chunk, never
    whole, so a large ``uint8`` array is not held a second time as float32.

The chunk policy
    A forward pass holds its images and, at most, every layer's output for
    them: :func:`~cnnviz.layer_outputs` returns them all, and a gradient
    tape keeps them all. :func:`chunk_size` gives the number of images whose
    input and layer outputs (float32) fit in :data:`CHUNK_BYTES` (64 MiB), at
    least :data:`MIN_IMAGES` (8: fewer would pay a pass's fixed cost for
    too little work) and at most :data:`MAX_IMAGES` (8192: a bound on what
    the estimate misses, such as a convolution's own work space). LeNet-5
    gets 1480 images a pass with ``valid`` padding (45 kB an image) and 863
    with ``same`` (78 kB); the part of it after conv2, which
    :func:`~cnnviz.channel_ablation` runs on many copies of conv2's output,
    6048 (11 kB a copy): per-call costs weigh more on such small passes (a
    ceiling of 1024 made the ablation of conv2 up to twice as slow). Arrays
    are cut into chunks, and a stream's batches larger than a chunk are cut
    too, so memory beyond the data is that of one chunk. A public
    ``batch_size`` argument (:func:`~cnnviz.predict`,
    :func:`~cnnviz.top_patches`) lowers it, never raises it. For a model whose
    input size is open (``keras.Input((None, None, 1))``) the policy is worked
    out for each piece from the images' real size; images too small for its
    layers are refused before it runs (:func:`_fits`), and per-image results
    of a stream of several sizes only where they have one shape (:class:`Rows`).
    Dataset-level results (top patches, class means, ablation, loss and
    accuracy) are folded in chunk by chunk, in memory constant in the number
    of images; per-image results are gathered with :class:`Rows`.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Iterable, Iterator

import keras
import numpy as np

from . import _checks, _graph

#: What one forward pass may hold, in bytes: its images and every layer's output for them.
CHUNK_BYTES = 64 * 2**20
#: The fewest images a pass takes, whatever the model's size.
MIN_IMAGES = 8
#: The most images a pass takes, however small the model.
MAX_IMAGES = 8192


def chunk_size(model: keras.Model, image_shape: tuple | None = None) -> int:
    """Return the images per forward pass for `model`: the one chunk policy (see the module).

    `image_shape` is the shape of one image as it arrives, (H, W, C): for a
    model whose input size is not fixed (``keras.Input((None, None, 1))``),
    it stands in for the unknown sizes.
    """
    per_image = 4 * _values_per_image(model, image_shape)
    return min(MAX_IMAGES, max(MIN_IMAGES, CHUNK_BYTES // max(per_image, 1)))


def _values_per_image(model: keras.Model, image_shape: tuple | None = None) -> int:
    """Count the input's values and every layer's output's, per image, nested models' included.

    The layers are those of cnnviz's one walk of a model (``_graph``). A size
    the model leaves open is taken from `image_shape` axis by axis (no layer
    of an image model makes a map larger than its input); an output whose
    size is still not known counts as the size of the input.
    """
    declared = tuple(model.inputs[0].shape[1:])
    actual = tuple(image_shape) if image_shape is not None else declared
    image = _size(declared, actual) or 1  # an input of unknown size counts as 1
    total = image
    _, _, calls = _graph.trace(model)
    for key, (layer, _, output) in calls.calls.items():
        if isinstance(layer, keras.layers.InputLayer) or (
            isinstance(layer, keras.Model) and key not in calls.whole
        ):
            continue  # the input, and nested models whose layers are counted one by one
        total += sum(_size(out.shape[1:], actual) or image for out in keras.tree.flatten(output))
    return total


def _size(shape, actual: tuple = ()) -> int:
    """Return the number of values of one image's `shape`; 0 if a dimension is unknown.

    An unknown dimension of a shape of the input's rank is taken from `actual`.
    """
    dims = tuple(shape)
    if len(dims) == len(actual):
        dims = tuple(a if d is None else d for d, a in zip(dims, actual, strict=True))
    return 0 if any(d is None for d in dims) else math.prod(int(d) for d in dims)


def is_array(value: object) -> bool:
    """Whether `value` is an array (NumPy's, or one that converts to it, a tensor) and not a stream."""
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype")
    )


def _is_dataset(images: object) -> bool:
    """Whether `images` is a ``tf.data.Dataset``."""
    tf = sys.modules.get("tensorflow")  # not imported: then `images` cannot be a Dataset
    return tf is not None and isinstance(images, tf.data.Dataset)


def _endless(images: object) -> bool:
    """Whether `images` is a ``tf.data.Dataset`` that says it never ends (``dataset.repeat()``)."""
    return (
        _is_dataset(images)
        and int(images.cardinality()) == sys.modules["tensorflow"].data.INFINITE_CARDINALITY
    )


class Source:
    """Images checked where they enter, read chunk by chunk: ``for x, y in source``.

    Each step gives a float32 chunk of images (at most `chunk` of them) and
    its labels (int64 classes (n,), or float32 one-hot rows (n, classes)
    with `one_hot`), or None where the function needs no labels. Made by
    :func:`source`, which documents the arguments.
    """

    def __init__(
        self,
        model: keras.Model,
        images: object,
        labels: object,
        *,
        chunk: int,
        steps: object,
        need_labels: bool,
        one_hot: bool,
        num_classes: int | None,
        one_image: bool,
        scale: object,
        names: tuple[str, str],
        takes_steps: bool,
        takes_scale: bool,
    ) -> None:
        self._model = model
        self._chunk = chunk  # None: the policy's; else at most this many and the policy's
        self._need_labels = need_labels
        self._one_hot = one_hot
        self._num_classes = num_classes
        self._one_image = one_image
        self._names = names
        self._scale = scale_argument(scale)  # a bad `scale` is refused here
        self._takes_scale = takes_scale
        name, label_name = names
        # More batches than sys.maxsize (2**63 - 1, what islice and tf.data's take() hold)
        # are all of them: steps=10**30 reads to the end, as any steps beyond it does.
        self._steps = (
            None if steps is None else min(_checks.positive_int(steps, "steps"), sys.maxsize)
        )
        self.count: int | None = None  # the number of images, where it is known before reading
        self._labels = None
        if is_array(images):
            self._images = np.asarray(images)
            if self._steps is not None:
                raise ValueError(
                    f"steps bounds the batches read from a stream, but {name} is an array "
                    f"(shape {self._images.shape}), which has no batches to count: give "
                    f"{name}[:n] for fewer images; got steps={steps!r}"
                )
            self.count = self._array_count()
            if need_labels:
                self._labels = self._array_labels(labels)
            return
        if isinstance(images, tuple):
            # Keras reads a tuple as (x, y); as a stream of two batches it would fail later
            # with a message about the labels' dtype or shape.
            raise TypeError(
                f"{name} must be an array of images (N, H, W, C), a tf.data.Dataset or an "
                f"iterable of batches (a list, a generator); got a tuple of {len(images)} "
                f"items: images with their labels are a stream of pairs, e.g. [({name}, "
                f"{label_name})]"
            )
        if isinstance(images, (str, bytes, dict)) or not isinstance(images, Iterable):
            raise TypeError(
                f"{name} must be an array of images (N, H, W, C), a tf.data.Dataset or an "
                f"iterable of batches (a list, a generator); got {type(images).__name__}"
            )
        if labels is not None and need_labels:
            raise ValueError(
                f"{label_name} must be None when {name} is a stream of batches: put the labels "
                f"in the stream, as ({name}, {label_name}) pairs; got {label_name} of type "
                f"{type(labels).__name__}"
            )
        if self._steps is None and _endless(images):
            where = (
                "give steps=, the number of batches to read"
                if takes_steps
                else "this function reads a stream to its end (its results are per image), "
                "so give a finite one, e.g. dataset.take(n) for n batches"
            )
            raise ValueError(
                f"{name} is a tf.data.Dataset that never ends (its cardinality is "
                f"tf.data.INFINITE_CARDINALITY, as after dataset.repeat()): {where}"
            )
        self._images = images

    # --- arrays ---------------------------------------------------------------------------------

    def _batch_array(self) -> bool:
        """Whether the array is a batch to cut along its first axis (not one image, not malformed)."""
        x = self._images
        return x.ndim == 4 or (x.ndim == 3 and not self._one_image)

    def _array_count(self) -> int | None:
        if self._batch_array():
            return len(self._images)
        return 1 if self._one_image and self._images.ndim in (2, 3) else None

    def _array_labels(self, labels: object) -> np.ndarray:
        name, label_name = self._names
        if labels is None:
            raise ValueError(
                f"{label_name} must be given with {name} as an array (integer labels (N,) or "
                f"one-hot rows (N, classes)); only a stream of ({name}, {label_name}) batches "
                "brings its own"
            )
        y = self._checked_labels(labels, label_name)
        if self.count is not None and len(y) != self.count:
            hint = (
                f" ({name} of shape {self._images.shape} are read as {self.count} one-channel "
                f"images (N, H, W); one image with channels is {name}[np.newaxis])"
                if self._images.ndim == 3
                else ""
            )
            raise ValueError(
                f"{name} and {label_name} must have the same length; got {self.count} images "
                f"and {len(y)} labels{hint}"
            )
        return y

    def _checked_labels(self, labels: object, name: str) -> np.ndarray:
        if self._one_hot:
            labels = np.asarray(labels)
            if labels.ndim == 1:  # checked here, so that the message names them
                labels = _checks.labels(labels, name, self._num_classes)
            return _checks.one_hot_targets(labels, self._num_classes, name)
        return _checks.class_labels(labels, name, self._num_classes)

    def _from_array(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        x, y, name = self._images, self._labels, self._names[0]
        chunk = self._chunk_for(x.shape[1:]) if self._batch_array() else 0
        if not self._batch_array() or len(x) <= chunk:
            # One piece, named as the argument: one image, a small batch, or a malformed array
            # (which image_batch refuses with its whole shape).
            yield self._image_batch(x, name), y
            return
        for start in range(0, len(x), chunk):
            part = slice(start, start + chunk)
            stop = start + len(x[part])
            yield (
                self._image_batch(x[part], f"{name}[{start}:{stop}]"),
                None if y is None else y[part],
            )

    def _chunk_for(self, image_shape: tuple) -> int:
        """Images per piece for images of `image_shape`: the policy's, or fewer if asked."""
        policy = chunk_size(self._model, tuple(image_shape))
        return policy if self._chunk is None else min(self._chunk, policy)

    def _image_batch(self, x: np.ndarray, name: str) -> np.ndarray:
        return image_batch(
            x, self._model, name, one_image=self._one_image, scale=self._scale_for(x)
        )

    def _scale_for(self, x: np.ndarray) -> bool | None:
        """Return the scaling of a piece: decided once, by the argument's name, at the first uint8 one."""
        if self._scale is None and x.dtype == np.uint8:
            self._scale = scale_setting(
                None, self._model, self._names[0], takes_scale=self._takes_scale
            )
        return self._scale

    # --- streams --------------------------------------------------------------------------------

    def _from_stream(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        name, label_name = self._names
        stream = self._images
        if self._steps is not None and _is_dataset(stream):
            # take(), not only islice: tf.data injects a prefetch into an iterator's pipeline,
            # which pulls batches ahead of the ones read (4 of a generator's for steps=2).
            stream = stream.take(self._steps)
        batches = iter(stream)
        if self._steps is not None:
            batches = itertools.islice(batches, self._steps)  # never pulls batch steps + 1
        seen = 0
        for number, element in enumerate(batches):
            if isinstance(element, (tuple, list)) and len(element) in (1, 2):
                batch, y = element[0], (element[1] if len(element) == 2 else None)
            elif is_array(element):
                batch, y = element, None
            else:
                raise TypeError(
                    f"batch {number} of {name} must be an array of images or a pair "
                    f"({name}, {label_name}); got {type(element).__name__}"
                    + (f" of length {len(element)}" if isinstance(element, (tuple, list)) else "")
                )
            where = f"batch {number} of {name}"
            batch = np.asarray(batch)
            self._refuse_one_image(batch, where)
            x = image_batch(
                batch, self._model, where, one_image=False, scale=self._scale_for(batch)
            )
            if self._need_labels:
                if y is None:
                    raise ValueError(
                        f"{where} has no labels: this function needs a stream of "
                        f"({name}, {label_name}) pairs"
                    )
                y = self._checked_labels(np.asarray(y), f"the labels of {where}")
                if len(y) != len(x):
                    raise ValueError(
                        f"{where} must hold as many labels as images; got {len(x)} "
                        f"images and {len(y)} labels"
                    )
            else:
                y = None
            chunk = self._chunk_for(x.shape[1:])
            for start in range(0, len(x), chunk):
                part = slice(start, start + chunk)
                yield x[part], None if y is None else y[part]
            seen += len(x)
        if not seen:
            raise ValueError(f"{name} gave no batches: the stream is empty")

    def _refuse_one_image(self, batch: np.ndarray, where: str) -> None:
        """Refuse one image where a stream must give a batch, and say how to batch the stream."""
        expected = tuple(self._model.inputs[0].shape[1:])
        one = (expected, expected[:-1]) if expected[-1] == 1 else (expected,)

        def fits(shape: tuple) -> bool:  # an open size (None) fits any
            return len(batch.shape) == len(shape) and all(
                e is None or e == g for e, g in zip(shape, batch.shape, strict=True)
            )

        if any(fits(shape) for shape in one):
            raise ValueError(
                f"{where} must be a batch of images (N, H, W, C) = "
                f"(N, {', '.join(map(str, expected))}); got shape {batch.shape}, one image, not "
                "a batch: batch the stream (dataset.batch(n)) or give the images as an array"
            )

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        return self._from_array() if is_array(self._images) else self._from_stream()


def source(
    model: keras.Model,
    images: object,
    labels: object = None,
    *,
    chunk: int | None = None,
    steps: object = None,
    need_labels: bool = False,
    one_hot: bool = False,
    num_classes: int | None = None,
    one_image: bool = False,
    scale: object = None,
    names: tuple[str, str] = ("images", "labels"),
    takes_steps: bool = True,
    takes_scale: bool = False,
) -> Source:
    """Return `images` (and `labels`) checked, to be read chunk by chunk.

    What can be checked before anything is read is checked here: `steps`,
    `scale`, the form of `images`, labels beside a stream, an endless
    dataset without `steps`, and labels beside an array. Each piece is
    checked as it is read.

    Parameters
    ----------
    model : keras.Model
        The image model the images are for (checked by the caller).
    images, labels
        The public arguments: an array (with `labels` where `need_labels`),
        or a stream of batches or ``(images, labels)`` pairs (`labels` None).
    chunk : int, optional
        At most this many images per piece (a public ``batch_size``); the
        policy's :func:`chunk_size` bounds it in any case.
    steps : int, optional
        Batches to read from a stream; refused with an array.
    need_labels : bool
        Whether the function needs labels; without it, labels in a stream
        are ignored.
    one_hot : bool
        Give labels as float32 one-hot rows (soft labels kept) instead of
        int64 classes; needs `num_classes`.
    num_classes : int, optional
        Labels must be below it.
    one_image : bool
        Whether an array may be one image, (H, W) or (H, W, C).
    scale : bool, optional
        The public ``scale`` argument (:func:`scale_setting`).
    takes_scale : bool
        Whether the public function has a ``scale`` argument (the message
        for a model whose scale cannot be told says how to give it).
    names : (str, str)
        The names of the images and labels arguments, for messages.
    takes_steps : bool
        Whether the public function has a ``steps`` argument (the message
        for an endless dataset says what to do instead).
    """
    return Source(
        model,
        images,
        labels,
        chunk=chunk,
        steps=steps,
        need_labels=need_labels,
        one_hot=one_hot,
        num_classes=num_classes,
        one_image=one_image,
        scale=scale,
        names=names,
        takes_steps=takes_steps,
        takes_scale=takes_scale,
    )


def refuse_one_pass(images: object, name: str, why: str) -> None:
    """Refuse an iterator (a generator) where the images must be read more than once.

    Arrays, datasets and other iterables (a list) give their batches again each time they
    are iterated; an iterator gives them once, and a second pass would find it empty.
    """
    if isinstance(images, Iterator):
        raise TypeError(
            f"{name} is an iterator ({type(images).__name__}), which can be read only once, "
            f"but {why}: give an array, a tf.data.Dataset or a list of batches"
        )


def whole(model: keras.Model, images: object, *, name: str = "images") -> np.ndarray:
    """Return all of `images` as one float32 batch: for functions whose results are per image.

    An array is checked and converted whole, as :func:`image_batch`
    does (one image may be given as (H, W) or (H, W, C)); a finite stream is
    read to its end (an endless dataset is refused: these functions take no
    ``steps``). Labels in the stream are ignored.
    """
    if is_array(images):
        return image_batch(images, model, name)
    read = source(model, images, chunk=sys.maxsize, names=(name, "labels"), takes_steps=False)
    rows = Rows(None, name, "images")
    for x, _ in read:
        rows.add(x)
    return rows.result()


class Rows:
    """Per-image results gathered piece by piece into one array, never whole twice.

    Where the number of images is known (arrays), the result is allocated
    once and each piece copied into it (one piece that is the whole is kept
    as it is). Otherwise the pieces are kept, and at the end copied into the
    result one by one, each let go as soon as it is copied.

    `name` (the argument) and `what` (the results) are for the message that refuses
    pieces of different shapes: a stream's batches of different sizes, for a model of
    any input size, give maps of different sizes, which one array cannot hold.
    """

    def __init__(self, count: int | None, name: str = "images", what: str = "results") -> None:
        self._count = count
        self._parts: list[np.ndarray] = []
        self._whole: np.ndarray | None = None
        self._filled = 0
        self._name, self._what = name, what  # the argument and what is gathered, for messages
        self._shape: tuple | None = None  # one row's shape, that of the first piece

    def add(self, part: np.ndarray) -> None:
        if self._shape is None:
            self._shape = part.shape[1:]
        elif part.shape[1:] != self._shape:
            # A model of any input size, given a stream of images of several sizes.
            raise ValueError(
                f"{self._name} must hold images of one size here: this function returns its "
                f"{self._what} for all of them as one array, and theirs differ in shape from one "
                f"batch to another ({self._shape}, then {part.shape[1:]}), as images of "
                "different sizes give for a model that takes any size; give the images of each "
                "size in their own call"
            )
        if self._count is None:
            self._parts.append(part)
            return
        if self._whole is None:
            if len(part) == self._count:
                self._whole, self._filled = part, len(part)
                return
            self._whole = np.empty((self._count, *part.shape[1:]), part.dtype)
        self._whole[self._filled : self._filled + len(part)] = part
        self._filled += len(part)

    def result(self) -> np.ndarray:
        if self._whole is not None:
            return self._whole
        parts = self._parts
        if len(parts) == 1:
            return parts.pop()
        whole = np.empty((sum(len(p) for p in parts), *parts[0].shape[1:]), parts[0].dtype)
        parts.reverse()  # popped from the end: the first piece first
        filled = 0
        while parts:
            part = parts.pop()
            whole[filled : filled + len(part)] = part
            filled += len(part)
        return whole


# --- one array of images (or images and labels) for a model ------------------------------


def scale_argument(scale: object) -> bool | None:
    """Return the public ``scale`` argument checked: None, True or False."""
    if scale is None:
        return None
    if not isinstance(scale, (bool, np.bool_)):
        raise ValueError(f"scale must be None, True or False; got {scale!r}")  # noqa: TRY004
    return bool(scale)


def scale_setting(
    scale: object, model, name: str = "images", *, takes_scale: bool = False, number: bool = False
) -> bool:
    """Return whether to divide ``uint8`` pixels by 255 for `model`: the one rule of cnnviz.

    ``True`` or ``False`` say it outright and always win. ``None`` (the
    default everywhere) divides unless the model takes pixels in [0, 255]
    (:func:`cnnviz._graph.input_scale`: the first layer that changes pixel
    values scales them); where the model cannot say, ``uint8`` pixels are
    refused rather than scaled by a guess. Called only for ``uint8`` pixels:
    float ones are used as they are and need no answer. `name` is the
    argument, `takes_scale` whether the public function has ``scale``, and
    `number` whether the pixel is one number (a baseline, a fill value).
    """
    scale = scale_argument(scale)
    if scale is not None:
        return scale
    found = _graph.input_scale(model)
    if found.range is not None and not found.inferred:
        return found.range == _graph.UNIT
    if number:
        remedy = (
            f"give {name} as a float in the model's input scale ({name} / 255 for a model "
            f"that takes [0, 1], float({name}) for one that takes [0, 255])"
        )
    else:
        remedy = (
            f"give {name} as floats, used as they are ({name} / 255 for a model that takes "
            f"[0, 1], {name}.astype('float32') for one that takes [0, 255])"
        )
        if takes_scale:
            remedy = (
                "say which: scale=True divides uint8 pixels by 255 (a model that takes "
                "[0, 1]), scale=False passes them as they are (a model that takes [0, 255]); "
                f"or {remedy}"
            )
    if found.range is not None:  # read from the data a Normalization was adapted on
        divided = found.range == _graph.UNIT
        warnings.warn(
            f"uint8 {name} {'divided by 255' if divided else 'passed as they are'} for model "
            f"{model.name!r}, which takes pixels in [{found.range[0]:g}, {found.range[1]:g}] "
            f"as far as cnnviz can tell: {found.reason}. A Normalization's statistics say "
            f"which data it was adapted on, not which pixels it is given; to say so outright "
            f"and silence this warning, {remedy}",
            UserWarning,
            stacklevel=3,
        )
        return divided
    raise ValueError(
        f"cannot scale uint8 {name}: cnnviz cannot tell whether model {model.name!r} takes "
        f"pixels in [0, 1] or in [0, 255], since {found.reason}. To go on, {remedy}"
    )


def pixel_value(value: object, model, name: str) -> np.float32:
    """Return one pixel value (a baseline, a fill value) in `model`'s input scale.

    A ``uint8`` number (``np.uint8(255)``, or a 0-d ``uint8`` array) is a
    pixel like the ``uint8`` images and follows the same rule
    (:func:`scale_setting`); any other finite number is taken to be in the
    model's input scale already, as float images are.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is its number
    if isinstance(value, np.uint8):
        scale = scale_setting(None, model, name, number=True)
        return np.float32(_checks.float_images(np.asarray(value), name, scale=scale))
    return np.float32(_checks.finite_number(value, name))


def image_batch(
    images: object,
    model,
    name: str = "images",
    *,
    one_image: bool = True,
    scale: bool | None = None,
    takes_scale: bool = False,
) -> np.ndarray:
    """Return `images` as a float32 batch (N, H, W, C) that fits `model`'s input.

    With `one_image`, one image may be given as (H, W) (one channel) or
    (H, W, C); otherwise `images` is always a batch, (N, H, W, C) or, for
    a one-channel model, (N, H, W). Pixel values follow :func:`cnnviz._checks.float_images`
    and, for ``uint8`` images, :func:`scale_setting` (`takes_scale`: whether
    the public function has ``scale``, for its message).
    """
    scale = scale_argument(scale)
    array = np.asarray(images)
    if array.dtype == np.uint8:
        scale = scale_setting(scale, model, name, takes_scale=takes_scale)
    # Not an array (a generator, a stream): given as it came, so that the check says so
    # rather than "dtype object".
    given = images if array.dtype == object and not isinstance(images, np.ndarray) else array
    x = _checks.float_images(given, name, scale=bool(scale))
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
    if None in expected:
        _fits(model, x.shape[1:], name)
    return x


def _fits(model, shape: tuple, name: str) -> None:
    """Refuse images of `shape` too small for a model of any input size, before it runs.

    Keras works the layers' output sizes out only when the model runs, and an eager call
    on oneDNN's kernels does not always refuse a window larger than its input: a 5x5
    convolution of a 4x4 map gave a 4x4 output of zeros. The sizes are worked out
    symbolically instead, once per model and image size.
    """

    def problem() -> str | None:
        try:
            model.compute_output_spec(keras.KerasTensor((1, *shape)))
        except ValueError as error:  # a layer's output would have no size
            return str(error).strip().splitlines()[0]
        return None

    why = _graph.cached(model, "fits", tuple(shape), problem)
    if why is not None:
        raise ValueError(
            f"{name} ({shape[0]}x{shape[1]} pixels) are too small for model {model.name!r}, "
            f"which takes images of any size but needs them large enough for its layers: {why}"
        )


def labelled_images(model, x: object, y: object, names: tuple[str, str], scale) -> tuple:
    """Return a batch of images for `model` and their one-hot targets, checked to match in length.

    For :func:`~cnnviz.train`, which has ``scale``.
    """
    x = image_batch(x, model, names[0], one_image=False, scale=scale, takes_scale=True)
    y = _checks.one_hot_targets(y, int(model.outputs[0].shape[-1]), names[1])
    if len(x) != len(y):
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length; got {len(x)} images and "
            f"{len(y)} labels"
        )
    return x, y
