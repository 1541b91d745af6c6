"""Export Keras models to a static page that runs them in the browser: the explorer.

:func:`export` writes a self-contained folder: ``index.html``, its JavaScript
modules (``layers.js`` the arithmetic, ``weights.js`` reading and checking the
weights, ``images.js`` the brush and uploads, ``view.js`` the drawing,
``main.js`` the wiring), ``style.css``,
``weights.bin`` and, if images are given, ``images.json``. Any static web
server serves it; nothing is fetched from elsewhere, so it works offline once
loaded.

The weights file, ``weights.bin`` (all integers little-endian):

========  =======================================================================
bytes     content
========  =======================================================================
0-7       the magic ``b"CNNVIZW1"`` (format version 1)
8-11      ``M``, the length of the manifest in bytes (uint32)
12-...    the manifest, ``M`` bytes of UTF-8 JSON, padded with spaces so that the
          data starts at a multiple of 4 bytes
then      the data: every array as little-endian float32, C order, one after the
          other
========  =======================================================================

The manifest holds ``"format": "cnnviz-explorer-weights"``, ``"version": 1``,
``"sha256"`` (hex SHA-256 of the data section, which the page checks before it
uses a byte of it, and refuses the file, saying so, if it does not match),
``"data_bytes"``, ``"class_names"``, ``"title"``, ``"images"`` (how many
images ``images.json`` holds, 0 if there is no such file) and ``"models"``: a list with,
for each model, its ``"key"``, ``"name"``, ``"input_shape"`` ([28, 28, 1]) and
``"layers"``, in the order they run. Each layer has ``"name"``, ``"type"``
(the Keras class name), ``"output_shape"`` (without the batch axis), its
settings (``"kernel_size"``, ``"strides"``, ``"padding"``, ``"activation"``,
``"pool_size"``, ``"negative_slope"``, ``"max_value"``, ``"threshold"`` where
they apply) and ``"arrays"``: for each weight array its ``"name"``
(``"kernel"``, ``"bias"``), ``"shape"`` (Keras' own: a Conv2D kernel is
(kh, kw, in, out), a Dense kernel (in, out)), ``"offset"`` (bytes from the
start of the data section) and ``"length"`` (number of float32 values).

``images.json`` holds ``"labels"`` and ``"pixels"``: the images as base64 of
``uint8`` bytes, 784 per image, row-major.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..data import CLASS_NAMES

__all__ = ["export"]

#: The first bytes of every weights file; the digit is the format's version.
MAGIC = b"CNNVIZW1"
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
        The folder to write. Written to a temporary folder beside it and
        then renamed into place, so it is never half-written. An existing
        folder is replaced only if it is empty or an earlier export.
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
        not form one chain, `class_names` does not match its outputs,
        `images` and `labels` do not match, or `directory` holds other files.
    NotADirectoryError
        If `directory` is an existing file.

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
        "version": 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "data_bytes": len(data),
        "title": title,
        "class_names": list(class_names),
        "images": 0 if samples is None else len(samples["labels"]),
        "models": specs,
    }
    _write_atomically(target, _weights_file(manifest, data), samples, title)
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
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(
            f"directory names {str(target)!r}, which is a file, not a directory"
        )
    if target.is_dir() and any(target.iterdir()) and not (target / "weights.bin").is_file():
        raise ValueError(
            f"directory {str(target)!r} holds files that are not an explorer export; "
            "give a new or empty directory (an earlier export is replaced)"
        )
    return target


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
        kernel, *bias = layer.get_weights()
        return spec, [("kernel", kernel), *(("bias", b) for b in bias)]
    if kind == "Dense":
        spec["activation"] = _activation(layer, model, layer.activation)
        kernel, *bias = layer.get_weights()
        return spec, [("kernel", kernel), *(("bias", b) for b in bias)]
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
        spec.update(
            negative_slope=float(config["negative_slope"]),
            max_value=None if config["max_value"] is None else float(config["max_value"]),
            threshold=float(config["threshold"]),
        )
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
    text = json.dumps(manifest, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % 4)  # the data starts 4-byte aligned
    return MAGIC + struct.pack("<I", len(text)) + text + data


def _write_atomically(target: Path, weights: bytes, samples: dict | None, title: str) -> None:
    """Write the page into a temporary folder beside `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        static = resources.files(__package__) / "static"
        for name in STATIC_FILES:
            text = (static / name).read_text(encoding="utf-8")
            if name == "index.html":
                text = text.replace("{{title}}", html.escape(title))
            (staging / name).write_text(text, encoding="utf-8")
        (staging / "weights.bin").write_bytes(weights)
        if samples is not None:
            (staging / "images.json").write_text(json.dumps(samples), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            target.replace(old / target.name)
            staging.replace(target)
            shutil.rmtree(old)
        else:
            staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
