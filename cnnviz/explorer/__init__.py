"""Export Keras models to a static page that runs them in the browser: the explorer.

:func:`export` writes a self-contained folder: ``index.html``, its JavaScript
modules (``layers.js`` the arithmetic, forward and backward, ``weights.js``
reading and checking the weights, ``images.js`` the brush, uploads and
checking ``images.json``, ``view.js`` the drawing, ``state.js`` the view in
the URL and the shift, ``main.js`` the wiring), ``style.css``, one weights
file per model (``weights-0.bin``, ``weights-1.bin``, ...), ``weights.bin``,
if images are given ``images.json``, and, last,
``cnnviz-export.json``, the list of the files it wrote. Any static web
server serves it; nothing is fetched from elsewhere, so it works offline once
loaded.

The weights file, ``weights.bin`` (all integers little-endian):

========  =======================================================================
bytes     content
========  =======================================================================
0-7       the magic ``b"CNNVIZW4"`` (format version 4)
8-39      the SHA-256 (32 bytes) of every byte from byte 40 to the end of the
          file: the manifest's length and the manifest
40-43     ``M``, the length of the manifest in bytes (uint32)
44-...    the manifest, ``M`` bytes of UTF-8 JSON, to the end of the file
========  =======================================================================

Each model's weights file holds its arrays in C order, one after the other,
as little-endian float32 (``"dtype": "float32"``, the default: lossless, the
page runs the very weights of the model) or float16 (``"float16"``, each
weight rounded to half precision, for half the download; the page reads
them into float32, exactly, and computes in float32), stored as byte planes
(the first byte of every value, then the second, and so on: the bytes that
hold the sign and exponent are alike from weight to weight) compressed with
raw DEFLATE (RFC 1951), which the browser inflates with its
``DecompressionStream``. The page fetches a model's file when it first shows
the model, and checks its length and SHA-256 against the manifest before it
inflates it.

The checksum covers the manifest byte for byte as written (no canonical form
to agree on: the page hashes the bytes it received), and the manifest holds
each weights file's SHA-256, so one checksum stands for every weight. The
page checks it before it reads a byte of the manifest, and
refuses the file, saying so, if it does not match; then it checks every field
of the manifest against the others (below) and refuses, naming the field,
what was expected and what it holds, any that does not fit. A file of an
earlier format (magic ``b"CNNVIZW1"``, whose checksum covered the data only,
``b"CNNVIZW2"``, whose models were chains, or ``b"CNNVIZW3"``, whose weights
were float32 only) is refused with a request to export again.

The manifest holds ``"format": "cnnviz-explorer-weights"``, ``"version": 4``,
``"class_names"``, ``"title"``, ``"images"`` (how many images
``images.json`` holds, 0 if there is no such file) and ``"models"``: a list
with, for each model, its ``"key"``, ``"name"``, ``"input_shape"``
([height, width, channels], the same for every model), ``"weights"`` (its weights file: ``"file"``, the name,
``"weights-<index>.bin"``; ``"bytes"``, its length; ``"sha256"``, its
SHA-256 as hex; ``"values"``, the number of values it holds;
``"dtype"``, ``"float32"`` or ``"float16"``) and
``"layers"``, in an order
they can run in; the last layer's output is the model's. Each layer has
``"name"``, ``"type"`` (the Keras class name), ``"inputs"`` (the indices of
the earlier layers whose outputs it reads, in the order it reads them; -1 is
the model's input: a chain has ``[i - 1]``, an ``Add`` of a residual block
two), ``"output_shape"`` (without the batch axis), its settings
(``"kernel_size"``, ``"strides"``, ``"padding"``, ``"activation"``,
``"pool_size"``, ``"keepdims"``, ``"negative_slope"``, ``"max_value"``,
``"threshold"``, ``"alpha"``, ``"cropping"``, ``"mode"`` where they apply;
``"padding"`` of a padding layer is ``[[top, bottom], [left, right]]``;
``"scale"`` and ``"offset"`` of a ``BatchNormalization`` or a
``Rescaling``: lists of numbers, each a float32 value, one per channel or,
for ``Rescaling``, one for all; a batch normalization's are folded from its
four weights as stored, in float32, as TensorFlow folds them:
gamma / sqrt(moving_variance + epsilon), and beta - moving_mean times that)
and ``"arrays"``: for each weight array its ``"name"`` (``"kernel"``, ``"bias"``;
``"depthwise_kernel"`` and ``"pointwise_kernel"`` of a ``SeparableConv2D``),
``"shape"`` (Keras' own: a Conv2D kernel is (kh, kw, in, out), a
DepthwiseConv2D kernel (kh, kw, in, multiplier), a Dense kernel (in, out)),
``"offset"`` (bytes from the start of the model's weights read as float32,
four per value, whatever the file stores) and ``"length"`` (number of
values).

What the page checks before it runs anything: the format and version; no
field but those above (a field it does not read, such as a ``"dilation_rate"``,
may change what a layer computes, so it is refused rather than ignored); keys
and layer names present and distinct; the input shape three integers of at
least 1, the channels 1 or 3, the same for every model; every
layer's inputs earlier layers (or -1), one for every type but ``Add`` and
``Concatenate``, whose inputs agree in shape (but the channels, for
``Concatenate``); every layer type, activation (``linear``, ``relu``,
``relu6``, ``leaky_relu``, ``elu``, ``selu``, ``gelu``, ``silu``,
``sigmoid``, ``hard_sigmoid``, ``hard_silu``, ``tanh``, ``softplus``,
``softsign``, ``mish``, ``softmax``) and padding (``valid``, ``same``; a
``Padding2D``'s ``reflect`` or ``circular``, no wider than its input allows)
one it knows; kernel and pool sizes and strides integers of at least 1, a
pool window no larger than its input, a cropping smaller than its input;
each kernel's shape taking the channels (or values) of its input and each
bias one value per output; a scale and offset one number finite in float32
per channel (or one for all, for ``Rescaling``); every ``"length"`` the product of
its ``"shape"``; each model's arrays following one another from offset 0,
4-byte aligned, and filling exactly its ``"values"``; each weights file a
plain name beside the page, no two models' the same, with a length and a
SHA-256 of 64 lowercase hexadecimal digits, and a ``"dtype"`` of the two; every ``"output_shape"`` the one
the layer computes from its inputs (the shapes chain from the input to the
output); as many class names as output units where the output is a vector;
ReLU settings finite numbers of at least 0; ``"images"`` a count; and, when
a model's file is read, its length, SHA-256 and inflated length (its
values times 4 or 2 bytes) the manifest's, and every weight finite.

``images.json`` holds ``"weights_sha256"`` (the checksum in bytes 8-39 of
the ``weights.bin`` it was written with, as hex: the page uses the images
only with those weights), ``"labels"``, ``"shape"`` ([height, width] for
one channel, [height, width, 3] for three: the models' input) and
``"pixels"``: the images as base64 of ``uint8`` bytes, row-major, channels
last.

``cnnviz-export.json`` holds ``"format": "cnnviz-explorer-export"``,
``"version": 1``, ``"cnnviz"`` (the version that wrote it) and ``"files"``:
the names of the files the export wrote. A later export into the same folder
replaces exactly those files (removing the ones it does not write again) and
leaves every other file alone.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..data import CLASS_NAMES
from ._folder import STATIC_FILES, _earlier_export, _target, _write_files
from ._weights import CHANNELS, MAGIC, PRECISIONS, _manifest, _weights_file, model_file

__all__ = ["export"]


def export(
    model: Any,
    directory: str | os.PathLike,
    *,
    images: Any = None,
    labels: Any = None,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
    precision: str = "float32",
) -> Path:
    """Write a static page that runs `model` in the browser, layer by layer, on a drawing.

    The page has a drawing canvas of the models' input size (a 28x28 one
    for Fashion-MNIST models; the brush paints white in every channel), a
    picker of the given `images` by
    class and an upload, and shows every layer of the models the reader
    chooses side by side (the first two at first), live while drawing;
    clicking a unit of any layer shows how its value is computed (a
    convolution's window, kernel and sum; a dense unit's largest products;
    the other layers' arithmetic in words). It overlays the saliency map of a chosen model and class
    (:func:`cnnviz.gradients`' map, computed in the page by backpropagation),
    moves the drawing by up to 6 pixels with the arrow keys or a drag while
    every prediction follows, and keeps the view in its URL, so that a link
    reopens it. It runs the models in plain JavaScript from the exported
    weights (the module docstring, :mod:`cnnviz.explorer`, documents the
    files), fetching a model's weights when it is first shown, so it needs
    no server but a static one and works offline once loaded. For scripts
    and tests the page exposes ``window.cnnvizExplorer.models`` (the keys),
    ``window.cnnvizExplorer.run(key, pixels)`` (the input's float32 values
    in [0, 1], row-major, channels last: 784 for Fashion-MNIST; returns
    layer name to ``Float32Array``, channels-last),
    ``window.cnnvizExplorer.saliency(key, pixels,
    classIndex)`` (a ``Float32Array`` of height times width values) and
    ``await window.cnnvizExplorer.load(key)``, which loads a model's weights
    without showing it.

    Supported layers: ``InputLayer``; ``Conv2D`` (any kernel size and
    stride, ``valid`` or ``same`` padding; no dilation, no groups),
    ``DepthwiseConv2D`` and ``SeparableConv2D`` (the same), ``Dense``, each
    with an activation the page computes: ``linear``, ``relu``, ``relu6``,
    ``leaky_relu``, ``elu``, ``selu``, ``gelu``, ``silu``, ``sigmoid``,
    ``hard_sigmoid``, ``hard_silu``, ``tanh``, ``softplus``, ``softsign``,
    ``mish``, ``softmax``; ``MaxPooling2D``, ``AveragePooling2D``,
    ``GlobalMaxPooling2D``, ``GlobalAveragePooling2D``;
    ``BatchNormalization`` (on the channels, with its moving statistics, as
    at inference), ``Rescaling``; ``ZeroPadding2D``, cnnviz's
    :class:`~cnnviz.Padding2D`, ``Cropping2D``; ``Dropout`` and
    ``SpatialDropout2D`` (off, as at inference); ``Activation``, ``ReLU``,
    ``LeakyReLU``, ``ELU``, ``Softmax`` (last axis); ``Flatten``; ``Add`` and
    ``Concatenate`` (last axis). Functional, Sequential and nested models
    work, with branches (residual blocks): nested models are looked into, and
    the graph, run layer by layer, is checked against the model's own output
    on a random batch. Anything else is refused, naming the layer.

    Parameters
    ----------
    model : keras.Model or dict of str to keras.Model
        One model, or several keyed by the names the page shows (the site
        exports ``{"valid": ..., "same": ...}``), each with one input of
        shape (batch, height, width, 1) or (batch, height, width, 3), the
        same for all, taking pixels in [0, 1], and one output.
    directory : path-like
        The folder to write (made if it does not exist; ``"."`` and relative
        paths work). It must be new, empty or an earlier export's folder,
        which is known by its ``cnnviz-export.json``: then exactly the files
        that export wrote are replaced (or removed if this export does not
        write them again) and every other file is left alone. Anything else
        is refused before a file is written: files in a folder without
        ``cnnviz-export.json``, a ``cnnviz-export.json`` that is not an
        export's, a folder where the export writes a file, or a file the
        earlier export did not write where this one writes. Each file is
        written beside its place and renamed over it, ``weights.bin`` after
        the page's files, the images and the models' weights files it names,
        and the list last; if anything fails, the folder is
        put back as it was, with nothing left behind.
    images : array_like, optional
        Images for the page's picker, of the models' input shape: (N, H, W)
        or (N, H, W, 1) for one channel, (N, H, W, 3) for three;
        ``uint8``, or float in [0, 1]. Pick them without looking at the
        models' results (for example the first few test images of each class).
    labels : array_like of int, optional
        The class of each image, (N,); required with `images`.
    class_names : list or tuple of str, default cnnviz.CLASS_NAMES
        One name per class, as many as the models' outputs have values.
    title : str, optional
        The page's title; by default "cnnviz explorer".
    precision : {"float32", "float16"}, default "float32"
        How the weights are stored. ``"float32"``: the very weights, so the
        page computes what the model computes. ``"float16"``: each weight
        (every array of ``model.get_weights()``, a batch normalization's
        four included) rounded to the nearest half-precision value (a
        relative change of at most 2**-11, about 0.05 %; values below 6.1e-5
        keep fewer digits), which halves the download; a ``Rescaling``'s
        scale and offset are settings, not weights, and kept as they are.
        The page then runs, in float32, the model with those weights: its
        outputs are that model's, not exactly the exported one's (measure
        how far on your own data before you publish: the site's explorer
        does, see :doc:`/explorer`). A weight that rounds beyond float16's
        largest value, 65504 (from 65520 up), is refused.

    Returns
    -------
    pathlib.Path
        The written folder; open ``index.html`` through a web server
        (``python -m http.server -d DIRECTORY``): browsers do not run
        JavaScript modules from ``file://`` pages.

    Raises
    ------
    TypeError
        If `model` is neither a Keras model nor a dict of them, `directory`
        is not a path, `class_names` not a list or tuple of str, or `title`
        not a str.
    ValueError
        If a model has a layer the page cannot run (the message names it),
        not one input of a fixed size with 1 or 3 channels (the same for every
        model) or not one output, a layer called
        twice (a shared layer), a graph that does not compute what the model
        computes, a pool window larger than its input, a weight
        is NaN or infinite, `class_names` does not match its outputs,
        `images` and `labels` do not match, `directory` is ``""`` (give
        ``"."`` for the current folder), it holds something an export may
        not replace (the message names it and says what to do), `precision`
        is not ``"float32"`` or ``"float16"``, or a weight rounds beyond
        float16's range with ``"float16"``.
    NotADirectoryError
        If `directory` is an existing file or a broken symbolic link.

    Examples
    --------
    >>> import tempfile
    >>> from cnnviz import lenet5
    >>> from cnnviz.explorer import export
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = export({"valid": lenet5("valid")}, f"{tmp}/explorer")
    ...     print(sorted(path.name for path in folder.glob("*.js")))
    ['images.js', 'layers.js', 'main.js', 'state.js', 'view.js', 'weights.js']
    """
    models = _models(model)
    class_names = _class_names(class_names, models)
    samples = _samples(images, labels, len(class_names), _input_shape(models))
    if title is None:
        title = "cnnviz explorer"
    if not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}")
    if not isinstance(precision, str):  # np.dtype("float16") == "float16", yet no name
        raise TypeError(f"precision must be a str, one of {PRECISIONS}; got {precision!r}")
    precision = str(_checks.one_of(precision, PRECISIONS, "precision"))
    target = _target(directory)
    names = [
        *STATIC_FILES,
        *(model_file(index) for index in range(len(models))),
        "weights.bin",
        *([] if samples is None else ["images.json"]),
    ]
    _earlier_export(target, names)  # refused before the models are run, and again when written
    manifest, weights_files = _manifest(
        models,
        title=title,
        class_names=class_names,
        images=0 if samples is None else len(samples["labels"]),
        precision=precision,
    )
    weights = _weights_file(manifest)
    # Written in this order, weights.bin after the page, the images and the models' files it
    # names: a page that reads the new weights.bin finds the files that go with it.
    fashion_mnist = class_names == CLASS_NAMES and _input_shape(models) == (28, 28, 1)
    files = _page_files(title, fashion_mnist, precision)
    if samples is not None:
        # Tied to these weights: the page does not show them with another export's.
        digest = weights[len(MAGIC) : len(MAGIC) + 32].hex()
        files["images.json"] = json.dumps({"weights_sha256": digest, **samples}).encode("utf-8")
    files.update(weights_files)
    files["weights.bin"] = weights
    _write_files(target, files)
    return target


def _models(model: Any) -> dict[str, Any]:
    """Return the models keyed by name, each checked to be an image model with one output."""
    from .. import _graph  # here: importing the explorer does not import Keras

    if isinstance(model, dict):
        if not model:
            raise ValueError("model is an empty dict: give at least one key -> keras.Model")
        bad = [key for key in model if not isinstance(key, str) or not key]
        if bad:
            raise TypeError(f"model's keys must be non-empty strings; got {bad[0]!r}")
        models = {key: _graph.image_model(value, f"model[{key!r}]") for key, value in model.items()}
    else:
        checked = _graph.image_model(model)
        models = {checked.name: checked}
    first = None
    for key, value in models.items():
        name = "model" if len(models) == 1 and not isinstance(model, dict) else f"model[{key!r}]"
        shape = tuple(value.inputs[0].shape[1:])
        if any(size is None for size in shape) or shape[-1] not in CHANNELS:
            raise ValueError(
                f"{name} must take images of one fixed size with 1 or 3 channels, (height, "
                f"width, 1) or (height, width, 3), as the page draws them; {value.name!r} "
                f"takes {shape}"
            )
        if first is None:
            first = (key, shape)
        elif shape != first[1]:
            raise ValueError(
                f"model's models must take images of one shape, as the page draws one; "
                f"{first[0]!r} takes {first[1]} and {key!r} takes {shape}"
            )
        if len(value.outputs) != 1:
            raise ValueError(
                f"{name} must have one output; {value.name!r} has {len(value.outputs)}"
            )
        if all(type(layer).__name__ == "InputLayer" for layer in value.layers):
            raise ValueError(
                f"{name} {value.name!r} has no layer but its input: the page has nothing to run"
            )
        scale = _graph.input_scale(value)
        if scale.range is not None and scale.range != _graph.UNIT:
            raise ValueError(
                f"{name} {value.name!r} takes pixels in [{scale.range[0]:g}, "
                f"{scale.range[1]:g}] ({scale.reason}), and the page gives its models pixels "
                "in [0, 1]; export a model that takes [0, 1]"
            )
    return models


def _input_shape(models: dict[str, Any]) -> tuple[int, int, int]:
    """Return the one image shape, (height, width, channels), the models take."""
    return tuple(int(size) for size in next(iter(models.values())).inputs[0].shape[1:])


def _class_names(class_names: object, models: dict[str, Any]) -> tuple[str, ...]:
    if not isinstance(class_names, (list, tuple)) or not all(
        isinstance(n, str) for n in class_names
    ):
        raise TypeError(f"class_names must be a list or tuple of str; got {class_names!r}")
    names = tuple(class_names)
    for key, model in models.items():
        shape = tuple(model.outputs[0].shape[1:])
        if len(shape) == 1 and shape[0] != len(names):
            raise ValueError(
                f"class_names must give one name per output of model {key!r}, {shape[0]}; "
                f"got {len(names)} names"
            )
    return names


def _samples(
    images: object, labels: object, num_classes: int, shape: tuple[int, int, int]
) -> dict | None:
    """Return the picker's images as uint8 base64 and their labels, or None."""
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        given, missing = ("images", "labels") if labels is None else ("labels", "images")
        raise ValueError(f"{given} were given without {missing}: give both or neither")
    height, width, channels = shape
    array = np.asarray(images)
    if channels == 1 and array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    expected = (height, width) if channels == 1 else (height, width, channels)
    if array.ndim != 1 + len(expected) or array.shape[1:] != expected:
        said = (
            f"(N, {height}, {width}) or (N, {height}, {width}, 1)"
            if channels == 1
            else f"(N, {height}, {width}, {channels})"
        )
        raise ValueError(
            f"images must be a batch of the models' {height}x{width} images, {said}; got "
            f"shape {np.shape(images)}"
        )
    pixels = _checks.float_images(array, "images")
    if pixels.size and (pixels.min() < 0 or pixels.max() > 1):
        raise ValueError(
            f"images must hold uint8 or floats in [0, 1]; got values from {pixels.min()} "
            f"to {pixels.max()}"
        )
    y = _checks.labels(labels, "labels", num_classes)
    if len(y) != len(array):
        raise ValueError(
            f"images and labels must have the same length; got {len(array)} images and "
            f"{len(y)} labels"
        )
    as_bytes = array if array.dtype == np.uint8 else np.rint(pixels * 255).astype(np.uint8)
    return {
        "labels": y.tolist(),
        "shape": list(expected),
        "pixels": base64.b64encode(np.ascontiguousarray(as_bytes).tobytes()).decode("ascii"),
    }


#: What the page says of its input when the models are Fashion-MNIST's (their class names,
#: 28x28 gray images): a drawing is not what they learned from.
FASHION_MNIST_NOTE = """<p class="note">Models trained on Fashion-MNIST, as the gallery's are,
  learned from product photos: one garment, centred, filling the square, bright on black, with
  soft grey shading. A drawn stroke is none of these: it lies outside the data the models were
  trained on. They answer all the same, often with a high probability for one class, because a
  softmax spreads all of its probability over the ten classes it knows and has no answer for
  "none of these". On such an input a high probability is not evidence that the drawing looks
  like that class (Nguyen, Yosinski and Clune, 2015, "Deep neural networks are easily
  fooled").</p>"""
#: The same for any other models: the page does not know their data.
OTHER_NOTE = """<p class="note">A drawing or an upload may lie outside the data the models
  were trained on. They answer all the same, often with a high probability for one class,
  because a softmax spreads all of its probability over the classes it knows and has no answer
  for "none of these"; on such an input a high probability is not evidence that the input looks
  like that class (Nguyen, Yosinski and Clune, 2015, "Deep neural networks are easily
  fooled").</p>"""


#: What the page's footer says of its weights, by the export's precision.
WEIGHTS_NOTE = {
    "float32": "from the exported weights, as they are in the model",
    "float16": (
        "from the exported weights, rounded to half precision (float16) to halve the download: "
        "each weight changed by at most 0.05 % (those below 6e-5 by at most 3e-8), and the "
        "outputs are those of the model with the rounded weights"
    ),
}


def _page_files(title: str, fashion_mnist: bool, precision: str) -> dict[str, bytes]:
    """Return the page's own files, package data, with the title and the notes put in."""
    static = resources.files(__package__) / "static"
    files = {}
    for name in STATIC_FILES:
        text = (static / name).read_text(encoding="utf-8")
        if name == "index.html":
            # The note first: a title that holds "{{about}}" stays as written.
            text = text.replace("{{about}}", FASHION_MNIST_NOTE if fashion_mnist else OTHER_NOTE)
            text = text.replace("{{weights}}", WEIGHTS_NOTE[precision])
            text = text.replace("{{title}}", html.escape(title))
        files[name] = text.encode("utf-8")
    return files
