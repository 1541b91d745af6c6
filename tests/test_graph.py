"""cnnviz._graph's per-model caches: keyed on what a model computes, shared by threads, never poisoned.

Every compiled function or sub-model cnnviz keeps for a model (the trace, splits and tails,
layer_outputs' extractors, the attribution explainers and forward pass, the ascent of
maximize_activation, Keras' predict step behind predict and evaluate) is kept per model and
fingerprint (``_graph.cached``). A model changed after cnnviz saw it must get the answers of a
fresh computation on the changed model, never the old model's.
"""

from __future__ import annotations

import concurrent.futures
import gc
import threading
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnnviz
from cnnviz import _graph
from cnnviz.attribution import _explain
from cnnviz.channels import maximization


def small_sequential(seed: int = 0) -> keras.Sequential:
    """conv c1 -> relu -> conv c2 -> relu -> flatten -> dense -> 5 classes (softmax)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, name="c1"),
            keras.layers.ReLU(name="r1"),
            keras.layers.Conv2D(6, 3, name="c2"),
            keras.layers.ReLU(name="r2"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(16, activation="relu", name="fc"),
            keras.layers.Dense(5, activation="softmax", name="out"),
        ],
        name="small",
    )


def fresh_copy(model: keras.Model) -> keras.Model:
    """A model cnnviz has never seen that computes what `model` computes now."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


IMAGES = np.random.default_rng(0).random((6, 12, 12, 1), dtype=np.float32)
LABELS = np.array([0, 1, 2, 0, 1, 2])


def logits_gradients(model: keras.Sequential, x: np.ndarray) -> np.ndarray:
    """The saliency map by hand: |d pre-softmax score of the predicted class / d image|, max over C."""
    *body, last = model.layers
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        h = images
        for layer in body:
            h = layer(h)
        logits = keras.ops.matmul(h, last.kernel) + last.bias
        target = keras.ops.argmax(logits, axis=1)
        score = keras.ops.sum(keras.ops.take_along_axis(logits, target[:, None], axis=1))
    return np.abs(tape.gradient(score, images).numpy()).max(axis=-1)


# Each cached path: what cnnviz gives for the model. Compared with the same call on a fresh
# copy of the changed model (never seen by cnnviz), and with the answer before the change.
PATHS = {
    "layer_outputs": lambda m: cnnviz.layer_outputs(m, IMAGES, ["c2", m.layers[-1].name]),
    "gradients": lambda m: cnnviz.gradients(m, IMAGES),
    "grad_cam": lambda m: cnnviz.grad_cam(m, IMAGES, layer="c2"),
    "integrated_gradients": lambda m: cnnviz.integrated_gradients(m, IMAGES, steps=8),
    "smoothgrad": lambda m: cnnviz.smoothgrad(m, IMAGES, samples=4),
    "occlusion": lambda m: cnnviz.occlusion(m, IMAGES, window=4, stride=4),
    "channel_ablation": lambda m: cnnviz.channel_ablation(m, IMAGES, LABELS, "c2"),
    "top_patches": lambda m: cnnviz.top_patches(m, IMAGES, "c2", k=2),
    "class_mean_activations": lambda m: cnnviz.class_mean_activations(m, IMAGES, LABELS, "r2"),
    "maximize_activation": lambda m: cnnviz.maximize_activation(m, "c2", [0, 3], steps=3),
    "predict": lambda m: cnnviz.predict(m, IMAGES),
    "evaluate": lambda m: cnnviz.evaluate(m, IMAGES, LABELS),
}
# What each path depends on: the head (the last layer) or the layers up to c2.
HEAD = ["layer_outputs", "gradients", "grad_cam", "integrated_gradients", "smoothgrad"]
HEAD += ["occlusion", "channel_ablation", "predict", "evaluate"]
BODY = ["layer_outputs", "top_patches", "class_mean_activations", "maximize_activation"]
BODY += ["gradients", "channel_ablation", "predict"]


def assert_close(got, want) -> None:
    if isinstance(got, dict):
        assert list(got) == list(want)
        for key in got:
            assert_close(got[key], want[key])
    elif isinstance(got, str):
        assert got == want
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def differs(got, old) -> bool:
    if isinstance(got, dict):
        return list(got) != list(old) or any(differs(got[key], old[key]) for key in got)
    if isinstance(got, str):
        return got != old
    got, old = np.asarray(got), np.asarray(old)
    return got.shape != old.shape or not np.allclose(got, old, rtol=1e-4, atol=1e-5)


def swap_head(model: keras.Sequential) -> None:
    """The issue's example: the softmax head replaced by a new one of 3 classes."""
    model.pop()
    gc.collect()  # the old head's memory may now go to the new one: an id may come back
    model.add(keras.layers.Dense(3, activation="softmax", name="new_out"))


def new_c2(model: keras.Sequential) -> None:
    """c2 replaced by a new layer of the same shape (new weights); the layers after it kept."""
    after = [model.pop() for _ in range(5)][::-1]  # c2, r2, flat, fc, out
    gc.collect()
    model.add(keras.layers.Conv2D(6, 3, name="c2"))
    for layer in after[1:]:
        model.add(layer)


@pytest.mark.parametrize("path", HEAD)
def test_after_a_new_head_every_path_answers_for_the_changed_model(path):
    compute = PATHS[path]
    model = small_sequential()
    old = compute(model)
    swap_head(model)
    got = compute(model)
    assert_close(got, compute(fresh_copy(model)))
    assert differs(got, old)


@pytest.mark.parametrize("path", BODY)
def test_after_a_layer_is_replaced_every_path_answers_for_the_changed_model(path):
    compute = PATHS[path]
    model = small_sequential()
    old = compute(model)
    new_c2(model)
    got = compute(model)
    assert_close(got, compute(fresh_copy(model)))
    assert differs(got, old)


def test_after_a_new_head_the_answers_are_the_straightforward_ones():
    model = small_sequential()
    cnnviz.gradients(model, IMAGES)
    cnnviz.layer_outputs(model, IMAGES)
    cnnviz.predict(model, IMAGES)
    for _ in range(3):  # each new head's id may be an old one's: none is taken for another
        swap_head(model)
        want = model(IMAGES).numpy()
        np.testing.assert_allclose(cnnviz.predict(model, IMAGES), want, rtol=1e-5, atol=1e-7)
        last = cnnviz.layer_outputs(model, IMAGES)["new_out"]
        np.testing.assert_allclose(last, want, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(
            cnnviz.gradients(model, IMAGES), logits_gradients(model, IMAGES), rtol=1e-4, atol=1e-7
        )
        result = cnnviz.channel_ablation(model, IMAGES, LABELS, "c2")
        assert result["intact_accuracy"] == np.mean(want.argmax(axis=1) == LABELS)


def test_new_variables_in_the_same_layers_are_a_change_new_values_need_none():
    model = small_sequential()
    before = _graph.fingerprint(model)
    old = cnnviz.gradients(model, IMAGES)
    # New values in the same variables: the same fingerprint, and the compiled functions,
    # which read the variables, give the new answer.
    head = model.layers[-1]
    kernel, bias = head.get_weights()
    head.set_weights([-kernel, bias])
    assert _graph.fingerprint(model) == before
    np.testing.assert_allclose(
        cnnviz.gradients(model, IMAGES), logits_gradients(model, IMAGES), rtol=1e-4, atol=1e-7
    )
    # LoRA (public Keras) gives the head new variables and a new computation.
    head.enable_lora(2)
    head.lora_kernel_b.assign(np.full(head.lora_kernel_b.shape, 0.5, np.float32))
    assert _graph.fingerprint(model) != before
    for compute in (PATHS["gradients"], PATHS["predict"], PATHS["channel_ablation"]):
        assert_close(compute(model), compute(fresh_copy(model)))
    assert differs(cnnviz.gradients(model, IMAGES), old)


def scaled_sequential(first: keras.layers.Layer) -> keras.Sequential:
    """`first` (a Normalization or a Rescaling) before the layers of :func:`small_sequential`."""
    model = small_sequential()
    return keras.Sequential([keras.Input((12, 12, 1)), first, *model.layers], name="scaled")


def fresh_scaled(model: keras.Sequential, first: keras.layers.Layer) -> keras.Sequential:
    """A model never seen that computes what `model` computes now, with `first` as its first layer."""
    copy = keras.Sequential([keras.Input((12, 12, 1)), first])
    for layer in model.layers[1:]:
        copy.add(keras.layers.deserialize(keras.layers.serialize(layer)))
    for new, old in zip(copy.layers[1:], model.layers[1:], strict=True):
        new.set_weights(old.get_weights())
    return copy


@pytest.mark.parametrize("path", ["gradients", "predict", "layer_outputs", "channel_ablation"])
def test_a_normalization_adapted_again_is_a_change(path):
    # keras.io's pattern: adapt on the training data. Adapting again computes a new mean
    # and variance from the same variables, and a compiled function kept the old ones.
    norm = keras.layers.Normalization()
    norm.adapt(IMAGES)
    model = scaled_sequential(norm)
    compute = PATHS[path]
    old = compute(model)
    norm.adapt(IMAGES * 3 + 1)
    got = compute(model)
    again = keras.layers.Normalization(
        mean=float(norm.mean.numpy().ravel()[0]), variance=float(norm.variance.numpy().ravel()[0])
    )
    assert_close(got, compute(fresh_scaled(model, again)))
    assert differs(got, old)


def test_a_layer_inside_a_pipeline_changed_is_a_change():
    # keras.io's augmentation-then-rescale as one Pipeline, whose layers model.layers does
    # not list: its Normalization adapted again must be seen as one outside it is.
    norm = keras.layers.Normalization()
    norm.adapt(IMAGES)
    model = scaled_sequential(keras.layers.Pipeline([keras.layers.RandomFlip(), norm]))
    old = cnnviz.predict(model, IMAGES)
    norm.adapt(IMAGES * 3 + 1)
    got = cnnviz.predict(model, IMAGES)
    assert_close(got, model(IMAGES, training=False).numpy())
    assert differs(got, old)


def test_a_new_rescaling_scale_and_a_new_dtype_policy_are_changes():
    rescale = keras.layers.Rescaling(1.0)
    model = scaled_sequential(rescale)
    old = cnnviz.predict(model, IMAGES)
    rescale.scale = 3.0
    got = cnnviz.predict(model, IMAGES)
    assert_close(got, model(IMAGES, training=False).numpy())
    assert differs(got, old)
    # mixed_float16 given to the layers of a model already seen: it computes in float16.
    before = _graph.fingerprint(model)
    for layer in model.layers:
        layer.dtype_policy = keras.DTypePolicy("mixed_float16")
    assert _graph.fingerprint(model) != before
    want = model(IMAGES, training=False).numpy()
    np.testing.assert_array_equal(cnnviz.layer_outputs(model, IMAGES, ["out"])["out"], want)


def test_a_head_turned_into_logits_is_a_change():
    # keras.io's Grad-CAM example: model.layers[-1].activation = None.
    # Occlusion of the model's output (measure="probability") sees the change; occlusion of
    # the score does not, rightly: the softmax's input before is the logits after.
    model = small_sequential()
    copy = fresh_copy(model)  # Keras cannot clone a layer whose activation is None
    output = {"window": 4, "stride": 4, "measure": "probability"}
    old = cnnviz.occlusion(model, IMAGES, **output)
    old_score = cnnviz.occlusion(model, IMAGES, window=4, stride=4)
    model.layers[-1].activation = copy.layers[-1].activation = None
    got = cnnviz.occlusion(model, IMAGES, **output)
    assert_close(got, cnnviz.occlusion(copy, IMAGES, **output))
    assert differs(got, old)
    assert_close(cnnviz.occlusion(model, IMAGES, window=4, stride=4), old_score)


def test_an_unchanged_model_keeps_its_values():
    model = small_sequential()
    cnnviz.gradients(model, IMAGES)
    explainer = _explain._explainer(model)
    x = _graph.trace(model)[0]
    cnnviz.gradients(model, IMAGES)
    assert _explain._explainer(model) is explainer
    assert _graph.trace(model)[0] is x
    assert _graph.split(model, "c2") is _graph.split(model, 2)  # Sequential: no input layer


def test_a_nested_model_changed_inside_is_a_change():
    keras.utils.set_random_seed(0)
    block = keras.Sequential([keras.layers.Conv2D(4, 3, name="inner")], name="block")
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Flatten()(block(inputs))
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))
    before = _graph.fingerprint(model)
    cnnviz.layer_outputs(model, IMAGES, ["inner"])
    block.layers[0].activation = keras.activations.relu
    assert _graph.fingerprint(model) != before
    got = cnnviz.layer_outputs(model, IMAGES, ["inner"])["inner"]
    np.testing.assert_allclose(got, block(IMAGES).numpy(), rtol=1e-5, atol=1e-7)
    assert got.min() == 0


def test_the_caches_do_not_keep_a_model_alive():
    model = small_sequential()
    for compute in PATHS.values():
        compute(model)
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


# --- a failure while a value is built never stays behind -----------------------------------


def test_a_failed_trace_is_not_kept_and_the_next_call_works(monkeypatch):
    model = cnnviz.lenet5()
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    clone = keras.models.clone_model
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("trace failed")
        return clone(*args, **kwargs)

    monkeypatch.setattr(keras.models, "clone_model", fails_once)
    with pytest.raises(RuntimeError, match="trace failed"):
        cnnviz.layer_outputs(model, x, ["conv2"])
    got = cnnviz.layer_outputs(model, x, ["conv2"])["conv2"]
    want = keras.Model(model.input, model.get_layer("conv2").output)(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert len(calls) == 2


def test_a_failed_explainer_or_ascent_is_not_kept(monkeypatch):
    model = small_sequential()
    compiled, ascent = _explain._compiled, maximization._built_ascent
    failures = {"explainer": 1, "ascent": 1}

    def failing(name, real):
        def build(*args):
            if failures[name]:
                failures[name] -= 1
                raise RuntimeError(f"{name} failed")
            return real(*args)

        return build

    monkeypatch.setattr(_explain, "_compiled", failing("explainer", compiled))
    monkeypatch.setattr(maximization, "_built_ascent", failing("ascent", ascent))
    with pytest.raises(RuntimeError, match="explainer failed"):
        cnnviz.gradients(model, IMAGES)
    with pytest.raises(RuntimeError, match="ascent failed"):
        cnnviz.maximize_activation(model, "c2", 1, steps=2)
    np.testing.assert_allclose(
        cnnviz.gradients(model, IMAGES), logits_gradients(model, IMAGES), rtol=1e-4, atol=1e-7
    )
    assert_close(
        cnnviz.maximize_activation(model, "c2", 1, steps=2),
        cnnviz.maximize_activation(fresh_copy(model), "c2", 1, steps=2),
    )


def test_a_refused_tail_leaves_the_split_working():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Flatten()(keras.layers.Concatenate()([x, inputs]))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    images = np.random.default_rng(2).random((2, 8, 8, 1), dtype=np.float32)
    for _ in range(2):
        with pytest.raises(ValueError, match="does not depend on layer 'conv'"):
            cnnviz.channel_ablation(model, images, [0, 1], "conv")
    got = cnnviz.top_patches(model, images, "conv", k=1)["value"]
    want = model.get_layer("conv")(images).numpy().reshape(2, -1, 2).max(axis=1).max(axis=0)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-6)


# --- threads ---------------------------------------------------------------------------------


def nested_model(seed: int = 3) -> keras.Model:
    """A functional model around a nested Sequential block (the issue's 'conv2' case)."""
    keras.utils.set_random_seed(seed)
    block = keras.Sequential(
        [keras.layers.Conv2D(4, 3, name="conv1"), keras.layers.ReLU(name="relu1")], name="block"
    )
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(6, 3, name="conv2")(block(inputs))
    x = keras.layers.Flatten()(keras.layers.ReLU(name="relu2")(x))
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="out")(x))


def lenet(seed: int = 3) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return cnnviz.lenet5()


X28 = np.random.default_rng(4).random((8, 28, 28, 1), dtype=np.float32)
Y28 = np.arange(8) % 4
THREADED = {
    "layer_outputs": lambda m: cnnviz.layer_outputs(m, X28, ["conv2", "relu2"]),
    "gradients": lambda m: cnnviz.gradients(m, X28),
    "grad_cam": lambda m: cnnviz.grad_cam(m, X28, layer="conv2"),
    "channel_ablation": lambda m: cnnviz.channel_ablation(m, X28, Y28, "conv2"),
    "top_patches": lambda m: cnnviz.top_patches(m, X28, "conv2", k=2),
    "maximize_activation": lambda m: cnnviz.maximize_activation(m, "conv2", 1, steps=3),
    "predict": lambda m: cnnviz.predict(m, X28),
}


@pytest.mark.parametrize("build", [lenet, nested_model], ids=["lenet5", "nested"])
def test_threads_on_a_fresh_model_get_the_serial_answers_and_leave_it_working(build):
    serial = {name: compute(build()) for name, compute in THREADED.items()}
    work = [*THREADED, "layer_outputs"]  # 8 calls, started together on a fresh model
    for _ in range(2):
        model = build()
        start = threading.Barrier(len(work))

        def call(name, model=model, start=start):
            start.wait(timeout=60)
            return THREADED[name](model)

        with concurrent.futures.ThreadPoolExecutor(len(work)) as pool:
            futures = [(name, pool.submit(call, name)) for name in work]
            results = [(name, future.result()) for name, future in futures]
        for name, result in results:
            assert_threaded(name, result, serial[name])
        for name, compute in THREADED.items():  # and afterwards, in this thread
            assert_threaded(name, compute(model), serial[name])


def assert_threaded(name: str, got, want) -> None:
    if name == "channel_ablation":
        # The same model, images and batch shapes as the serial call; an argmax may flip on
        # a near tie only if a kernel rounded otherwise, which would be one image of 8.
        np.testing.assert_array_equal(got["channels"], want["channels"])
        np.testing.assert_allclose(got["accuracy"], want["accuracy"], atol=1 / 8)
        assert abs(got["intact_accuracy"] - want["intact_accuracy"]) <= 1 / 8
    elif name == "top_patches":
        np.testing.assert_allclose(got["value"], want["value"], rtol=1e-5, atol=1e-6)
    else:
        assert_close(got, want)


# -- names TensorFlow cannot compile -----------------------------------------------------------


def renamed(model: keras.Model, names: dict[str, str], model_name: str) -> keras.Model:
    """A copy of a Sequential `model` with its layers renamed and the same weights."""
    copy = keras.Sequential(
        [keras.Input(model.inputs[0].shape[1:])]
        + [
            layer.__class__.from_config(
                {**layer.get_config(), "name": names.get(layer.name, layer.name)}
            )
            for layer in model.layers
        ],
        name=model_name,
    )
    copy.set_weights(model.get_weights())
    return copy


@pytest.mark.parametrize(
    ("names", "model_name", "compiles"),
    [
        ({}, "plain", True),
        ({"c1": "_c1", "fc": "fc-1.a>b"}, "plain", True),
        ({"c1": "faltung ü"}, "plain", False),  # a space and a letter beyond ASCII
        ({"c2": "c:2"}, "plain", False),
        ({"fc": "fc\\1"}, "plain", False),
        ({"out": "出力"}, "plain", False),
        ({}, "modell ö", False),
        ({}, "_model", False),  # an outermost scope must begin with a letter, digit or "."
    ],
)
def test_a_model_named_beyond_what_tensorflow_compiles_runs_eagerly_to_the_same_answers(
    names, model_name, compiles
):
    # Keras calls each layer under its name, and TensorFlow's compiled functions take only
    # some names: with others Keras' own predict fails (and leaves its name scopes behind,
    # so this test does not show it). cnnviz runs such models eagerly.
    model = small_sequential()
    other = renamed(model, names, model_name)
    assert _graph.compilable(model)
    assert _graph.compilable(other) is compiles
    x = np.random.default_rng(1).random((6, 12, 12, 1), dtype=np.float32)
    y = np.arange(6) % 5

    def name(m, layer):  # a layer's name in `m`
        return names.get(layer, layer) if m is other else layer

    for run in (
        lambda m: cnnviz.gradients(m, x, target=y),
        lambda m: cnnviz.integrated_gradients(m, x[:2], target=1, steps=8),
        lambda m: cnnviz.grad_cam(m, x, layer=name(m, "c2"), target=y),
        lambda m: cnnviz.evaluate(m, x, y)["loss"],
        lambda m: cnnviz.shift_accuracy(m, x, y, max_shift=1)["accuracy"],
        lambda m: cnnviz.maximize_activation(m, name(m, "c1"), 2, steps=4),
    ):
        np.testing.assert_allclose(run(other), run(model), rtol=1e-5, atol=1e-6)
    # Training runs too (Keras' fit, eagerly), one epoch of the same seed to the same loss.
    losses = [
        cnnviz.train(m, x, y, epochs=1, batch_size=3, verbose=0).history["loss"]
        for m in (renamed(model, {}, "again"), renamed(model, names, model_name))
    ]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)


def test_an_input_is_named_as_one_likes():
    # A functional model's input layer is no scope of its call: it compiles.
    inputs = keras.Input((12, 12, 1), name="pixels ü")
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(keras.layers.Flatten()(inputs)))
    assert _graph.compilable(model)
    model.predict_on_batch(np.zeros((1, 12, 12, 1), np.float32))  # Keras compiles it too
