"""Export Keras models to a static page that runs them in the browser: the explorer.

:func:`export` writes a self-contained folder: ``index.html``, its JavaScript
modules (``layers.js`` the arithmetic, ``weights.js`` reading and checking the
weights, ``images.js`` the brush, uploads and checking ``images.json``,
``view.js`` the drawing, ``main.js`` the wiring), ``style.css``,
``weights.bin``, if images are given ``images.json``, and, last,
``cnnviz-export.json``, the list of the files it wrote. Any static web
server serves it; nothing is fetched from elsewhere, so it works offline once
loaded.

The weights file, ``weights.bin`` (all integers little-endian):

========  =======================================================================
bytes     content
========  =======================================================================
0-7       the magic ``b"CNNVIZW2"`` (format version 2)
8-39      the SHA-256 (32 bytes) of every byte from byte 40 to the end of the
          file: the manifest's length, the manifest and the data
40-43     ``M``, the length of the manifest in bytes (uint32)
44-...    the manifest, ``M`` bytes of UTF-8 JSON, padded with spaces so that the
          data starts at a multiple of 4 bytes
then      the data: every array as little-endian float32, C order, one after the
          other, the first at the data's start
========  =======================================================================

The checksum covers the manifest as well as the weights, byte for byte as
written (no canonical form to agree on: the page hashes the bytes it
received). The page checks it before it reads a byte of the manifest, and
refuses the file, saying so, if it does not match; then it checks every field
of the manifest against the others (below) and refuses, naming the field,
what was expected and what it holds, any that does not fit. A file of format
version 1 (magic ``b"CNNVIZW1"``, whose checksum covered the data only) is
refused with a request to export again.

The manifest holds ``"format": "cnnviz-explorer-weights"``, ``"version": 2``,
``"data_bytes"`` (the length of the data section), ``"class_names"``,
``"title"``, ``"images"`` (how many images ``images.json`` holds, 0 if there
is no such file) and ``"models"``: a list with, for each model, its ``"key"``,
``"name"``, ``"input_shape"`` ([28, 28, 1]) and ``"layers"``, in the order
they run. Each layer has ``"name"``, ``"type"`` (the Keras class name),
``"output_shape"`` (without the batch axis), its settings (``"kernel_size"``,
``"strides"``, ``"padding"``, ``"activation"``, ``"pool_size"``,
``"negative_slope"``, ``"max_value"``, ``"threshold"`` where they apply) and
``"arrays"``: for each weight array its ``"name"`` (``"kernel"``,
``"bias"``), ``"shape"`` (Keras' own: a Conv2D kernel is (kh, kw, in, out), a
Dense kernel (in, out)), ``"offset"`` (bytes from the start of the data
section) and ``"length"`` (number of float32 values).

What the page checks before it runs anything: the format and version; no
field but those above (a field it does not read, such as a ``"dilation_rate"``,
may change what a layer computes, so it is refused rather than ignored); keys
and layer names present and distinct; the input shape [28, 28, 1]; every
layer type, activation (``linear``, ``relu``, ``sigmoid``, ``tanh``,
``softmax``) and padding (``valid``, ``same``) one it knows; kernel and pool
sizes and strides integers of at least 1, a pool window no larger than its
input; each kernel's shape taking the channels (or values) of the layer
before and each bias one value per output; every ``"length"`` the product of
its ``"shape"``; the arrays following one another from offset 0, 4-byte
aligned, and filling exactly ``"data_bytes"``, the bytes after the manifest;
every ``"output_shape"`` the one the layer computes from the layer before
(the shapes chain from the input to the output); as many class names as
output units where the output is a vector; ReLU settings finite numbers;
``"images"`` a count; and every weight finite.

``images.json`` holds ``"weights_sha256"`` (the hex digest of the
``weights.bin`` it was written with: the page uses the images only with
those weights), ``"labels"``, ``"shape"`` ([28, 28]) and ``"pixels"``: the
images as base64 of ``uint8`` bytes, 784 per image, row-major.

``cnnviz-export.json`` holds ``"format": "cnnviz-explorer-export"``,
``"version": 1``, ``"cnnviz"`` (the version that wrote it) and ``"files"``:
the names of the files the export wrote. A later export into the same folder
replaces exactly those files (removing the ones it does not write again) and
leaves every other file alone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import math
import os
import re
import secrets
import shutil
import struct
from collections.abc import Collection, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..data import CLASS_NAMES

__all__ = ["export"]

#: The first bytes of every weights file; the digit is the format's version.
MAGIC = b"CNNVIZW2"
#: The weights file's version, also the manifest's ``"version"``.
VERSION = 2
#: The header before the manifest: the magic, the SHA-256 of the rest, the manifest's length.
HEADER_BYTES = len(MAGIC) + 32 + 4
#: The one input the page draws and uploads: 28x28 pixels, one channel, values in [0, 1].
INPUT_SHAPE = (28, 28, 1)
#: The files of the page, shipped as package data beside this module.
STATIC_FILES = (
    "index.html",
    "layers.js",
    "weights.js",
    "images.js",
    "view.js",
    "main.js",
    "style.css",
)
#: The list of the files an export wrote, written last: what a later export may replace.
MARKER = "cnnviz-export.json"
#: Every file an export may write besides the marker.
EXPORT_FILES = (*STATIC_FILES, "weights.bin", "images.json")
# What an export being written leaves for a moment beside the files it replaces: its new
# files before they are renamed into place, and hard links to the earlier export's files
# (to put back if the export fails). Found after a crash, the next export removes them.
_SCRATCH = ".cnnviz-export-{kind}.{token}.{name}"
_DEBRIS = re.compile(r"\.cnnviz-export-(?:new|old)\.[0-9a-f]{8}\..+", re.DOTALL)
#: Activations the page computes, by Keras' serialized name.
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")
SUPPORTED = (
    "InputLayer",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "Activation",
    "ReLU",
    "Softmax",
    "Flatten",
    "Dense",
)


def export(
    model: Any,
    directory: str | os.PathLike,
    *,
    images: Any = None,
    labels: Any = None,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
) -> Path:
    """Write a static page that runs `model` in the browser, layer by layer, on a drawing.

    The page has a 28x28 drawing canvas, a picker of the given `images` by
    class and an upload, and shows every layer of every model side by side,
    live while drawing; clicking a convolution or pooling unit shows its
    window, kernel and arithmetic. It runs the models in plain JavaScript from
    the exported weights (the module docstring, :mod:`cnnviz.explorer`,
    documents the weights file), so it needs no server but a static one and
    works offline once loaded. For scripts and tests the page exposes
    ``window.cnnvizExplorer.models`` (the keys) and
    ``window.cnnvizExplorer.run(key, pixels)`` (784 float32 values in [0, 1],
    row-major; returns layer name to ``Float32Array``, channels-last).

    Supported layers: ``InputLayer``, ``Conv2D`` (any kernel size and
    stride, ``valid`` or ``same`` padding, activation ``linear``, ``relu``,
    ``sigmoid``, ``tanh`` or ``softmax``; no dilation, no groups),
    ``MaxPooling2D``, ``AveragePooling2D``, ``Activation``, ``ReLU``,
    ``Softmax`` (last axis), ``Flatten`` and ``Dense``. Sequential and nested
    models work: nested models' layers are taken in order, as one chain, and
    the chain is checked against the model's own output on a random batch.

    Parameters
    ----------
    model : keras.Model or dict of str to keras.Model
        One model, or several keyed by the names the page shows (the site
        exports ``{"valid": ..., "same": ...}``), each with one input of
        shape (batch, 28, 28, 1) taking pixels in [0, 1] and one output.
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
        the page's files and the list last; if anything fails, the folder is
        put back as it was, with nothing left behind.
    images : array_like, optional
        Images for the page's picker, (N, 28, 28) or (N, 28, 28, 1):
        ``uint8``, or float in [0, 1]. Pick them without looking at the
        models' results (for example the first few test images of each class).
    labels : array_like of int, optional
        The class of each image, (N,); required with `images`.
    class_names : list or tuple of str, default cnnviz.CLASS_NAMES
        One name per class, as many as the models' outputs have values.
    title : str, optional
        The page's title; by default "cnnviz explorer".

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
        not one input of shape (28, 28, 1) or not one output, its layers do
        not form one chain, a pool window is larger than its input, a weight
        is NaN or infinite, `class_names` does not match its outputs,
        `images` and `labels` do not match, `directory` is ``""`` (give
        ``"."`` for the current folder), or it holds something an export may
        not replace (the message names it and says what to do).
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
    ['images.js', 'layers.js', 'main.js', 'view.js', 'weights.js']
    """
    models = _models(model)
    class_names = _class_names(class_names, models)
    samples = _samples(images, labels, len(class_names))
    if title is None:
        title = "cnnviz explorer"
    if not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}")
    target = _target(directory)
    names = [*STATIC_FILES, "weights.bin", *([] if samples is None else ["images.json"])]
    _earlier_export(target, names)  # refused before the models are run, and again when written

    specs, chunks = [], []
    offset = 0
    for key, keras_model in models.items():
        layers = []
        for layer, spec, arrays in _chain(keras_model):
            spec["arrays"] = []
            for name, array in arrays:
                data = np.ascontiguousarray(array, dtype="<f4")
                spec["arrays"].append(
                    {"name": name, "shape": list(data.shape), "offset": offset, "length": data.size}
                )
                chunks.append(data.tobytes())
                offset += data.nbytes
            spec["name"] = layer.name
            layers.append(spec)
        specs.append(
            {
                "key": key,
                "name": keras_model.name,
                "input_shape": list(INPUT_SHAPE),
                "layers": layers,
            }
        )
    data = b"".join(chunks)
    manifest = {
        "format": "cnnviz-explorer-weights",
        "version": VERSION,
        "data_bytes": len(data),
        "title": title,
        "class_names": list(class_names),
        "images": 0 if samples is None else len(samples["labels"]),
        "models": specs,
    }
    weights = _weights_file(manifest, data)
    # Written in this order, weights.bin after the page and the images that go with it:
    # a page that reads the new weights finds the new scripts and images.
    files = _page_files(title)
    if samples is not None:
        # Tied to these weights: the page does not show them with another export's.
        digest = weights[len(MAGIC) : len(MAGIC) + 32].hex()
        files["images.json"] = json.dumps({"weights_sha256": digest, **samples}).encode("utf-8")
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
    for key, value in models.items():
        name = "model" if len(models) == 1 and not isinstance(model, dict) else f"model[{key!r}]"
        shape = tuple(value.inputs[0].shape[1:])
        if shape != INPUT_SHAPE:
            raise ValueError(
                f"{name} must take images of shape (28, 28, 1), as the page draws them; "
                f"{value.name!r} takes {shape}"
            )
        if len(value.outputs) != 1:
            raise ValueError(
                f"{name} must have one output; {value.name!r} has {len(value.outputs)}"
            )
        if all(type(layer).__name__ == "InputLayer" for layer in value.layers):
            raise ValueError(
                f"{name} {value.name!r} has no layer but its input: the page has nothing to run"
            )
    return models


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


def _samples(images: object, labels: object, num_classes: int) -> dict | None:
    """Return the picker's images as uint8 base64 and their labels, or None."""
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        given, missing = ("images", "labels") if labels is None else ("labels", "images")
        raise ValueError(f"{given} were given without {missing}: give both or neither")
    array = np.asarray(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != INPUT_SHAPE[:2]:
        raise ValueError(
            f"images must be a batch of 28x28 images, (N, 28, 28) or (N, 28, 28, 1); "
            f"got shape {np.shape(images)}"
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
        "shape": list(INPUT_SHAPE[:2]),
        "pixels": base64.b64encode(np.ascontiguousarray(as_bytes).tobytes()).decode("ascii"),
    }


def _target(directory: object) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path (str or os.PathLike); got {directory!r}")
    if not os.fspath(directory):
        raise ValueError("directory is an empty path; give '.' for the current folder")
    target = Path(directory)
    if (target.exists() or target.is_symlink()) and not target.is_dir():
        what = "a broken symbolic link" if target.is_symlink() else "a file"
        raise NotADirectoryError(
            f"directory names {str(target)!r}, which is {what}, not a directory"
        )
    return target


def _named(target: Path) -> str:
    """`target` as given, and where it is when that is not plain (".", a relative path)."""
    where = os.path.abspath(target)  # noqa: PTH100 (resolve() would follow links too)
    return repr(str(target)) + ("" if str(target) == where else f" ({where})")


def _in_the_way(target: Path, what: str) -> ValueError:
    return ValueError(
        f"directory {_named(target)} {what}; nothing was written. Move or remove it, or "
        "give another directory"
    )


def _earlier_export(target: Path, writing: Collection[str]) -> list[str]:
    """Return the files of the earlier export in `target` that are there (none if it is new).

    Refuse a folder that holds files and is not an earlier export, and anything in the
    way of the files to write: a folder, or a file the earlier export did not write.
    """
    if not target.is_dir():
        return []
    entries = {path.name: path for path in target.iterdir() if not _DEBRIS.fullmatch(path.name)}
    if not entries:
        return []
    if MARKER in entries:
        if not _is_file(entries[MARKER]):
            raise _in_the_way(
                target, f"holds a folder named {MARKER!r}, the name of an export's list"
            )
        listed = _read_marker(target, entries[MARKER])
    else:
        listed = _unlisted_export(entries)
        if listed is None:
            others = sorted(entries)
            shown = ", ".join(map(repr, others[:5])) + (", ..." if len(others) > 5 else "")
            raise ValueError(
                f"directory {_named(target)} holds files that are not an explorer export; give "
                f"a new or empty directory, or one an earlier export wrote (it has {MARKER}, "
                f"the list of the files it wrote, which the next export replaces). Nothing "
                f"was written; in the way: {shown} ({len(others)} "
                f"{'entry' if len(others) == 1 else 'entries'}, no {MARKER})"
            )
    for name in sorted({*writing, *listed}):
        path = entries.get(name)
        if path is None:
            continue
        if not _is_file(path):
            where = (
                "where the export writes a file"
                if name in writing
                else f"where {MARKER} lists a file the earlier export wrote"
            )
            raise _in_the_way(target, f"holds a folder (or other non-file) named {name!r} {where}")
        if name not in listed:
            raise _in_the_way(
                target,
                f"holds a file {name!r}, which the earlier export did not write ({MARKER} "
                "does not list it) and this export would overwrite",
            )
    return [name for name in listed if name in entries]


def _is_file(path: Path) -> bool:
    """Whether `path` is a file or a symbolic link, which an export may replace, not a folder."""
    return path.is_symlink() or path.is_file()


def _read_marker(target: Path, path: Path) -> list[str]:
    """Return the files an earlier export's list names, refusing a list that is not one."""
    try:
        text = path.read_bytes()
    except OSError as error:  # a symbolic link to a folder or to nothing, no permission
        marker, why = None, f"it cannot be read: {error.strerror or error}"
    else:
        try:
            marker = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            marker, why = None, f"it is not JSON: {error}"
        else:
            why = (
                "it is not an export's list: it must be an object with "
                '"format": "cnnviz-explorer-export" and "files", a list of file names'
            )
    files = marker.get("files") if isinstance(marker, dict) else None
    if (
        not isinstance(marker, dict)
        or marker.get("format") != "cnnviz-explorer-export"
        or not isinstance(files, list)
        or not all(isinstance(name, str) and _plain_name(name) for name in files)
    ):
        raise ValueError(
            f"directory {_named(target)} has a {MARKER} that cnnviz cannot read ({why}); it "
            "says which files an earlier export wrote, so nothing is replaced without it. "
            "Nothing was written: give another directory, or remove the earlier export's "
            f"files and {MARKER}"
        )
    return list(dict.fromkeys(files))


def _plain_name(name: str) -> bool:
    """Whether `name` is a file in the folder itself: no path, not the list, not scratch."""
    return (
        name not in ("", ".", "..", MARKER)
        and not any(sep in name for sep in ("/", "\\", "\0"))
        and not _DEBRIS.fullmatch(name)
    )


def _unlisted_export(entries: dict[str, Path]) -> list[str] | None:
    """Return the files of an export written before exports kept a list, or None.

    Only a folder holding nothing but files an export writes, weights.bin among them and
    starting as a weights file starts, is taken for one.
    """
    if "weights.bin" not in entries or not set(entries) <= set(EXPORT_FILES):
        return None
    if not all(path.is_file() and not path.is_symlink() for path in entries.values()):
        return None
    with entries["weights.bin"].open("rb") as file:
        if file.read(len(MAGIC) - 1) != MAGIC[:-1]:
            return None
    return sorted(entries)


# --- the layers -------------------------------------------------------------------------


def _chain(model: Any) -> list[tuple[Any, dict, list]]:
    """Return (layer, spec, weight arrays) for each layer, checked to be the model's one chain."""
    import keras

    from .. import _graph

    layers = _graph.layers(model)
    specs = [_layer_spec(layer, model) for layer in layers]
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise ValueError(
            f"model {model.name!r} has two layers named {twice!r} (nested models?); the page "
            "names every output by its layer, so give the layers distinct names"
        )
    # The chain must be the model: no branch, skip or reused layer. Checked on data.
    x = np.random.default_rng(0).random((2, *INPUT_SHAPE), dtype=np.float32)
    y = x
    for layer, (spec, _) in zip(layers, specs, strict=True):
        window = spec.get("pool_size")
        if window and any(w > n for w, n in zip(window, y.shape[1:3], strict=True)):
            raise _unsupported(
                layer,
                model,
                f"has a pool window of {window[0]}x{window[1]} on an input of "
                f"{y.shape[1]}x{y.shape[2]}; the page shows windows that fit in their input",
            )
        y = layer(y, training=False)
        spec["output_shape"] = [int(d) for d in y.shape[1:]]
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    got = keras.ops.convert_to_numpy(y)
    if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-5):
        raise ValueError(
            f"model {model.name!r} is not its layers run one after the other (a branch, a skip "
            "connection or a reused layer?); the page can only run a chain of layers"
        )
    return [(layer, spec, arrays) for layer, (spec, arrays) in zip(layers, specs, strict=True)]


def _unsupported(layer: Any, model: Any, why: str) -> ValueError:
    return ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}) of model {model.name!r} {why}; the "
        f"explorer runs {', '.join(SUPPORTED)}"
    )


def _activation(layer: Any, model: Any, activation: object) -> str:
    import keras

    name = keras.activations.serialize(activation) if activation is not None else "linear"
    if name not in ACTIVATIONS:
        raise _unsupported(
            layer, model, f"has the activation {name!r}, which the page cannot compute"
        )
    return name


def _arrays(layer: Any, model: Any) -> list[tuple[str, np.ndarray]]:
    """Return a Conv2D's or Dense's kernel and bias, refused if a value is not finite."""
    kernel, *bias = layer.get_weights()
    arrays = [("kernel", kernel), *(("bias", b) for b in bias)]
    for name, array in arrays:
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(
                f"layer {layer.name!r} of model {model.name!r} has {bad} NaN or infinite "
                f"value(s) in its {name}; the page runs only finite weights (was the model "
                "trained to a NaN loss?)"
            )
    return arrays


def _layer_spec(layer: Any, model: Any) -> tuple[dict, list]:
    """Return the manifest entry (without name and output shape) and the arrays of one layer."""
    import keras

    config = layer.get_config()
    kind = type(layer).__name__
    spec: dict[str, Any] = {"type": kind}
    if config.get("data_format", "channels_last") != "channels_last":
        raise _unsupported(layer, model, "is channels_first, and the page runs channels_last")
    if isinstance(layer, keras.layers.Conv2D) and kind == "Conv2D":
        if tuple(config["dilation_rate"]) != (1, 1) or config.get("groups", 1) != 1:
            raise _unsupported(layer, model, "has dilation or groups, which the page cannot run")
        spec.update(
            kernel_size=list(config["kernel_size"]),
            strides=list(config["strides"]),
            padding=config["padding"],
            activation=_activation(layer, model, layer.activation),
        )
        return spec, _arrays(layer, model)
    if kind == "Dense":
        spec["activation"] = _activation(layer, model, layer.activation)
        return spec, _arrays(layer, model)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        spec.update(
            pool_size=list(config["pool_size"]),
            strides=list(config["strides"] or config["pool_size"]),
            padding=config["padding"],
        )
        return spec, []
    if kind == "Activation":
        spec["activation"] = _activation(layer, model, layer.activation)
        return spec, []
    if kind == "ReLU":
        settings = {
            key: None if config[key] is None else float(config[key])
            for key in ("negative_slope", "max_value", "threshold")
        }
        if settings["max_value"] == math.inf:
            settings["max_value"] = None  # no cap, as the page reads it
        for key, value in settings.items():
            if value is not None and not math.isfinite(value):
                raise _unsupported(layer, model, f"has {key}={value}, which is not finite")
        if settings["negative_slope"] is None or settings["threshold"] is None:
            raise _unsupported(layer, model, "has no negative_slope or threshold")
        spec.update(settings)
        return spec, []
    if kind == "Softmax":
        if config["axis"] not in (-1, [-1]):
            raise _unsupported(layer, model, f"has axis {config['axis']}; the page takes -1")
        return spec, []
    if kind == "Flatten":
        return spec, []
    raise _unsupported(layer, model, "is not a layer the page can run")


# --- the files --------------------------------------------------------------------------


def _weights_file(manifest: dict, data: bytes) -> bytes:
    text = json.dumps(manifest, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-(HEADER_BYTES + len(text)) % 4)  # the data starts 4-byte aligned
    body = struct.pack("<I", len(text)) + text + data
    return MAGIC + hashlib.sha256(body).digest() + body


def _page_files(title: str) -> dict[str, bytes]:
    """Return the page's own files, package data, with the title put into index.html."""
    static = resources.files(__package__) / "static"
    files = {}
    for name in STATIC_FILES:
        text = (static / name).read_text(encoding="utf-8")
        if name == "index.html":
            text = text.replace("{{title}}", html.escape(title))
        files[name] = text.encode("utf-8")
    return files


def _write_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` (name to content, in order) into `target`, replacing the earlier export.

    The folder is made if it is missing (and removed again if the export fails) and
    locked while the files are written, so that two exports into it run one after the
    other.
    """
    created: list[Path] = []
    try:
        _make_directory(target, created)
        with _locked(target):
            _replace_files(target, files)
    except BaseException:
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _replace_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` into the folder `target`, replacing the earlier export's, all or nothing.

    Each file is written beside its place under a scratch name, then renamed over it;
    the files of the earlier export that are not written again are removed, and the list
    of the files written goes last. The earlier export's files are kept as hard links
    until the end, so that a failure anywhere puts the folder back as it was. Where the
    export makes files the earlier one did not have, a list naming both goes first, so
    that a process killed halfway leaves no file the next export would take for the
    user's; its scratch files are removed by the next export.
    """
    old = _earlier_export(target, files)
    made = [name for name in files if name not in old]
    stale = [name for name in old if name not in files]
    files = {**files, MARKER: _marker(list(files))}
    if made:
        # First a list of every file this export may leave behind, its own and the earlier
        # one's: if the process dies halfway, the next export knows them all as an export's.
        files = {f"interim.{MARKER}": _marker([*old, *made]), **files}
    debris = [path for path in target.glob(".cnnviz-export-*") if _DEBRIS.fullmatch(path.name)]
    token = secrets.token_hex(4)
    scratch = {kind: {} for kind in ("new", "old")}

    def place(kind: str, name: str) -> Path:
        path = target / _SCRATCH.format(kind=kind, token=token, name=name)
        scratch[kind][name] = path  # before it is made: a failure removes it too
        return path

    done: list[str] = []  # the names replaced or removed so far, to put back on failure
    try:
        for name, content in files.items():
            with place("new", name).open("xb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
        for name in (*old, MARKER):
            if name in old or os.path.lexists(target / name):
                _keep(target / name, place("old", name))
        for name in files:
            if name == MARKER:
                for gone in stale:
                    (target / gone).unlink()
                    done.append(gone)
            place_of = MARKER if name == f"interim.{MARKER}" else name
            scratch["new"][name].replace(target / place_of)
            if place_of not in done:
                done.append(place_of)
    except BaseException:
        for name in reversed(done):
            with contextlib.suppress(OSError):
                if name in scratch["old"]:
                    # Taken off the list first: if it cannot be put back, it is kept.
                    scratch["old"].pop(name).replace(target / name)
                else:
                    (target / name).unlink()
        _remove([*scratch["new"].values(), *scratch["old"].values()])
        raise
    _remove([*scratch["old"].values(), *debris])


def _marker(names: list[str]) -> bytes:
    """Return the text of cnnviz-export.json listing `names`."""
    from .. import __version__

    marker = {
        "format": "cnnviz-explorer-export",
        "version": 1,
        "cnnviz": __version__,
        "note": (
            "Written by cnnviz.explorer.export: the files it wrote. The next export into "
            "this folder replaces them and leaves every other file alone."
        ),
        "files": names,
    }
    return (json.dumps(marker, indent=1) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on `folder` itself: no lock file, released if we die.

    Where there is no ``fcntl`` (Windows) or the file system cannot lock, nothing is
    locked: two exports into one folder at once may then mix their files, and the page
    refuses images.json with another export's weights.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        fcntl = None
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        handle = None
    try:
        if fcntl is not None and handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            os.close(handle)


def _make_directory(target: Path, created: list[Path]) -> None:
    """Make `target` and its missing parents, adding each folder made to `created`."""
    missing = []
    folder = Path(os.path.abspath(target))  # noqa: PTH100 (no "..": each parent is real)
    while not folder.exists() and not folder.is_symlink():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        created.append(folder)


def _keep(path: Path, copy: Path) -> None:
    """Keep the file at `path` under the name `copy`: a hard link, else a copy."""
    try:
        os.link(path, copy, follow_symlinks=False)
    # No hard links on this file system, or no link() that leaves a symlink as it is.
    except (OSError, NotImplementedError):
        shutil.copy2(path, copy, follow_symlinks=False)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
