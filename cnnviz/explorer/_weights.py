"""The weights file: a Keras model as the page's layers, and the bytes of ``weights.bin``.

A model is taken layer by layer, as the graph the page runs (each layer with
the layers it reads), each checked to be one the page can compute (its type,
activation, padding, finite weights) and the graph checked against the model's
own output; each layer becomes its manifest entry (type, settings, inputs,
output shape) and its weight arrays.
The manifest becomes ``weights.bin``: the magic, the SHA-256 of everything
after it, the manifest's length and the manifest; each model's arrays, as
little-endian float32 (or rounded to float16, if asked), become its own file
(byte planes, deflated), named and
checksummed in the manifest, so that the page loads a model's weights only
when it shows the model. The
format is documented for readers in :mod:`cnnviz.explorer`; the page reads and
checks it in ``static/weights.js``.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The first bytes of every weights file; the digit is the format's version.
MAGIC = b"CNNVIZW4"
#: The weights file's version, also the manifest's ``"version"``.
VERSION = 4
#: How a model's weights file may store its values, by NumPy's name (little-endian).
PRECISIONS = ("float32", "float16")
#: The header before the manifest: the magic, the SHA-256 of the rest, the manifest's length.
HEADER_BYTES = len(MAGIC) + 32 + 4
#: The channels of the images the page draws and uploads (gray, or red, green, blue), in [0, 1].
CHANNELS = (1, 3)
#: Activations the page computes (forward and backward), by Keras' serialized name.
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "sigmoid",
    "hard_sigmoid",
    "hard_silu",
    "tanh",
    "softplus",
    "softsign",
    "mish",
    "softmax",
)
SUPPORTED = (
    "InputLayer",
    "Conv2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Dense",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling2D",
    "BatchNormalization",
    "Rescaling",
    "ZeroPadding2D",
    "Padding2D",
    "Cropping2D",
    "Dropout",
    "SpatialDropout2D",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Flatten",
    "Add",
    "Concatenate",
)
#: Layers that pass their input through unchanged when not training.
_IDENTITY = ("Dropout", "SpatialDropout2D")
_CONVOLUTIONS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")


def model_file(index: int) -> str:
    """Return the name of the file holding the weights of the model at `index` of the manifest."""
    return f"weights-{index}.bin"


def _manifest(
    models: dict[str, Any],
    *,
    title: str,
    class_names: Sequence[str],
    images: int,
    precision: str = "float32",
) -> tuple[dict, dict[str, bytes]]:
    """Return the manifest of `models` (key to Keras model) and each model's weights file.

    Each model is refused, naming the layer and the reason, if the page cannot run it,
    or, with `precision` ``"float16"``, if a weight rounds beyond float16's range.
    """
    stored_as = np.dtype(precision).newbyteorder("<")
    specs, files = [], {}
    for index, (key, keras_model) in enumerate(models.items()):
        layers, chunks = [], []
        offset = 0
        for layer, spec, arrays in _graph_layers(keras_model, precision):
            spec["arrays"] = []
            for name, array in arrays:
                data = _rounded(array, precision, name, layer, keras_model)
                spec["arrays"].append(
                    {"name": name, "shape": list(data.shape), "offset": offset, "length": data.size}
                )
                chunks.append(data.astype(stored_as).tobytes())
                offset += data.nbytes  # offsets count float32 bytes, the page's form
            spec["name"] = layer.name
            layers.append(spec)
        stored = _packed(b"".join(chunks), stored_as.itemsize)
        files[model_file(index)] = stored
        specs.append(
            {
                "key": key,
                "name": keras_model.name,
                "input_shape": [int(size) for size in keras_model.inputs[0].shape[1:]],
                "weights": {
                    "file": model_file(index),
                    "bytes": len(stored),
                    "sha256": hashlib.sha256(stored).hexdigest(),
                    "values": offset // 4,
                    "dtype": precision,
                },
                "layers": layers,
            }
        )
    manifest = {
        "format": "cnnviz-explorer-weights",
        "version": VERSION,
        "title": title,
        "class_names": list(class_names),
        "images": images,
        "models": specs,
    }
    return manifest, files


def _rounded(array: Any, precision: str, name: str, layer: Any, model: Any) -> np.ndarray:
    """Return the finite `array` (layer's `name`) as float32 holding what `precision` stores.

    ``"float32"`` is the weights themselves. ``"float16"`` rounds each to the
    nearest half-precision value (11 significant bits, a relative change of at
    most 2**-11, about 0.05 %; values below 6.1e-5 keep less, as subnormals);
    a value that rounds beyond its largest, 65504 (from 65520 up), is refused.
    """
    data = np.ascontiguousarray(array, dtype=np.float32)
    if precision == "float32":
        return data
    with np.errstate(over="ignore"):
        half = data.astype(np.float16)
    if np.isinf(half).any():
        index = np.unravel_index(int(np.argmax(np.isinf(half))), data.shape)
        raise ValueError(
            f"layer {layer.name!r} of model {model.name!r} has {data[index]:g} in its {name} "
            f"at {tuple(int(i) for i in index)}, which rounds beyond float16's largest value, "
            f'{float(np.finfo(np.float16).max):g}: export it with precision="float32"'
        )
    return half.astype(np.float32)


def _packed(data: bytes, width: int = 4) -> bytes:
    """Return `data`, values of `width` bytes, as a model's weights file stores it.

    The first byte of every value, then the second, and so on (the bytes that hold the
    sign and exponent are alike from weight to weight), compressed with raw DEFLATE
    (RFC 1951), which browsers inflate with ``DecompressionStream("deflate-raw")``.
    """
    planes = np.frombuffer(data, np.uint8).reshape(-1, width).T.tobytes()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(planes) + packer.flush()


def _graph_layers(model: Any, precision: str = "float32") -> list[tuple[Any, dict, list]]:
    """Return (layer, spec, weight arrays) for each layer, in an order that runs.

    `precision` is the weights' (see :func:`_rounded`): batch normalization's scale and
    offset are folded from its weights as stored.

    Each spec's ``"inputs"`` are the indices of the layers whose outputs the layer reads
    (-1 for the model's input), found by tracing the model, nested models looked into;
    the graph is then run layer by layer on random images and checked against the
    model's own output, so that what the page runs is the model.
    """
    import keras

    from .. import _graph

    x, output, trace = _graph.trace(model)
    made = {id(x): -1}  # which layer made each tensor: its index, -1 for the input
    entries = []
    for key, (layer, inputs, out) in trace.calls.items():
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model) and key not in trace.whole:
            continue  # a nested model looked into: its layers are listed
        if trace.counts[key] > 1:
            raise ValueError(
                f"layer {layer.name!r} of model {model.name!r} is called "
                f"{trace.counts[key]} times (a shared layer); the page runs each layer once, "
                "so give each call a layer of its own"
            )
        tensors = keras.tree.flatten(inputs)
        spec, arrays = _layer_spec(layer, model, precision)
        if not all(id(t) in made for t in tensors):
            raise _unsupported(layer, model, "reads a value that no layer the page runs makes")
        spec["inputs"] = [made[id(t)] for t in tensors]
        if len(spec["inputs"]) != 1 and spec["type"] not in ("Add", "Concatenate"):
            raise _unsupported(layer, model, f"takes {len(spec['inputs'])} inputs")
        made[id(out)] = len(entries)
        entries.append((layer, spec, arrays))
    names = [layer.name for layer, _, _ in entries]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise ValueError(
            f"model {model.name!r} has two layers named {twice!r} (nested models?); the page "
            "names every output by its layer, so give the layers distinct names"
        )
    if made.get(id(output)) != len(entries) - 1:
        raise ValueError(
            f"model {model.name!r}'s output is not made by its last layer; the page shows the "
            "last layer's output as the model's"
        )
    # Run the graph as the page will, on data, and check it against the model.
    input_shape = tuple(int(size) for size in model.inputs[0].shape[1:])
    images = np.random.default_rng(0).random((2, *input_shape), dtype=np.float32)
    values: list[Any] = []
    for layer, spec, _ in entries:
        inputs = [images if i < 0 else values[i] for i in spec["inputs"]]
        shape = tuple(inputs[0].shape[1:3])
        window = spec.get("pool_size")
        if window and any(w > n for w, n in zip(window, shape, strict=True)):
            raise _unsupported(
                layer,
                model,
                f"has a pool window of {window[0]}x{window[1]} on an input of "
                f"{shape[0]}x{shape[1]}; the page shows windows that fit in their input",
            )
        if spec["type"] == "Rescaling":
            counts = {len(spec["scale"]), len(spec["offset"])}
            channels = int(inputs[0].shape[-1])
            if not counts <= {1, channels}:
                raise _unsupported(
                    layer, model, f"has {max(counts)} scales or offsets for {channels} channels"
                )
        axis = spec.pop("_axis", -1)
        if axis not in (-1, len(inputs[0].shape) - 1):
            action = "joins along" if spec["type"] == "Concatenate" else "has"
            raise _unsupported(
                layer, model, f"{action} axis {axis}; the page takes the last axis, -1"
            )
        if spec["type"] == "Add" and len({tuple(t.shape[1:]) for t in inputs}) > 1:
            shapes = ", ".join(str(tuple(t.shape[1:])) for t in inputs)
            raise _unsupported(
                layer, model, f"adds inputs of shapes {shapes}; the page adds inputs of one shape"
            )
        y = layer(inputs if spec["type"] in ("Add", "Concatenate") else inputs[0], training=False)
        values.append(y)
        spec["output_shape"] = [int(d) for d in y.shape[1:]]
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    if not np.isfinite(expected).all():
        raise ValueError(
            f"model {model.name!r} gives NaN or infinite outputs for images in [0, 1]; the "
            "page runs models whose outputs are finite"
        )
    got = keras.ops.convert_to_numpy(values[-1])
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        raise ValueError(
            f"model {model.name!r} does not compute what its layers, run one by one, compute; "
            "the page can only run a model made of its layers"
        )
    return entries


def _unsupported(layer: Any, model: Any, why: str) -> ValueError:
    return ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}) of model {model.name!r} {why}; the "
        f"explorer runs {', '.join(SUPPORTED)}"
    )


def _activation(layer: Any, model: Any, activation: object) -> str:
    import keras

    if activation is None:
        return "linear"
    # Keras' own activations only: a function of the user's (a lambda, a functools.partial)
    # is not serialized at all, since Keras would warn, fail, or spell out its bytecode.
    called = getattr(activation, "__name__", None)
    if called is None or getattr(keras.activations, called, None) is not activation:
        what = called or type(activation).__name__
        raise _unsupported(
            layer,
            model,
            f"has the activation {what!r}, a function of its own rather than one of Keras' "
            "activations, which the page cannot compute",
        )
    name = keras.activations.serialize(activation)
    if name not in ACTIVATIONS:
        raise _unsupported(
            layer, model, f"has the activation {name!r}, which the page cannot compute"
        )
    return name


def _finite(layer: Any, model: Any, arrays: list[tuple[str, np.ndarray]]) -> list:
    """Return `arrays` (name, array), refused if a value is not finite."""
    for name, array in arrays:
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(
                f"layer {layer.name!r} of model {model.name!r} has {bad} NaN or infinite "
                f"value(s) in its {name}; the page runs only finite weights (was the model "
                "trained to a NaN loss?)"
            )
    return arrays


def _plain_float32(layer: Any, model: Any) -> None:
    """Refuse a layer that does not compute as its float32 weights say.

    The page would compute something else from them, silently: mixed precision,
    quantized weights, LoRA.
    """
    compute = getattr(getattr(layer, "dtype_policy", None), "compute_dtype", "float32")
    if compute != "float32":
        raise _unsupported(layer, model, f"computes in {compute}, and the page computes in float32")
    mode = getattr(layer, "quantization_mode", None)
    if mode:
        raise _unsupported(
            layer, model, f"is quantized ({mode}), and the page runs float32 weights"
        )
    if getattr(layer, "lora_enabled", False):
        raise _unsupported(layer, model, "has LoRA enabled, which the page does not add")


def _weights_of(layer: Any, model: Any, names: tuple[str, ...]) -> list:
    """Return `layer`'s weights named `names`, and its bias, last, if it has one.

    A layer with more or fewer weights than those is refused: the page would drop them.
    """
    weights = layer.get_weights()
    read = (*names, "bias") if getattr(layer, "use_bias", False) else names
    if len(weights) != len(read):
        raise _unsupported(
            layer,
            model,
            f"has {len(weights)} weight arrays where the page reads {len(read)} "
            f"({', '.join(read)})",
        )
    return _finite(layer, model, list(zip(read, weights, strict=True)))


def _edges(config: object) -> list[list[int]]:
    """Return a padding or cropping setting as [[top, bottom], [left, right]]."""
    return [[int(a), int(b)] for a, b in config]


def _numpy(value: object) -> object:
    """Return `value` as NumPy can read it: a Keras or backend tensor converted."""
    import keras

    return keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else value


def _affine(layer: Any, model: Any, precision: str) -> dict[str, list[float]]:
    """Return BatchNormalization's or Rescaling's per-channel scale and offset (x * s + o).

    A batch normalization's are folded from its weights as `precision` stores them
    (each rounded to float16, or not), in float32 as TensorFlow folds them; a
    Rescaling's are its settings, not weights, and kept as they are. Both go into the
    manifest as numbers (each a float32 value, exactly), not into the weights file.
    Rescaling's may hold one value for every channel; the graph's run checks the count.
    """
    config = layer.get_config()
    if type(layer).__name__ == "BatchNormalization":
        if config["axis"] not in (-1, 3, [-1], [3]):
            raise _unsupported(layer, model, f"normalizes axis {config['axis']}, not channels")
        if config.get("renorm"):
            raise _unsupported(layer, model, "uses batch renormalization")
        names = ["moving_mean", "moving_variance"]
        names += ["gamma"] * bool(layer.scale) + ["beta"] * bool(layer.center)
        weights = {
            name: _rounded(array, precision, name, layer, model)
            for name, array in _finite(
                layer,
                model,
                [(name, np.asarray(getattr(layer, name), np.float32)) for name in names],
            )
        }
        mean, variance = weights["moving_mean"], weights["moving_variance"]
        gamma = weights.get("gamma", np.ones_like(mean))
        beta = weights.get("beta", np.zeros_like(mean))
        spread = variance + np.float32(config["epsilon"])
        if spread.size and not spread.min() >= np.finfo(np.float32).tiny:
            # TensorFlow flushes a subnormal to zero (a sum below zero has no root): its
            # scale is then infinite or NaN, where NumPy's would be finite.
            raise ValueError(
                f"layer {layer.name!r} of model {model.name!r} has moving_variance + epsilon "
                f"= {spread.min():g}, below float32's smallest normal number (1.2e-38), so it "
                "normalizes by no finite scale; the page runs finite numbers only"
            )
        # As TensorFlow computes it: x * (gamma / sqrt(var + eps)) + (beta - mean * that).
        scale = gamma / np.sqrt(spread)
        values = [("scale", scale), ("offset", beta - mean * scale)]
    else:
        # The layer's own values: its config holds NumPy arrays in a serialized form.
        with np.errstate(over="ignore"):
            scale = np.asarray(_numpy(layer.scale), np.float32).reshape(-1)
            offset = np.asarray(_numpy(layer.offset), np.float32).reshape(-1)
        for name, array in (("scale", scale), ("offset", offset)):
            if not np.isfinite(array).all():
                raise ValueError(
                    f"layer {layer.name!r} of model {model.name!r} has a {name} of "
                    f"{_numpy(getattr(layer, name))}, not finite in float32; the page runs "
                    "finite numbers only"
                )
        if scale.size != offset.size and 1 in (scale.size, offset.size):
            size = max(scale.size, offset.size)
            scale, offset = np.broadcast_to(scale, (size,)), np.broadcast_to(offset, (size,))
        values = [("scale", scale), ("offset", offset)]
    # A Python float holds a float32 exactly, and JSON writes it so that it reads back exactly.
    return {name: [float(v) for v in array] for name, array in _finite(layer, model, values)}


def _layer_spec(layer: Any, model: Any, precision: str = "float32") -> tuple[dict, list]:
    """Return the manifest entry (without name, inputs and output shape) and arrays of a layer."""
    import keras

    from ..layers import Padding2D

    # Named first: get_config fails on some activations of one's own (a functools.partial).
    activation = (
        _activation(layer, model, layer.activation) if hasattr(layer, "activation") else None
    )
    config = layer.get_config()
    kind = type(layer).__name__
    if type(layer) is not (Padding2D if kind == "Padding2D" else getattr(keras.layers, kind, None)):
        kind = "?"  # a subclass, or another library's layer of a Keras name: not known here
    spec: dict[str, Any] = {"type": kind}
    _plain_float32(layer, model)
    if config.get("data_format", "channels_last") != "channels_last":
        raise _unsupported(layer, model, "is channels_first, and the page runs channels_last")
    if kind in _CONVOLUTIONS:
        dilation, groups = tuple(config["dilation_rate"]), config.get("groups", 1)
        if dilation != (1, 1) or groups != 1:
            raise _unsupported(
                layer,
                model,
                f"has dilation_rate={dilation} and groups={groups}, and the page runs only "
                "dilation_rate=(1, 1) and groups=1",
            )
        spec.update(
            kernel_size=list(config["kernel_size"]),
            strides=list(config["strides"]),
            padding=config["padding"],
            activation=activation,
        )
        names = (
            ("depthwise_kernel", "pointwise_kernel") if kind == "SeparableConv2D" else ("kernel",)
        )
        return spec, _weights_of(layer, model, names)
    if kind == "Dense":
        spec["activation"] = activation
        return spec, _weights_of(layer, model, ("kernel",))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        spec.update(
            pool_size=list(config["pool_size"]),
            strides=list(config["strides"] or config["pool_size"]),
            padding=config["padding"],
        )
        return spec, []
    if kind in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        spec["keepdims"] = bool(config["keepdims"])
        return spec, []
    if kind in ("BatchNormalization", "Rescaling"):
        spec.update(_affine(layer, model, precision))
        return spec, []
    if kind in ("ZeroPadding2D", "Padding2D"):
        spec["padding"] = _edges(config["padding"])
        if kind == "Padding2D":
            spec["mode"] = config["mode"]
        return spec, []
    if kind == "Cropping2D":
        spec["cropping"] = _edges(config["cropping"])
        return spec, []
    if kind == "Activation":
        spec["activation"] = activation
        return spec, []
    if kind in ("ReLU", "LeakyReLU"):
        keys = (
            ("negative_slope", "max_value", "threshold") if kind == "ReLU" else ("negative_slope",)
        )
        settings = {key: None if config[key] is None else float(config[key]) for key in keys}
        if settings.get("max_value") == math.inf:
            settings["max_value"] = None  # no cap, as the page reads it
        for key, value in settings.items():
            if value is not None and not math.isfinite(value):
                raise _unsupported(layer, model, f"has {key}={value}, which is not finite")
        if settings["negative_slope"] is None or settings.get("threshold", 0) is None:
            raise _unsupported(layer, model, "has no negative_slope or threshold")
        spec.update(settings)
        return spec, []
    if kind == "ELU":
        alpha = float(config["alpha"])
        if not math.isfinite(alpha):
            raise _unsupported(layer, model, f"has alpha={alpha}, which is not finite")
        spec["alpha"] = alpha
        return spec, []
    if kind in ("Softmax", "Concatenate"):
        # The last axis, -1 or its number: checked against the input when the graph is run.
        axis = config["axis"]
        spec["_axis"] = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        return spec, []
    if kind in ("Flatten", "Add", *_IDENTITY):
        return spec, []
    if kind == "?" and hasattr(keras.layers, type(layer).__name__):
        cls = type(layer)
        raise _unsupported(
            layer,
            model,
            f"is {cls.__module__}.{cls.__qualname__}, not Keras' own {cls.__name__} (a "
            "subclass, or another library's layer of that name, may compute anything), and "
            "the page runs Keras' own layers only",
        )
    raise _unsupported(layer, model, "is not a layer the page can run")


def _weights_file(manifest: dict) -> bytes:
    """Return the bytes of weights.bin: magic, SHA-256 of the rest, the length, the manifest.

    The manifest holds each model's weights file's SHA-256, so this one checksum
    covers every weight the page runs.
    """
    text = json.dumps(manifest, separators=(",", ":"), allow_nan=False).encode("utf-8")
    body = struct.pack("<I", len(text)) + text
    return MAGIC + hashlib.sha256(body).digest() + body
