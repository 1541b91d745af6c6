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

What cnnviz builds for a model (the trace, splits, extractors, compiled
functions) is kept in one place, :func:`cached`: per model, weakly, and per
fingerprint of what the model computes, so a model changed after cnnviz saw
it is traced again; built under one lock, and never kept when building fails.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from . import _checks
from .layers import Padding2D


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


# --- what a model computes, and the values cached for it ---------------------------------------

# Every compiled function or sub-model that cnnviz keeps for a model lives in one entry per
# model, weak on the model (it goes away with it), and is valid for one fingerprint of what
# the model computes: after ``model.pop(); model.add(...)``, a layer whose weights were built
# anew or a new activation, the fingerprint differs and every value is built again, so a
# changed model is never explained with its old layers.
_END = -1  # marks the end of a nested model's layers in a fingerprint (ids are positive)


@dataclass(eq=False)
class _Entry:
    """The values cached for one model, valid while its fingerprint is `fingerprint`."""

    fingerprint: tuple[int, ...]
    # The objects the fingerprint names: held, so that none of them is collected and its id
    # given to a new object while this entry can still be compared with.
    held: list[object]
    values: dict[tuple[str, object], object] = field(default_factory=dict)


_ENTRIES: weakref.WeakKeyDictionary[keras.Model, _Entry] = weakref.WeakKeyDictionary()
# Values are built under one lock: two threads that traced the same model at once would
# each keep tensors of their own graph, and a split of one would never be found in the
# other's trace again. Reentrant: building one value asks for others (a split, the trace).
_LOCK = threading.RLock()


def _computes(model: keras.Model) -> list[object]:
    """Return the objects that decide what `model` computes, in a fixed order.

    Its layers in order, nested models' and Pipelines' layers in place (after the
    nested model, then ``_END``), each with its activation (``layer.activation = None`` is how keras.io turns a
    softmax head into logits) and its settings (:func:`_settings`: a Normalization adapted
    again, a new dtype policy), then its variables (a layer built again has new ones;
    assigning values to the same variables changes nothing here, as compiled functions read
    the variables), then its input and output tensors.
    """
    objects: list[object] = []

    def walk(outer: keras.Model | keras.layers.Pipeline) -> None:
        for layer in outer.layers:
            objects.append(layer)
            objects.append(getattr(layer, "activation", None))
            if isinstance(layer, (keras.Model, keras.layers.Pipeline)):
                # A Pipeline's layers are not the model's layers: a Rescaling inside one is
                # looked into as a nested model's is (its variables are the model's).
                walk(layer)
                objects.append(_END)
            else:
                objects.extend(_settings(layer))

    walk(model)
    objects.extend(model.variables)
    objects.extend(model.inputs)
    objects.extend(model.outputs)
    return objects


#: The kinds of a layer's attribute values that its call may read and a compiled function
#: keeps as constants: numbers, strings, tuples, arrays and tensors that are not variables,
#: and its dtype policy. Values of these kinds are replaced, never changed in place.
_SETTINGS = (int, float, complex, str, bytes, tuple, np.ndarray, np.generic, keras.DTypePolicy)


def _settings(layer: keras.layers.Layer) -> list[object]:
    """Return the values of `layer`'s settings, in attribute order (a fixed order per layer).

    A compiled function keeps what the layer's call read when it was traced, not where it
    read it: a Normalization adapted again (``norm.adapt(new_data)``) computes a new ``mean``
    tensor from its variables, a Rescaling given a new ``scale`` holds a new number, a layer
    given a new ``dtype_policy`` computes in another type, and each was run with the old one.
    Such values are replaced, not changed in place, so a new id marks the change. Variables
    are in the fingerprint on their own (their values are read when run), and containers
    (lists, dicts) are left out: their ids do not change with what they hold.
    """
    known = _SETTING_TYPES
    return [
        value
        for value in vars(layer).values()
        if known.get(type(value)) or (type(value) not in known and _is_setting(value))
    ]


# Whether values of a type are settings, by type: ``keras.ops.is_tensor`` asks TensorFlow,
# whose check is a slow protocol test (5 ms a LeNet-5 fingerprint instead of 20 us), and
# its answer is the same for every value of one type.
_SETTING_TYPES: dict[type, bool] = {}


def _is_setting(value: object) -> bool:
    kind = type(value)
    if kind not in _SETTING_TYPES:
        _SETTING_TYPES[kind] = isinstance(value, _SETTINGS) or (
            not isinstance(value, keras.Variable) and bool(keras.ops.is_tensor(value))
        )
    return _SETTING_TYPES[kind]


def _ids(objects: list[object]) -> tuple[int, ...]:
    return tuple(item if item is _END else id(item) for item in objects)


def fingerprint(model: keras.Model) -> tuple[int, ...]:
    """Return the fingerprint of what `model` computes: the ids of :func:`_computes`' objects."""
    return _ids(_computes(model))


def cached(model: keras.Model, kind: str, key: object, build):
    """Return the value `build()` gives for `model`, built once per (kind, key) and fingerprint.

    A model whose fingerprint changed since its values were built gets a new entry: every
    value is built again. A `build` that raises stores nothing, so the next call tries
    again. Built under the lock: threads share one value.
    """
    objects = _computes(model)
    current = _ids(objects)
    with _LOCK:
        entry = _ENTRIES.get(model)
        if entry is None or entry.fingerprint != current:
            entry = _ENTRIES[model] = _Entry(current, objects)
        if (kind, key) not in entry.values:
            entry.values[kind, key] = build()
        return entry.values[kind, key]


def trace(model: keras.Model) -> tuple[object, object, Trace]:
    """Return the model's input, output and layer calls, traced once into one flat graph."""
    return cached(model, "trace", None, lambda: _trace(model))


def _trace(model: keras.Model) -> tuple[object, object, Trace]:
    x = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
    calls = Trace({}, {}, model.name)
    # A functional model lists its input layer among its layers (index 0): its output is
    # the input itself.
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            calls.calls[id(layer)] = (layer, x, x)
            calls.counts[id(layer)] = 1
    return x, _run(model, x, calls), calls


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


def layer_name(
    model: keras.Model, layer: object, argument: str = "layer", *, input_ok: bool = False
) -> str:
    """Return the name of `layer`: a name (nested models' layers included) or an index.

    An index counts ``model.layers``, as ``model.get_layer(index=i)`` does
    (for :func:`~cnnviz.lenet5`, 0 is the input layer and 1 is ``conv1``).
    The input layer itself, by index or by name, is refused with a message
    naming `argument` (its output is the images: there is nothing to explain),
    unless `input_ok` (:func:`~cnnviz.layer_outputs` returns what any layer
    gives, and the input layer gives the images as the model takes them).
    """
    if isinstance(layer, str):
        _, _, calls = trace(model)
        names = [item.name for item, _, _ in calls.calls.values()]
        if layer not in names:
            for item, _, _ in calls.calls.values():  # a nested model's input layer, by name
                inner = item.layers if isinstance(item, keras.Model) else []
                if any(isinstance(x, keras.layers.InputLayer) and x.name == layer for x in inner):
                    raise ValueError(_input_layer_message(item, layer, layer, argument, "nested "))
            raise ValueError(
                f"model {model.name!r} has no layer named {layer!r}; its layers "
                f"(nested models' included) are {names}"
            )
        name = layer
    elif _checks.is_integer(layer):
        count = len(model.layers)
        if not -count <= layer < count:
            raise ValueError(
                f"layer index {layer} is out of range: model {model.name!r} has {count} layers "
                f"(indices {-count} to {count - 1}, as for model.get_layer(index=i))"
            )
        name = model.layers[int(layer)].name
    else:
        raise TypeError(f"{argument} must be a layer name (str) or an index (int); got {layer!r}")
    # An index whose name two layers carry is refused here, and so is the input layer.
    found = find(trace(model)[2], name)[0]
    if isinstance(found, keras.layers.InputLayer) and not input_ok:
        raise ValueError(_input_layer_message(model, layer, name, argument))
    return name


def _input_layer_message(
    model: keras.Model, layer: object, name: str, argument: str, nested: str = ""
) -> str:
    """Say that `layer` is the model's input layer, which has nothing to explain, and what to give.

    `nested` is ``"nested "`` for the input layer of a model inside the one given: its
    layers' indices are not the given model's, so the message names a layer, not an index.
    """
    given = f"{argument} {layer!r} is"
    after = [
        (i, item.name)
        for i, item in enumerate(model.layers)
        if not isinstance(item, keras.layers.InputLayer)
    ]
    instead = ""
    if after:
        instead = f", such as {after[0][1]!r}" + ("" if nested else f" (index {after[0][0]})")
    return (
        f"{given} the input layer of {nested}model {model.name!r} ({name!r}): its output is the "
        "images themselves, so it has nothing to explain (no kernel, no receptive field, "
        f"no channels of its own); give a layer after it{instead}"
    )


# --- a model split at a layer -----------------------------------------------------------------


@dataclass(eq=False)  # compared and hashed by identity
class Split:
    """A model split at one layer: the layer, its output in the flat graph, the model up to it."""

    name: str
    layer: keras.layers.Layer
    feature: object  # the layer's output in the flat graph
    head: keras.Model  # the input -> the layer's output


def split(model: keras.Model, layer: object) -> Split:
    """Return `model` split at `layer` (a name or an index), built once per model and layer."""
    name = layer_name(model, layer)

    def build() -> Split:
        x, _, calls = trace(model)
        found, _, feature = find(calls, name)
        return Split(name, found, feature, keras.Model(x, feature, name=f"{model.name}_to_{name}"))

    return cached(model, "split", name, build)


def tail(model: keras.Model, parts: Split) -> keras.Model:
    """Return the model from the split layer's output to the model's output, built once."""

    def build() -> keras.Model:
        # The split of the current trace: one kept from before the model changed would
        # hold tensors of the old trace.
        feature = split(model, parts.name).feature
        _, output, _ = trace(model)
        if any(out is feature for out in keras.tree.flatten(output)):
            raise ValueError(
                f"layer {parts.name!r} is the output of model {model.name!r}: no layer "
                "runs after it, so there is nothing to run on its changed output; give a "
                "layer before the output"
            )
        try:
            return keras.Model(feature, output, name=f"{model.name}_after_{parts.name}")
        except ValueError as error:
            raise ValueError(
                f"the output of model {model.name!r} does not depend on layer "
                f"{parts.name!r}'s output alone (a connection skips the layer, or the "
                f"layer is not on the way to the output), so the model cannot be split "
                f"there: {error}"
            ) from error

    return cached(model, "tail", parts.name, build)


def outputs(model: keras.Model, names: Sequence[str], inputs: Sequence[str] = ()) -> keras.Model:
    """Return one model from `model`'s input to the outputs of the layers `names`, built once.

    Then, after those, to the inputs of the single-input layers `inputs`. The flat
    graph of the one walk (:func:`trace`): a layer inside a nested model is a tensor of
    it too, and a layer called more than once (shared) is refused by :func:`find`. Kept
    per model and names while the model computes the same.
    """
    names, inputs = tuple(names), tuple(inputs)

    def build() -> keras.Model:
        x_in, _, calls = trace(model)
        return keras.Model(
            inputs=x_in,
            outputs=[find(calls, name)[2] for name in names]
            + [find(calls, name)[1] for name in inputs],
            name=f"{model.name}_layer_outputs",
        )

    return cached(model, "outputs", (names, inputs), build)


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


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return the model's output for one chunk of float32 images, as float32 NumPy."""
    return np.asarray(predict_outputs(model, x), dtype=np.float32)


def predict_outputs(model: keras.Model, x: np.ndarray):
    """Return the model's outputs (its own structure, NumPy) for one chunk of images.

    Through Keras' compiled predict step (``predict_on_batch``: predict's own step
    without its per-call set-up, so a stream of many small batches costs no more than
    an array), made anew once per model and what it computes; eagerly if TensorFlow
    cannot compile the model (:func:`compilable`).
    """
    if not compilable(model):
        return keras.tree.map_structure(keras.ops.convert_to_numpy, model(x, training=False))
    cached(model, "predict_function", None, lambda: _fresh_predict_function(model))
    return model.predict_on_batch(x)


#: The names TensorFlow takes in a compiled function's name scopes and nodes. Keras calls
#: a layer under its name, so a model with a layer named otherwise (a space, a colon, a
#: backslash, a letter beyond ASCII: "conv ü") runs only eagerly; Keras' own ``predict``
#: fails on it.
_GRAPH_NAME = re.compile(r"[A-Za-z0-9_.>-]*")


#: The outermost scope's name (a model's, in Keras' steps) must also begin with one of these.
_GRAPH_FIRST = re.compile(r"[A-Za-z0-9.]")


def _names(model: keras.Model) -> Iterable[str]:
    """Yield the name of every layer in `model`, nested models' and their layers' (not its own)."""
    for item in model.layers:
        if isinstance(item, keras.layers.InputLayer):
            continue  # an input is no scope of the call: TensorFlow compiles any name
        yield item.name
        if isinstance(item, keras.Model):
            yield from _names(item)


def compilable(model: keras.Model) -> bool:
    """Whether TensorFlow can compile `model`'s call: every name in it is one it takes."""

    def check() -> bool:
        names = [model.name, *_names(model)]
        return bool(_GRAPH_FIRST.match(model.name)) and all(map(_GRAPH_NAME.fullmatch, names))

    return cached(model, "compilable", None, check)


def compiled(model: keras.Model, function: Callable, **options) -> Callable:
    """Return `function` compiled (``tf.function(function, **options)``) if `model` compiles.

    Otherwise `function` itself, run eagerly: slower, the same arithmetic (to float32's
    rounding: kernels may sum in another order).
    """
    import tensorflow as tf

    return tf.function(function, **options) if compilable(model) else function


def _fresh_predict_function(model: keras.Model) -> bool:
    """Make the model's compiled predict step anew: once per model and what it computes.

    Keras keeps it on the model and does not make it again when the model changes: after
    ``model.pop(); model.add(...)`` it would run the old layers. Made anew the first time
    cnnviz sees the model too, since its step may be older than a change.
    """
    model.make_predict_function(force=True)
    return True


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


@dataclass(frozen=True)
class SoftmaxInput:
    """Where the final softmax's input is in the model's traced graph (:func:`softmax_input`)."""

    tensor: object  # the softmax layer's input (for a Dense softmax: the Dense's input)
    head: Callable  # that tensor -> the softmax's input, the logits


def identity(z):
    """Return `z` as it is: the head of a Softmax layer's input, which is the logits."""
    return z


def softmax_input(model: keras.Model) -> SoftmaxInput | None:
    """Return where `model`'s final softmax takes its input, or None where it cannot be reached.

    For a ``Softmax`` or ``Activation("softmax")`` layer, its input; for a
    ``Dense`` with a softmax activation, its input and its pre-activation
    (``input @ kernel + bias``, as the layer computes it before the
    activation). None for a model that does not end in a softmax
    (:func:`softmax_end`), or whose softmax is not the output of the traced
    graph (inside a subclassed model, called whole). The logits are what
    Keras' cross-entropy reads from a softmax's output, and what the
    gradient methods explain.
    """
    if not softmax_end(model):
        return None
    _, output, calls = trace(model)
    last = last_layer(model)
    seen = calls.calls.get(id(last))
    if seen is None or seen[2] is not output:
        return None
    if isinstance(last, keras.layers.Dense):

        def head(z, dense=last):
            scores = keras.ops.matmul(z, dense.kernel)
            return scores + dense.bias if dense.use_bias else scores

        return SoftmaxInput(seen[1], head)
    return SoftmaxInput(seen[1], identity)


def classifier(
    model: object,
    name: str = "model",
    need: str = "the recipe's loss (categorical cross-entropy) needs class probabilities",
):
    """Return `model` if it is an image model with one output of class probabilities.

    `need` says, in the message, why probabilities are needed.
    """
    model = class_output(model, name)
    if not softmax_end(model):
        raise ValueError(
            f"{name} {model.name!r} does not end in a softmax, but {need}: give its last "
            "layer activation='softmax' or add keras.layers.Softmax()"
        )
    return model


# --- the pixels a model takes: [0, 1] or [0, 255] -----------------------------------------


def _keras_layers(*names: str) -> tuple[type, ...]:
    """Return the classes of `names` in ``keras.layers`` (a name this Keras lacks is left out)."""
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))


#: Layers that keep the pixels' scale, which the rule looks through.
KEEPS_SCALE = _keras_layers(
    # Shapes only: values moved or copied, or zeros added (0 is black in both scales).
    "Identity", "InputLayer", "Reshape", "Permute", "Flatten",
    "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    # Resampling and pooling: each value a weighted mean or the largest of some pixels
    # (bicubic and Lanczos resizing overshoot the range a little, never change its scale).
    "Resizing", "CenterCrop", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    # The identity at inference, where cnnviz runs a model (measured on every one, Keras
    # 3.15); in training they move, mix or perturb pixels within their own scale (colour
    # layers clip to their value_range), or drop and scale units by a factor near 1.
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomCrop",
    "RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing",
    "RandomContrast", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPosterization", "RandomSaturation", "RandomSharpness",
    "AugMix", "RandAugment", "CutMix", "MixUp",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "AlphaDropout", "GaussianDropout", "GaussianNoise", "ActivityRegularization",
)  # fmt: skip
# cnnviz's own padding copies pixels (mirrored or wrapped): the scale stays.
KEEPS_SCALE += (Padding2D,)

#: Layers whose output at inference is an affine function of their one input, when their
#: activation (where they have one) is linear: linear filters and maps, per-channel affine
#: maps, and layers that move, copy, average or interpolate values.
AFFINE = (*_keras_layers(
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Dense",
    "EinsumDense", "BatchNormalization", "Rescaling", "Identity", "Reshape", "Permute",
    "Flatten", "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
    "GaussianDropout", "GaussianNoise", "ActivityRegularization",
), Padding2D)  # fmt: skip


def affine(layer: keras.layers.Layer) -> bool:
    """Say whether `layer`'s output at inference is an affine function of its one input.

    By its kind (:data:`AFFINE`, not a subclass of one, which may compute
    anything) and its activation, where it has one; a caller that relies on
    the answer checks it on data too.
    """
    activation = getattr(layer, "activation", None)
    # The kinds themselves, not subclasses: a subclass may compute anything in its call().
    return type(layer) in AFFINE and (activation is None or activation is keras.activations.linear)


#: What [0, 1] pixels and [0, 255] pixels are, for messages.
UNIT, BYTE = (0.0, 1.0), (0.0, 255.0)


@dataclass(frozen=True)
class InputScale:
    """What the rule found: the range of pixels a model takes, or None where it cannot tell."""

    range: tuple[float, float] | None  # UNIT, BYTE, or None
    reason: str  # which layer decided and why, as the end of a sentence
    #: True where the range is read from a Normalization's statistics: the data it was
    #: adapted on, not a rule the model states; uint8 pixels scaled by it are warned of.
    inferred: bool = False


def input_scale(model: keras.Model) -> InputScale:
    """Say whether `model` takes pixels in [0, 1] or in [0, 255], or that cnnviz cannot tell.

    The rule follows the model from its input through the layers that keep
    the pixels' scale (:data:`KEEPS_SCALE`: reshaping, cropping, padding,
    resizing, pooling, and the augmentation and dropout layers, which are
    the identity at inference), nested models and ``keras.layers.Pipeline``
    looked into, to the first layer that changes pixel values:

    - a ``Rescaling`` that brings [0, 255] down to a span of at most 16
      (a scale of at most 1/16, such as 1/255 or 1/127.5): [0, 255];
    - a ``Normalization`` whose mean and variance (adapted or given) can
      only be those of data in [0, 1] (each channel's mean ``m`` in [0, 1],
      its variance at most ``m (1 - m)``, the most that data in [0, 1] can
      have): [0, 1]; or only of data in [0, 255] (means in [0, 255], one
      above 1, variances at most ``m (255 - m)``): [0, 255];
    - any other ``Rescaling`` or ``Normalization`` (an un-adapted one, one
      adapted on [-1, 1] data, ``invert=True``): cannot tell;
    - a layer with weights (a convolution, a dense layer), or the model's
      end, before any of these: [0, 1], cnnviz's convention for a model that
      does not scale its own input.

    A layer the rule does not know and that has no weights (a ``Lambda``, an
    ``Activation``, a merge, a layer of your own) cannot be looked through:
    a ``Rescaling`` or ``Normalization`` after it gives "cannot tell", and
    so does a nested model that can only be called whole (subclassed) and
    holds one. Where the input branches, every branch must give the same
    answer.
    """
    x, _, calls = trace(model)
    users: dict[int, list[tuple[keras.layers.Layer, object]]] = {}
    for key, (layer, inputs, output) in calls.calls.items():
        if isinstance(layer, keras.layers.InputLayer) or (
            isinstance(layer, keras.Model) and key not in calls.whole
        ):
            continue  # the input itself, and nested models, whose own layers are in the trace
        for tensor in keras.tree.flatten(inputs):
            users.setdefault(id(tensor), []).append((layer, output))
    return _scale_from(x, None, users, {})


def _scale_from(tensor, passed, users, seen) -> InputScale:
    """Follow `tensor` to the layers that use it; `passed` is a layer not looked through."""
    key = (id(tensor), None if passed is None else id(passed))
    if key not in seen:
        answers = []
        for layer, output in users.get(id(tensor), []):
            answer, after = _scale_step(layer, passed)
            answers.append(answer or _scale_from(output, after, users, seen))
        if not answers:
            answers = [InputScale(UNIT, "no layer before its output changes pixel values")]
        if len({answer.range for answer in answers}) > 1:
            seen[key] = InputScale(
                None,
                "its input branches into paths that disagree: "
                + "; ".join(answer.reason for answer in answers),
            )
        else:
            seen[key] = answers[0]
    return seen[key]


def _scale_step(layer, passed) -> tuple[InputScale | None, object]:
    """Return the answer where `layer` decides (else None), and the layer not looked through."""
    if isinstance(layer, KEEPS_SCALE):
        return None, passed
    if isinstance(layer, keras.layers.Pipeline):
        for inner in layer.layers:
            answer, passed = _scale_step(inner, passed)
            if answer is not None:
                return answer, passed
        return None, passed
    if isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization)):
        if passed is not None:
            return InputScale(
                None,
                f"layer {passed.name!r} ({type(passed).__name__}), which cnnviz cannot look "
                f"through, comes before {_described(layer)}, so the pixels that reach it "
                "are unknown",
            ), passed
        return _scaling_layer(layer), passed
    if isinstance(layer, keras.Model):  # called whole (subclassed): its order is not to be seen
        inside = [
            item.name
            for item in _inner_layers(layer)
            if isinstance(item, (keras.layers.Rescaling, keras.layers.Normalization))
        ]
        if inside:
            return InputScale(
                None,
                f"its model {layer.name!r} ({type(layer).__name__}) can only be called whole, "
                f"so cnnviz cannot see whether its scaling layers {inside} come first",
            ), passed
    if layer.weights:
        return InputScale(
            UNIT,
            f"its first layer that computes, {layer.name!r} ({type(layer).__name__}), comes "
            "before any Rescaling or Normalization",
        ), passed
    return None, passed if passed is not None else layer


def _inner_layers(model: keras.Model) -> list:
    """Return the layers a model holds, its nested models' included (in the order they were made)."""
    found = []
    for item in model.layers:
        found += _inner_layers(item) if isinstance(item, keras.Model) else [item]
    return found


def _numbers(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4]) + (", ..." if values.size > 4 else "")
    return shown if values.size == 1 else f"[{shown}]"


def _described(layer) -> str:
    """`layer` named with what decides its scale, e.g. ``'rescale' (Rescaling by 0.003922)``."""
    if isinstance(layer, keras.layers.Rescaling):
        scale = np.ravel(keras.ops.convert_to_numpy(layer.scale)).astype(np.float64)
        return f"{layer.name!r} (Rescaling by {_numbers(scale)})"
    mean, variance = _statistics(layer)
    return (
        f"{layer.name!r} (Normalization with mean {_numbers(mean)} and variance "
        f"{_numbers(variance)}{', invert=True' if getattr(layer, 'invert', False) else ''})"
    )


def _statistics(layer) -> tuple[np.ndarray, np.ndarray]:
    """Return a Normalization layer's mean and variance, adapted or given, as float64 vectors."""
    return tuple(
        np.ravel(keras.ops.convert_to_numpy(getattr(layer, name))).astype(np.float64)
        for name in ("mean", "variance")
    )


def _fits(mean: np.ndarray, variance: np.ndarray, high: float) -> bool:
    """Whether data in [0, `high`] can have these statistics (Bhatia and Davis' bound)."""
    bound = mean * (high - mean)
    return bool(
        ((mean >= 0) & (mean <= high)).all() and (variance <= bound * (1 + 1e-5) + 1e-7).all()
    )


def _scaling_layer(layer) -> InputScale:
    """Answer for the first layer that changes pixel values, a Rescaling or a Normalization."""
    first = f"its first layer that changes pixel values is {_described(layer)}"
    if isinstance(layer, keras.layers.Rescaling):
        scale = np.abs(np.ravel(keras.ops.convert_to_numpy(layer.scale)).astype(np.float64))
        if scale.size and ((scale > 0) & (scale * 255 <= 16)).all():
            return InputScale(BYTE, f"{first}, which brings [0, 255] down to a few units")
        return InputScale(
            None, f"{first}, not a division by 16 or more, which would say [0, 255] pixels"
        )
    if getattr(layer, "invert", False):
        return InputScale(None, f"{first}, which undoes a normalization")
    mean, variance = _statistics(layer)
    if _fits(mean, variance, 1.0) and (variance > 0).any():
        return InputScale(UNIT, f"{first}: statistics of data in [0, 1]", inferred=True)
    if _fits(mean, variance, 255.0) and (mean > 1).any():
        return InputScale(BYTE, f"{first}: statistics of data in [0, 255]", inferred=True)
    return InputScale(
        None,
        f"{first}: statistics of data neither in [0, 1] nor in [0, 255] (is it adapted?)",
    )


def input_range(model) -> tuple[float, float] | None:
    """Return the range of pixel values `model` takes, (0, 1) or (0, 255); None if it cannot be told.

    The one rule, :func:`input_scale`, that also decides whether ``uint8``
    images are divided by 255 (``_batches.scale_setting``).
    """
    return input_scale(model).range


def layer_names(model, layers, argument: str = "layers") -> tuple[str, ...]:
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
            f"{argument} must be a sequence of layer names or indices, e.g. ['conv1'] or [1]; "
            f"got {layers!r}"
        )
    layers = list(layers)
    if not layers:
        raise ValueError(
            f"{argument} is empty: give at least one layer name or index, or None for all"
        )
    for item in layers:
        if not isinstance(item, str) and not _checks.is_integer(item):
            raise TypeError(f"{argument} must hold names (str) or indices (int); got {item!r}")
    return tuple(layer_name(model, item, argument, input_ok=True) for item in layers)
