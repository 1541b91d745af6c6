"""The weights file: a Keras model as the page's layers, and the bytes of ``weights.bin``.

A model is taken layer by layer, as the one chain of layers the page runs, each
checked to be one the page can compute (its type, activation, padding, finite
weights) and the chain checked against the model's own output; each layer
becomes its manifest entry (type, settings, output shape) and its weight arrays.
The manifest and the arrays, as little-endian float32, then become the file:
the magic, the SHA-256 of everything after it, the manifest's length, the
manifest padded so that the data starts 4-byte aligned, and the data. The
format is documented for readers in :mod:`cnnviz.explorer`; the page reads and
checks it in ``static/weights.js``.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The first bytes of every weights file; the digit is the format's version.
MAGIC = b"CNNVIZW2"
#: The weights file's version, also the manifest's ``"version"``.
VERSION = 2
#: The header before the manifest: the magic, the SHA-256 of the rest, the manifest's length.
HEADER_BYTES = len(MAGIC) + 32 + 4
#: The one input the page draws and uploads: 28x28 pixels, one channel, values in [0, 1].
INPUT_SHAPE = (28, 28, 1)
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


def _manifest(
    models: dict[str, Any], *, title: str, class_names: Sequence[str], images: int
) -> tuple[dict, bytes]:
    """Return the manifest of `models` (key to Keras model) and the data it describes.

    Each model is refused, naming the layer and the reason, if the page cannot run it.
    """
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
        "images": images,
        "models": specs,
    }
    return manifest, data


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


def _weights_file(manifest: dict, data: bytes) -> bytes:
    """Return the bytes of weights.bin: header (magic, SHA-256, length), manifest, `data`."""
    text = json.dumps(manifest, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-(HEADER_BYTES + len(text)) % 4)  # the data starts 4-byte aligned
    body = struct.pack("<I", len(text)) + text + data
    return MAGIC + hashlib.sha256(body).digest() + body
