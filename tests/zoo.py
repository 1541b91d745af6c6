"""The zoo: small hostile Keras models that every public function taking a model must survive.

Each :class:`Specimen` builds a fresh model with fixed seeds and says which
images it takes (shape, dtype, range), and what a straightforward
computation, independent of cnnviz, gives for it: the images as the model
receives them, a layer's output and the class scores from it by calling the
layers by hand, the receptive field and boxes worked out on paper. The
matrix in ``test_zoo.py`` runs every public function on every specimen and
checks the answer against these, or the refusal it expects.

The models are tiny (a few channels, 12x12 to 28x28 pixels, 28x28 only
where the explorer's export should work) so that the whole matrix runs in
a minute or two. Import it from a test module as ``import zoo`` (the test
directory is on ``sys.path``, see ``conftest.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

#: Classes of every zoo model: few, so that the heads are small.
CLASSES = 3
#: Images per specimen.
COUNT = 4


def _seeded(seed: int) -> dict:
    """Seeded initializers for a layer with a kernel and a bias (the bias not zero: it must count)."""
    return {
        "kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
        "bias_initializer": keras.initializers.RandomUniform(-0.1, 0.1, seed=seed + 1000),
    }


def _head(seed: int) -> dict:
    """Initializers for a classifier head: large weights, so that which class wins depends on
    the image (a head of Glorot's scale on untrained features gives one class for all)."""
    # The seeds were picked so that the four images are given at least two classes (three
    # where the model allows), and so that a wrong scaling of the pixels changes a class:
    # test_zoo.py checks both.
    return {
        "kernel_initializer": keras.initializers.RandomNormal(stddev=3.0, seed=seed),
        "bias_initializer": keras.initializers.RandomUniform(-0.1, 0.1, seed=seed + 1000),
    }


def _layers(model: keras.Model, names: list[str], x) -> np.ndarray:
    """Call the named layers of `model` one after the other on `x`, in inference mode."""
    h = keras.ops.convert_to_tensor(x)
    for name in names:
        h = model.get_layer(name)(h, training=False)
    return h


def _dense_scores(dense: keras.layers.Dense, h) -> np.ndarray:
    """The Dense layer's pre-activation: the class scores before its softmax."""
    return keras.ops.matmul(keras.ops.convert_to_tensor(h), dense.kernel) + dense.bias


@dataclass(frozen=True)
class Specimen:
    """One zoo model: how to build it, what it takes, and what a hand computation gives for it.

    Attributes
    ----------
    name, description : str
        What the model is and what makes it hostile.
    build : callable
        ``build() -> keras.Model``: a fresh model, the same weights every time.
    images, labels : callable
        ``images() -> array`` (:data:`COUNT` images, as a user would pass them)
        and ``labels() -> int64 (COUNT,)`` in ``range(CLASSES)``.
    takes : str
        The images it takes, in words (shape, dtype, range).
    scaled : bool or None
        Whether the model receives ``images() / 255`` (``uint8`` images that
        cnnviz must scale) or the images as they are (floats, or ``uint8``
        for a model that scales its own input).
    layer : str or None
        A layer with feature maps for the functions that take a layer (may
        be inside a nested model); None where there is none to ask.
    conv : str or None
        A ``Conv2D`` layer, for :func:`cnnviz.kernels`.
    head, tail : callable
        ``head(model, x)``: `layer`'s output for model inputs `x`, by calling
        the layers by hand; ``tail(model, features)``: the class scores (the
        softmax's input, or the output of a model without a softmax) from
        `layer`'s output. ``tail(model, head(model, x))`` is the score that
        the gradient methods explain.
    field : ((h, w), (jh, jw)) or None
        `layer`'s receptive field size and jump, worked out by hand.
    boxes : dict
        ``(row, col) -> (top, left, bottom, right)`` of `layer`'s units, by hand.
    input_range : (float, float)
        The range of the values the model receives (for maximization).
    change : callable or None
        ``change(model)``: alter the model in place after cnnviz has used it
        (the matrix runs each function once before and checks the second run).
    one_input : bool
        Whether the model has one image input; the others must be refused.
    exportable : bool
        Whether the explorer can export it (28x28x1, only layers it runs).
    training_differs : bool
        Whether the model computes differently when training (dropout,
        batch statistics, augmentation), so one epoch's loss is not the
        loss of the model before it.
    images_only : bool
        The specimen differs from another only by its images: functions
        that take no images skip it.
    """

    name: str
    description: str
    build: Callable[[], keras.Model]
    images: Callable[[], np.ndarray]
    labels: Callable[[], np.ndarray]
    takes: str
    scaled: bool | None
    layer: str | None
    conv: str | None
    head: Callable | None
    tail: Callable | None
    field: tuple | None = None
    boxes: dict = dataclasses.field(default_factory=dict)
    input_range: tuple[float, float] = (0.0, 1.0)
    change: Callable[[keras.Model], None] | None = None
    one_input: bool = True
    exportable: bool = False
    training_differs: bool = False
    images_only: bool = False

    def model_input(self, images: np.ndarray | None = None) -> np.ndarray:
        """The images as the model receives them: float32, divided by 255 where cnnviz scales."""
        x = self.images() if images is None else images
        if x.dtype == np.uint8 and self.scaled:
            return x.astype(np.float32) / np.float32(255)
        return x.astype(np.float32)

    def scores(self, model: keras.Model, x: np.ndarray) -> np.ndarray:
        """The class scores that the gradient methods explain, for model inputs `x`."""
        return keras.ops.convert_to_numpy(self.tail(model, self.head(model, x)))


def _pixels(seed: int, shape: tuple) -> np.ndarray:
    """Images in [0, 1] that differ in kind, so that the models' predictions differ too (a
    wrong scaling of the pixels then changes which class wins, not only by how much):
    horizontal stripes, vertical stripes, a bright corner and faint noise, each with noise
    of its own, in an order of the seed's."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    rows, cols = np.mgrid[0:h, 0:w]
    patterns = [
        (rows // 2) % 2,
        (cols // 2) % 2,
        (rows < h // 2) & (cols < w // 2),
        np.zeros((h, w)),
    ]
    order = rng.permutation(COUNT)
    base = np.stack([patterns[i % len(patterns)] for i in order]).astype(np.float64)
    base = base.reshape(COUNT, h, w, *[1] * (len(shape) - 2))
    return 0.7 * base + 0.3 * rng.random((COUNT, *shape))


def _floats(seed: int, shape: tuple) -> Callable[[], np.ndarray]:
    return lambda: _pixels(seed, shape).astype(np.float32)


def _uint8(seed: int, shape: tuple) -> Callable[[], np.ndarray]:
    return lambda: np.round(_pixels(seed, shape) * 255).astype(np.uint8)


def _labels(seed: int) -> Callable[[], np.ndarray]:
    # Every class at least once, in an order of the seed's.
    return lambda: np.random.default_rng(seed).permutation([0, 1, 2, seed % CLASSES])


# --- the specimens ------------------------------------------------------------------------------


def _sequential(name: str = "zoo_sequential", head: int = 9) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="conv", **_seeded(1)),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(head)),
        ],
        name=name,
    )


def _sequential_tail(model, h):
    return _dense_scores(model.layers[-1], _layers(model, ["flatten"], h))


SEQUENTIAL = Specimen(
    name="sequential",
    description="A Sequential LeNet in small: conv, pool, flatten, dense softmax.",
    build=_sequential,
    images=_floats(10, (28, 28, 1)),
    labels=_labels(10),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="pool",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv", "pool"], x),
    tail=_sequential_tail,
    # conv 3x3 then pool 2/2: 3 + (2 - 1) * 1 = 4, jump 2; the pool's output is 13x13.
    field=((4, 4), (2, 2)),
    boxes={(0, 0): (0, 0, 4, 4), (12, 12): (24, 24, 28, 28), (3, 5): (6, 10, 10, 14)},
    exportable=True,
)


def _functional() -> keras.Model:
    x = keras.Input((28, 28, 1), name="pixels")
    h = keras.layers.Conv2D(2, 5, padding="same", name="conv", **_seeded(3))(x)
    h = keras.layers.ReLU(name="relu")(h)
    h = keras.layers.AveragePooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(CLASSES, name="dense", **_head(109))(h)
    return keras.Model(x, keras.layers.Softmax(name="probabilities")(h), name="zoo_functional")


FUNCTIONAL = Specimen(
    name="functional",
    description="A functional model ending in a Softmax layer of its own, fed uint8 images.",
    build=_functional,
    images=_uint8(11, (28, 28, 1)),
    labels=_labels(11),
    takes="uint8 (4, 28, 28, 1) in [0, 255] (cnnviz divides by 255)",
    scaled=True,
    layer="relu",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv", "relu"], x),
    tail=lambda model, h: _layers(model, ["pool", "flatten", "dense"], h),
    # 5x5 same: 2 pixels of padding before, so unit (0, 0) sees rows -2..2, clipped to 0..2.
    field=((5, 5), (1, 1)),
    boxes={(0, 0): (0, 0, 3, 3), (14, 14): (12, 12, 17, 17), (27, 0): (25, 0, 28, 3)},
    exportable=True,
)


def _nested() -> keras.Model:
    features = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="inner_conv", **_seeded(5)),
            keras.layers.MaxPooling2D(2, name="inner_pool"),
        ],
        name="features",
    )
    x = keras.Input((28, 28, 1))
    h = keras.layers.Flatten(name="flatten")(features(x))
    out = keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(55))(h)
    return keras.Model(x, out, name="zoo_nested")


def _nested_head(model, x):
    inner = model.get_layer("features")
    return _layers(inner, ["inner_conv", "inner_pool"], x)


NESTED = Specimen(
    name="nested",
    description="A Sequential feature extractor inside a functional model (layers asked by inner name).",
    build=_nested,
    images=_floats(12, (28, 28, 1)),
    labels=_labels(12),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="inner_pool",
    conv="inner_conv",
    head=_nested_head,
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["flatten"], h)),
    field=((4, 4), (2, 2)),
    boxes={(0, 0): (0, 0, 4, 4), (12, 12): (24, 24, 28, 28)},
    exportable=True,
)


def _augmented() -> keras.Model:
    # keras.io's pattern: augmentation, then the model scales its own uint8 input.
    x = keras.Input((28, 28, 1))
    h = keras.layers.RandomFlip("horizontal", seed=7, name="flip")(x)
    h = keras.layers.Rescaling(1 / 255, name="rescale")(h)
    h = keras.layers.Conv2D(3, 3, activation="relu", name="conv", **_seeded(7))(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(155))(h)
    return keras.Model(x, out, name="zoo_augmented")


AUGMENTED = Specimen(
    name="augmented",
    description="RandomFlip before Rescaling(1/255): the model scales its own uint8 input.",
    build=_augmented,
    images=_uint8(13, (28, 28, 1)),
    labels=_labels(13),
    takes="uint8 (4, 28, 28, 1) in [0, 255], taken as they are (the model divides by 255)",
    scaled=False,
    layer="conv",
    conv="conv",
    head=lambda model, x: _layers(model, ["flip", "rescale", "conv"], x),
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["gap"], h)),
    field=((3, 3), (1, 1)),
    boxes={(0, 0): (0, 0, 3, 3), (25, 25): (25, 25, 28, 28)},
    input_range=(0.0, 255.0),
    training_differs=True,
)


def _normalization() -> keras.Model:
    norm = keras.layers.Normalization(name="norm")
    # Adapted on images in [0, 1], as a user who scaled first would.
    norm.adapt(np.random.default_rng(99).random((64, 28, 28, 1), dtype=np.float32))
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            norm,
            keras.layers.Conv2D(3, 3, name="conv", **_seeded(9)),
            keras.layers.ReLU(name="relu"),
            keras.layers.GlobalMaxPooling2D(name="gmp"),
            keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(241)),
        ],
        name="zoo_normalization",
    )


_NORMALIZATION = {
    "build": _normalization,
    "labels": _labels(14),
    "layer": "relu",
    "conv": "conv",
    "head": lambda model, x: _layers(model, ["norm", "conv", "relu"], x),
    "tail": lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["gmp"], h)),
    "field": ((3, 3), (1, 1)),
    "boxes": {(0, 0): (0, 0, 3, 3), (25, 25): (25, 25, 28, 28)},
}

NORMALIZATION = Specimen(
    name="normalization",
    description="A first Normalization layer adapted on images in [0, 1], fed floats in [0, 1].",
    images=_floats(14, (28, 28, 1)),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    **_NORMALIZATION,
)

NORMALIZATION_UINT8 = Specimen(
    name="normalization_uint8",
    description=(
        "The same model fed uint8 images: whether they are to be divided by 255 is read "
        "from the Normalization's statistics (adapted on [0, 1]: divided), which say what "
        "it was adapted on, not what it is given; so cnnviz must refuse or warn, never "
        "guess silently. Where it warns, the answer is checked as for images / 255."
    ),
    images=_uint8(14, (28, 28, 1)),
    takes="uint8 (4, 28, 28, 1) in [0, 255]: ambiguous for this model",
    scaled=True,
    images_only=True,
    **_NORMALIZATION,
)


def _variable() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((None, None, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="conv", **_seeded(11)),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Conv2D(3, 3, name="conv2", **_seeded(12)),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(13)),
        ],
        name="zoo_variable",
    )


VARIABLE = Specimen(
    name="variable_size",
    description="Input (None, None, 1): any image size; the size comes from the images.",
    build=_variable,
    images=_floats(15, (16, 16, 1)),
    labels=_labels(15),
    takes="float32 (4, 16, 16, 1) in [0, 1] (any size fits)",
    scaled=False,
    layer="pool",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv", "pool"], x),
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["conv2", "gap"], h)),
    # For 16x16 images the pool's output is 7x7.
    field=((4, 4), (2, 2)),
    boxes={(0, 0): (0, 0, 4, 4), (6, 6): (12, 12, 16, 16)},
)


def _rgb() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, strides=2, activation="relu", name="conv", **_seeded(14)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(71)),
        ],
        name="zoo_rgb",
    )


RGB = Specimen(
    name="rgb",
    description="Three channels, a strided convolution.",
    build=_rgb,
    images=_floats(16, (16, 16, 3)),
    labels=_labels(16),
    takes="float32 (4, 16, 16, 3) in [0, 1]",
    scaled=False,
    layer="conv",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv"], x),
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["flatten"], h)),
    # 3x3 stride 2 valid on 16: 7x7 units, unit i sees rows 2i..2i+2.
    field=((3, 3), (2, 2)),
    boxes={(0, 0): (0, 0, 3, 3), (6, 6): (12, 12, 15, 15), (2, 4): (4, 8, 7, 11)},
)


def _batchnorm() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(3, 3, name="conv", **_seeded(17)),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.ReLU(name="relu"),
            keras.layers.Dropout(0.5, seed=3, name="dropout"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(18)),
        ],
        name="zoo_batchnorm",
    )
    # Statistics that are not the identity, so a call in training mode shows.
    bn = model.get_layer("bn")
    rng = np.random.default_rng(17)
    bn.moving_mean.assign(rng.normal(0, 0.1, 3).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.2, 0.5, 3).astype(np.float32))
    bn.gamma.assign(rng.uniform(0.5, 1.5, 3).astype(np.float32))
    bn.beta.assign(rng.normal(0, 0.1, 3).astype(np.float32))
    return model


BATCHNORM = Specimen(
    name="batchnorm_dropout",
    description="BatchNormalization with learned statistics and Dropout: inference mode matters.",
    build=_batchnorm,
    images=_floats(17, (28, 28, 1)),
    labels=_labels(17),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="relu",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv", "bn", "relu"], x),
    tail=lambda model, h: _dense_scores(
        model.layers[-1], _layers(model, ["dropout", "flatten"], h)
    ),
    field=((3, 3), (1, 1)),
    boxes={(0, 0): (0, 0, 3, 3), (25, 25): (25, 25, 28, 28)},
    training_differs=True,
)


def _residual() -> keras.Model:
    x = keras.Input((28, 28, 1))
    a = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv_a", **_seeded(19))(
        x
    )
    b = keras.layers.Conv2D(3, 3, padding="same", name="conv_b", **_seeded(20))(a)
    h = keras.layers.Add(name="add")([a, b])
    h = keras.layers.ReLU(name="relu")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(28))(h)
    return keras.Model(x, out, name="zoo_residual")


def _residual_head(model, x):
    a = _layers(model, ["conv_a"], x)
    b = _layers(model, ["conv_b"], a)
    return model.get_layer("relu")(model.get_layer("add")([a, b]))


RESIDUAL = Specimen(
    name="residual",
    description="A residual Add: a skip connection around conv_b (the layer asked is after it).",
    build=_residual,
    images=_floats(18, (28, 28, 1)),
    labels=_labels(18),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="relu",
    conv="conv_b",
    head=_residual_head,
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["gap"], h)),
    # Two 3x3 same convolutions: the longer branch sees 5x5, the skip 3x3 inside it.
    field=((5, 5), (1, 1)),
    boxes={(0, 0): (0, 0, 3, 3), (5, 5): (3, 3, 8, 8), (27, 27): (25, 25, 28, 28)},
)


def _logits() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="conv", **_seeded(22)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(CLASSES, name="logits", **_head(100)),
        ],
        name="zoo_logits",
    )


LOGITS = Specimen(
    name="logits",
    description="A logits head: the last Dense has no softmax.",
    build=_logits,
    images=_floats(19, (28, 28, 1)),
    labels=_labels(19),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="conv",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv"], x),
    tail=lambda model, h: _dense_scores(model.layers[-1], _layers(model, ["flatten"], h)),
    field=((3, 3), (1, 1)),
    boxes={(0, 0): (0, 0, 3, 3), (25, 25): (25, 25, 28, 28)},
)


def _change(model: keras.Model) -> None:
    """The issue's example: a new head on a Sequential that cnnviz has used."""
    model.pop()
    model.add(keras.layers.Dense(CLASSES, activation="softmax", name="new_scores", **_head(38)))


CHANGED = Specimen(
    name="changed",
    description="A Sequential given a new head (pop, add) after cnnviz has used it once.",
    build=lambda: _sequential("zoo_changed", head=16),
    images=_floats(20, (28, 28, 1)),
    labels=_labels(20),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="pool",
    conv="conv",
    head=lambda model, x: _layers(model, ["conv", "pool"], x),
    tail=_sequential_tail,
    field=((4, 4), (2, 2)),
    boxes={(0, 0): (0, 0, 4, 4), (12, 12): (24, 24, 28, 28)},
    change=_change,
    exportable=True,
)


def _two_inputs() -> keras.Model:
    left, right = keras.Input((12, 12, 1), name="left"), keras.Input((12, 12, 1), name="right")
    h = keras.layers.Concatenate(name="both")([left, right])
    h = keras.layers.Conv2D(3, 3, activation="relu", name="conv", **_seeded(25))(h)
    h = keras.layers.Flatten(name="flatten")(h)
    out = keras.layers.Dense(CLASSES, activation="softmax", name="scores", **_head(26))(h)
    return keras.Model([left, right], out, name="zoo_two_inputs")


TWO_INPUTS = Specimen(
    name="two_inputs",
    description="Two image inputs: not an image model in cnnviz's sense, to be refused.",
    build=_two_inputs,
    images=_floats(21, (12, 12, 1)),
    labels=_labels(21),
    takes="two float32 (4, 12, 12, 1) in [0, 1]; given one, as a user might",
    scaled=False,
    layer="conv",
    conv="conv",
    head=None,
    tail=None,
    boxes={(0, 0): (0, 0, 3, 3)},
    one_input=False,
)

# --- issue 24: LeNet-5's variants, cnnviz's own padding layer and Zhang's blur pooling ----------


def _lenet5_variant(padding: str, pooling: str, seed: int) -> Callable[[], keras.Model]:
    """``cnnviz.lenet5`` with CLASSES classes and weights drawn here: seeded, biases not zero,
    a large head (as _head's), and the blur's fixed kernel left as it is."""

    def build() -> keras.Model:
        import cnnviz  # the model under test, built by the library; checked by hand below

        model = cnnviz.lenet5(padding, num_classes=CLASSES, pooling=pooling)
        rng = np.random.default_rng(seed)
        for layer in model.layers:
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
                kernel, bias = layer.get_weights()
                fan = np.prod(kernel.shape[:-1]) + kernel.shape[-1]
                scale = 3.0 if layer.name == "op" else np.sqrt(6 / fan)
                layer.set_weights(
                    [
                        rng.uniform(-scale, scale, kernel.shape).astype(np.float32),
                        rng.uniform(-0.1, 0.1, bias.shape).astype(np.float32),
                    ]
                )
        return model

    return build


def _lenet5_tail(*names: str) -> Callable:
    """The class scores from a layer's output: the named layers, then op's pre-activation."""
    return lambda model, h: _dense_scores(
        model.get_layer("op"), _layers(model, [*names, "flatten", "fc1", "fc2"], h)
    )


# The seeds were picked so that the four images get at least two classes (test_zoo.py).
_PADDED_HEAD = ["pad1", "conv1", "relu1", "max_pool1", "pad2", "conv2", "relu2"]

REFLECT = Specimen(
    name="lenet5_reflect",
    description="lenet5('reflect'): cnnviz's Padding2D mirrors the border before each conv.",
    build=_lenet5_variant("reflect", "max", 39),
    images=_floats(39, (28, 28, 1)),
    labels=_labels(39),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="relu2",
    conv="conv1",
    head=lambda model, x: _layers(model, _PADDED_HEAD, x),
    tail=_lenet5_tail("max_pool2"),
    # As same's: 5 + 1 * 1 (pool) + 4 * 2 = 14, jump 2. A mirrored border reads real pixels:
    # unit 0 reads max_pool1 rows 2, 1, 0, 1, 2, so conv1 rows 0..5, so pixels 0..7 (rows
    # -2 and -1 are 2 and 1); unit 13 reads pool rows 11, 12, 13, 12, 11: pixels 20..27.
    field=((14, 14), (2, 2)),
    boxes={(0, 0): (0, 0, 8, 8), (6, 6): (6, 6, 20, 20), (13, 13): (20, 20, 28, 28)},
)

CIRCULAR = Specimen(
    name="lenet5_circular",
    description="lenet5('circular'): Padding2D wraps the border, so edge units read both edges.",
    build=_lenet5_variant("circular", "max", 42),
    images=_floats(42, (28, 28, 1)),
    labels=_labels(42),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="relu2",
    conv="conv1",
    head=lambda model, x: _layers(model, _PADDED_HEAD, x),
    tail=_lenet5_tail("max_pool2"),
    # Unit 0 reads pool rows 12, 13, 0, 1, 2: pixels at both edges, so its box spans the
    # image; unit 5 reads pool rows 3..7, conv1 rows 6..15, pixels 4..17.
    field=((14, 14), (2, 2)),
    boxes={(0, 0): (0, 0, 28, 28), (6, 6): (6, 6, 20, 20), (13, 5): (0, 4, 28, 18)},
)

_BLUR_HEAD = ["conv1", "relu1", "max_pool1", "blur_pad1", "blur1"]

VALID_BLUR = Specimen(
    name="lenet5_valid_blur",
    description="lenet5('valid', pooling='blur'): a stride-1 max, a zero border, a fixed blur.",
    build=_lenet5_variant("valid", "blur", 34),
    images=_floats(34, (28, 28, 1)),
    labels=_labels(34),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="blur1",
    conv="conv1",
    head=lambda model, x: _layers(model, _BLUR_HEAD, x),
    tail=_lenet5_tail("conv2", "relu2", "max_pool2", "blur_pad2", "blur2"),
    # conv1 5, the 2x2 max (stride 1) 6, the 3x3 blur 8, jump 2. Unit i reads max_pool1
    # rows 2i - 1 .. 2i + 1 (one zero row before), so conv1 rows 2i - 1 .. 2i + 2 and
    # pixels 2i - 1 .. 2i + 6: unit 0 from 0 (row -1 is a zero), unit 11 to 27 (max_pool1
    # has 23 rows: 23 is a zero).
    field=((8, 8), (2, 2)),
    boxes={(0, 0): (0, 0, 7, 7), (5, 5): (9, 9, 17, 17), (11, 11): (21, 21, 28, 28)},
)

SAME_BLUR = Specimen(
    name="lenet5_same_blur",
    description="lenet5('same', pooling='blur'): Keras' same padding, stride-1 max, blur.",
    build=_lenet5_variant("same", "blur", 41),
    images=_floats(41, (28, 28, 1)),
    labels=_labels(41),
    takes="float32 (4, 28, 28, 1) in [0, 1]",
    scaled=False,
    layer="blur1",
    conv="conv1",
    head=lambda model, x: _layers(model, _BLUR_HEAD, x),
    tail=_lenet5_tail("conv2", "relu2", "max_pool2", "blur_pad2", "blur2"),
    # As valid's, shifted by same's 2 pixels: unit i reads pixels 2i - 3 .. 2i + 4.
    field=((8, 8), (2, 2)),
    boxes={(0, 0): (0, 0, 5, 5), (6, 6): (9, 9, 17, 17), (13, 13): (23, 23, 28, 28)},
)

#: Every specimen, by name.
ZOO: dict[str, Specimen] = {
    specimen.name: specimen
    for specimen in (
        SEQUENTIAL,
        FUNCTIONAL,
        NESTED,
        AUGMENTED,
        NORMALIZATION,
        NORMALIZATION_UINT8,
        VARIABLE,
        RGB,
        BATCHNORM,
        RESIDUAL,
        LOGITS,
        CHANGED,
        TWO_INPUTS,
        REFLECT,
        CIRCULAR,
        VALID_BLUR,
        SAME_BLUR,
    )
}
