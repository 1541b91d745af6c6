"""Receptive-field geometry: which input pixels a unit of a layer sees (private).

Computed from the chain of layers between the input and the layer, in the
flat graph of cnnviz's one walk of a model (``cnnviz._graph``); shared by
:mod:`~cnnviz.channels.fields` (the public functions) and
:mod:`~cnnviz.channels.dataset_views` (the boxes of the top patches).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from .. import _graph
from ..models import same_padding

# Layers whose every output pixel depends on the same input pixel only.
_ELEMENTWISE = (
    keras.layers.InputLayer,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.Rescaling,
    keras.layers.Normalization,
    keras.layers.Identity,
    keras.layers.ActivityRegularization,
)
# Layers that slide a window: their config has the window, strides, padding (and dilation).
_WINDOWED = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)


@dataclass(frozen=True)
class _Field:
    """Unit (i, j) of a layer sees input rows ``start[0] + i * jump[0]`` + range(size[0]), etc."""

    start: tuple[int, int]
    jump: tuple[int, int]
    size: tuple[int, int]
    output: tuple[int, int]  # the layer's output height and width
    image: tuple[int, int]  # the input's height and width


def _pair(value: object) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else tuple(int(v) for v in value)


def _window(layer: keras.layers.Layer, size_in: tuple[int, int]) -> tuple[list, list, list]:
    """Return the window (dilated), stride and padding before the input, per axis."""
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last":
        raise ValueError(
            f"layer {layer.name!r} has data_format={config['data_format']!r}; receptive fields "
            "are computed for channels_last layers only"
        )
    window = _pair(config["pool_size"] if "pool_size" in config else config["kernel_size"])
    strides = _pair(config["strides"] if config.get("strides") is not None else window)
    dilation = _pair(config.get("dilation_rate", 1))
    span = [d * (k - 1) + 1 for k, d in zip(window, dilation, strict=True)]
    before = [0, 0]
    if config["padding"] == "same":
        before = [same_padding(size_in[a], span[a], strides[a])[0] for a in range(2)]
    return span, list(strides), before


def _field(model: keras.Model, parts: _graph.Split) -> _Field:
    """Compute the receptive field of `parts`' layer from the chain of layers before it."""
    _graph.channel_count(parts, spatial=True)
    x, _, trace = _graph.trace(model)
    producers: dict[int, tuple[keras.layers.Layer, object]] = {}
    for layer, inputs, output in trace.calls.values():
        # The first producer wins: a nested model's layers are recorded before the model.
        producers.setdefault(id(output), (layer, inputs))
    chain = []
    tensor = parts.feature
    while tensor is not x:
        if id(tensor) not in producers:
            # The trace keeps a shared layer's last call only: its other calls' outputs
            # have no producer.
            shared = [
                layer.name for key, (layer, _, _) in trace.calls.items() if trace.counts[key] > 1
            ]
            because = (
                f": the way back passes a layer called more than once ({', '.join(shared)}), "
                "whose calls cnnviz cannot tell apart"
                if shared
                else ""
            )
            raise ValueError(
                f"layer {parts.name!r} cannot be traced back to the model's input{because}"
            )
        layer, tensor = producers[id(tensor)]
        if isinstance(tensor, (list, tuple, dict)):
            raise ValueError(  # noqa: TRY004 (the model's structure, not an argument's type)
                f"layer {layer.name!r} ({type(layer).__name__}) on the way to {parts.name!r} "
                "takes several inputs; receptive fields are computed for chains of layers only"
            )
        chain.append((layer, tensor))
    if any(n is None for n in x.shape[1:3]):
        raise ValueError(
            f"receptive fields and boxes need a model whose input size is fixed; model "
            f"{trace.model!r} takes images of shape {tuple(x.shape[1:])} (an open size, None): "
            "build it with keras.Input((height, width, channels))"
        )
    image = tuple(int(n) for n in x.shape[1:3])
    start, jump, size = [0, 0], [1, 1], [1, 1]
    for layer, tensor in reversed(chain):
        if isinstance(layer, _ELEMENTWISE):
            continue
        if isinstance(layer, _WINDOWED):
            span, strides, before = _window(layer, tuple(int(n) for n in tensor.shape[1:3]))
            for a in range(2):
                start[a] -= before[a] * jump[a]
                size[a] += (span[a] - 1) * jump[a]
                jump[a] *= strides[a]
        elif isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
            config = layer.get_config()
            sign = 1 if isinstance(layer, keras.layers.ZeroPadding2D) else -1
            edges = config["padding"] if sign == 1 else config["cropping"]
            for a in range(2):
                start[a] -= sign * int(edges[a][0]) * jump[a]
        else:
            raise ValueError(  # noqa: TRY004 (the model's structure, not an argument's type)
                f"layer {layer.name!r} is a {type(layer).__name__}, which cnnviz cannot follow "
                f"back to the input pixels on the way to {parts.name!r} (it knows convolutions, "
                "poolings, padding, cropping and element-wise layers)"
            )
    output = tuple(int(n) for n in parts.feature.shape[1:3])
    return _Field(tuple(start), tuple(jump), tuple(size), output, image)


def _boxes(field: _Field, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return (..., 4) int64 boxes (top, left, bottom, right), clipped to the image."""
    top = field.start[0] + rows * field.jump[0]
    left = field.start[1] + cols * field.jump[1]
    box = np.stack([top, left, top + field.size[0], left + field.size[1]], axis=-1)
    limits = np.array([field.image[0], field.image[1]] * 2)
    return np.clip(box, 0, limits).astype(np.int64)
