"""A Keras model traced into one flat graph, nested models looked into (private).

To reach the layers of a nested model, the model is traced once: each layer is
called, with its own weights, on a symbolic input (``keras.models.clone_model``
with a ``call_function`` for functional models, a loop for Sequential ones), so
inner layers' outputs are tensors of that one graph. ``model.get_layer(name).output``
of the given model cannot do this: it fails on Sequential and nested models.

This is cnnviz's one walk of a model: every public function finds layers
(by name, nested models' included, or by index into ``model.layers``), splits
a model at a layer and follows connections through it, so a name that one
function takes, every function takes. Used by :mod:`cnnviz.activations`
(every layer's output), :mod:`cnnviz.attribution` (gradients to a layer),
:mod:`cnnviz.channels` (sub-models to and from a layer, the layer stack of a
receptive field), the explorer (the chain of layers it exports) and the
chunk policy of ``_batches``. Questions about what kind of model it is (an
image model, a classifier ending in a softmax, one that scales its own input)
live here too; ``_checks`` keeps the argument checks that need no model.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import keras
import numpy as np

from . import _checks


@dataclass
class Trace:
    """What tracing saw: each layer's input and output, how often it was called, in call order."""

    calls: dict[int, tuple[keras.layers.Layer, object, object]]
    counts: dict[int, int]
    model: str = ""  # the traced model's name, for messages
    whole: set[int] = field(default_factory=set)  # nested models called whole, not looked into


def _call(layer, trace: Trace, *args, **kwargs):
    if isinstance(layer, keras.Model):
        try:
            out = _run(layer, args[0], trace)
        except (ValueError, AttributeError, TypeError):
            out = layer(*args, **kwargs)  # a subclassed model: called whole, not looked into
            trace.whole.add(id(layer))
    else:
        out = layer(*args, **kwargs)
    trace.calls[id(layer)] = (layer, args[0], out)
    trace.counts[id(layer)] = trace.counts.get(id(layer), 0) + 1
    return out


def _run(model: keras.Model, x, trace: Trace):
    """Call `model`'s layers one by one on the symbolic tensor `x`, looking into nested models."""
    if isinstance(model, keras.Sequential):
        for layer in model.layers:
            x = _call(layer, trace, x)
        return x
    # clone_model on a tensor that is not a keras.Input returns a model whose outputs are
    # copies on a graph of their own; the real output in this graph is what the last call
    # returns (Keras runs the graph's nodes by depth, the output's node last).
    last = []

    def call(layer, *args, **kwargs):
        last.append(_call(layer, trace, *args, **kwargs))
        return last[-1]

    keras.models.clone_model(
        model,
        input_tensors=keras.tree.map_structure(lambda _: x, model.input),
        clone_function=lambda layer: layer,  # the same layers, so the same weights
        call_function=call,
    )
    return last[-1]


# One trace per model: each trace adds a call of every layer to the layers' own records.
_TRACES: weakref.WeakKeyDictionary[keras.Model, tuple[object, object, Trace]] = (
    weakref.WeakKeyDictionary()
)
# Traces and splits are built under one lock: two threads that traced the same model at
# once would each keep tensors of their own graph, and a split of one would never be found
# in the other's trace again.
_LOCK = threading.RLock()


def trace(model: keras.Model) -> tuple[object, object, Trace]:
    """Return the model's input, output and layer calls, traced once into one flat graph."""
    with _LOCK:
        return _trace(model)


def _trace(model: keras.Model) -> tuple[object, object, Trace]:
    if model not in _TRACES:
        x = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
        calls = Trace({}, {}, model.name)
        # A functional model lists its input layer among its layers (index 0): its output is
        # the input itself.
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                calls.calls[id(layer)] = (layer, x, x)
                calls.counts[id(layer)] = 1
        _TRACES[model] = (x, _run(model, x, calls), calls)
    return _TRACES[model]


def layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Return every layer of `model` in the order it is called, nested models' layers in place.

    A nested model is looked into, not listed itself, unless it could only be called
    whole (a subclassed model); inputs are left out.
    """
    _, _, calls = trace(model)
    return [
        layer
        for key, (layer, _, _) in calls.calls.items()
        if not isinstance(layer, keras.layers.InputLayer)
        and (not isinstance(layer, keras.Model) or key in calls.whole)
    ]


def find(calls: Trace, name: str):
    """Return the (layer, input, output) of the layer called `name`.

    Refuse a name that two layers carry (a nested model's layer may share its name with a
    layer outside, or with the nested model itself), a layer called more than once (a
    shared layer has one output per call) and a layer with several outputs.
    """
    found = [(key, entry) for key, entry in calls.calls.items() if entry[0].name == name]
    if not found:
        raise AssertionError(name)  # layer_name has checked the name
    if len(found) > 1:
        kinds = ", ".join(type(entry[0]).__name__ for _, entry in found)
        raise ValueError(
            f"model {calls.model!r} has {len(found)} layers named {name!r} ({kinds}: nested "
            "models' layers included), so the name does not say which one you mean; give "
            "the layers distinct names"
        )
    key, (layer, inputs, output) = found[0]
    if calls.counts[key] > 1:
        raise ValueError(
            f"layer {name!r} of model {calls.model!r} is called {calls.counts[key]} times "
            "(a shared layer), so it has one output per call and cnnviz cannot tell "
            "which one you mean; ask for a layer that is called once, such as the "
            "layers that follow each call"
        )
    if not hasattr(output, "shape"):
        raise ValueError(
            f"layer {name!r} of model {calls.model!r} has several outputs; give a layer with one"
        )
    return layer, inputs, output


def layer_name(model: keras.Model, layer: object, argument: str = "layer") -> str:
    """Return the name of `layer`: a name (nested models' layers included) or an index.

    An index counts ``model.layers``, as ``model.get_layer(index=i)`` does
    (for :func:`~cnnviz.lenet5`, 0 is the input layer and 1 is ``conv1``).
    """
    if isinstance(layer, str):
        _, _, calls = trace(model)
        names = [item.name for item, _, _ in calls.calls.values()]
        if layer not in names:
            raise ValueError(
                f"model {model.name!r} has no layer named {layer!r}; its layers "
                f"(nested models' included) are {names}"
            )
        return layer
    if _checks._is_integer(layer):
        count = len(model.layers)
        if not -count <= layer < count:
            raise ValueError(
                f"layer index {layer} is out of range: model {model.name!r} has {count} layers "
                f"(indices {-count} to {count - 1}, as for model.get_layer(index=i))"
            )
        name = model.layers[int(layer)].name
        find(trace(model)[2], name)  # an index whose name two layers carry is refused
        return name
    raise TypeError(f"{argument} must be a layer name (str) or an index (int); got {layer!r}")


# --- a model split at a layer -----------------------------------------------------------------


@dataclass(eq=False)  # compared and hashed by identity: a cache may key on a split
class Split:
    """A model split at one layer: the layer, its output in the flat graph, the models around it."""

    name: str
    layer: keras.layers.Layer
    feature: object  # the layer's output in the flat graph
    head: keras.Model  # the input -> the layer's output
    tail: keras.Model | None = None  # the layer's output -> the model's output, built when needed


_SPLITS: weakref.WeakKeyDictionary[keras.Model, dict[str, Split]] = weakref.WeakKeyDictionary()


def split(model: keras.Model, layer: object) -> Split:
    """Return `model` split at `layer` (a name or an index), built once per model and layer."""
    name = layer_name(model, layer)
    with _LOCK:
        per_model = _SPLITS.setdefault(model, {})
        if name not in per_model:
            x, _, calls = trace(model)
            found, _, feature = find(calls, name)
            head = keras.Model(x, feature, name=f"{model.name}_to_{name}")
            per_model[name] = Split(name, found, feature, head)
        return per_model[name]


def tail(model: keras.Model, parts: Split) -> keras.Model:
    """Return the model from the split layer's output to the model's output, built once."""
    with _LOCK:
        if parts.tail is None:
            _, output, _ = trace(model)
            if any(out is parts.feature for out in keras.tree.flatten(output)):
                raise ValueError(
                    f"layer {parts.name!r} is the output of model {model.name!r}: no layer "
                    "runs after it, so there is nothing to run on its changed output; give a "
                    "layer before the output"
                )
            try:
                parts.tail = keras.Model(
                    parts.feature, output, name=f"{model.name}_after_{parts.name}"
                )
            except ValueError as error:
                raise ValueError(
                    f"the output of model {model.name!r} does not depend on layer "
                    f"{parts.name!r}'s output alone (a connection skips the layer, or the "
                    f"layer is not on the way to the output), so the model cannot be split "
                    f"there: {error}"
                ) from error
        return parts.tail


def channel_count(parts: Split, *, spatial: bool) -> int:
    """Return the number of channels (the last axis) of the split layer's output.

    With `spatial`, the output must be feature maps (batch, height, width, channels).
    """
    shape = tuple(parts.feature.shape)
    if spatial and len(shape) != 4:
        raise ValueError(
            f"layer {parts.name!r} must give feature maps (batch, height, width, channels); "
            f"it gives {shape}"
        )
    if len(shape) < 2:
        raise ValueError(f"layer {parts.name!r} gives {shape}, which has no channel axis")
    return int(shape[-1])


def run(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return ``model(x)`` as NumPy: a direct (eager) call, no tf.function to trace per sub-model."""
    return keras.ops.convert_to_numpy(model(x, training=False))


# --- what kind of model this is (checked where a model enters) -------------------------------


def keras_model(model: object, name: str = "model"):
    """Return `model` if it is a Keras model."""
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


def class_output(model: object, name: str = "model"):
    """Return `model` if it is an image model with one output of shape (batch, classes)."""
    model = image_model(model, name)
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        shapes = [tuple(output.shape) for output in model.outputs]
        raise ValueError(
            f"{name} must have one output of shape (batch, classes); {model.name!r} has {shapes}"
        )
    return model


def last_layer(model: keras.Model):
    """Return the last of ``model.layers``, looked into where it is itself a model."""
    layer = model
    while isinstance(layer, keras.Model) and layer.layers:
        layer = layer.layers[-1]
    return layer


def softmax_end(model) -> bool:
    """Say whether `model`'s output comes out of a softmax.

    The rule: the model's last layer (looked into where it is itself a
    model) is a ``Softmax`` layer, or a layer whose ``activation`` is
    Keras' softmax (a ``Dense(..., activation="softmax")`` or an
    ``Activation("softmax")``).
    """
    layer = last_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and keras.activations.serialize(activation) == "softmax"


def classifier(model: object, name: str = "model"):
    """Return `model` if it is an image model with one output of class probabilities."""
    model = class_output(model, name)
    if not softmax_end(model):
        raise ValueError(
            f"{name} {model.name!r} does not end in a softmax, but the recipe's loss "
            "(categorical cross-entropy) needs class probabilities: give its last layer "
            "activation='softmax' or add keras.layers.Softmax()"
        )
    return model


def scales_its_input(model) -> bool:
    """Say whether `model` rescales its own input: its first layer is Rescaling or Normalization.

    Looked into where the first layer is itself a model (a nested model).
    """
    layer = model
    while isinstance(layer, keras.Model):
        layers = [item for item in layer.layers if not isinstance(item, keras.layers.InputLayer)]
        if not layers:
            return False
        layer = layers[0]
    return isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization))


def input_range(model) -> tuple[float, float]:
    """Return the range of pixel values `model` takes: (0, 255) if it scales its own input, else (0, 1).

    The same rule as :func:`scale_setting`'s default: a model that scales its
    own input takes ``uint8``-range pixels, any other takes [0, 1].
    """
    return (0.0, 255.0) if scales_its_input(model) else (0.0, 1.0)


def layer_names(model, layers) -> tuple[str, ...]:
    """Return the names of `layers` of `model`: names or indices, each as :func:`layer_name` takes it.

    ``None`` means every layer of ``model.layers`` after the input (a nested
    model is one of them: its output).
    """
    if layers is None:
        names = tuple(
            layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
        )
        if not names:
            raise ValueError(f"model {model.name!r} has no layers after its input")
        return names
    if isinstance(layers, (str, bytes, int, np.integer)) or not isinstance(layers, Iterable):
        raise TypeError(
            "layers must be a sequence of layer names or indices, e.g. ['conv1'] or [1]; "
            f"got {layers!r}"
        )
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty: give at least one layer name or index, or None for all")
    for item in layers:
        if not isinstance(item, str) and not _checks._is_integer(item):
            raise TypeError(f"layers must hold names (str) or indices (int); got {item!r}")
    return tuple(layer_name(model, item, "layers") for item in layers)
