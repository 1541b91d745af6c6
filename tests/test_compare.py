"""cnnviz.compare: linear CKA against a straightforward NumPy reading of its definition, and
layer_similarity against CKA on the whole set's activations."""

from __future__ import annotations

import re
import warnings

import keras
import numpy as np
import pytest

import cnnviz
from cnnviz import cka, compare, layer_outputs, layer_similarity


def reference_cka(a, b, debiased=False):
    """CKA from the Gram matrices, term by term as the papers write it (float64)."""
    x = np.asarray(a, np.float64).reshape(len(a), -1)
    y = np.asarray(b, np.float64).reshape(len(b), -1)
    n = len(x)
    k, l = x @ x.T, y @ y.T
    if not debiased:
        # HSIC = tr(K H L H) / (n - 1)^2 with the centring matrix H (Gretton et al., 2005).
        h = np.eye(n) - np.ones((n, n)) / n

        def hsic(k, l):
            return np.trace(k @ h @ l @ h) / (n - 1) ** 2

    else:
        # The unbiased estimator (Song et al., 2012): Gram matrices with zero diagonals.
        def hsic(k, l):
            k, l = k - np.diag(np.diag(k)), l - np.diag(np.diag(l))
            one = np.ones(n)
            return (
                np.trace(k @ l)
                + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * (one @ k @ l @ one)
            ) / (n * (n - 3))

    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def rotation(size, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(size, size)))
    return q * np.sign(np.diag(r))


@pytest.fixture
def related():
    """Two related sets of activations: b is a noisy linear map of a."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 12))
    b = a @ rng.normal(size=(12, 7)) + 0.5 * rng.normal(size=(60, 7))
    return a, b


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize(("n", "p", "q"), [(60, 12, 7), (15, 40, 30), (8, 3, 90), (200, 5, 5)])
def test_equals_the_gram_matrix_definition(n, p, q, debiased):
    # Both routes (feature products when N is large, Gram matrices when small) are taken.
    rng = np.random.default_rng(n + p + q)
    a = rng.normal(size=(n, p))
    b = a[:, :1] * rng.normal(size=(1, q)) + rng.normal(size=(n, q))
    assert cka(a, b, debiased=debiased) == pytest.approx(reference_cka(a, b, debiased), rel=1e-9)


@pytest.mark.parametrize("debiased", [False, True])
def test_a_set_compared_with_itself_is_1(related, debiased):
    a, b = related
    assert cka(a, a, debiased=debiased) == pytest.approx(1.0, abs=1e-12)
    assert cka(b, b, debiased=debiased) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("debiased", [False, True])
def test_invariant_to_rotation_isotropic_scaling_and_offset(related, debiased):
    a, b = related
    before = cka(a, b, debiased=debiased)
    moved = 7.5 * b @ rotation(b.shape[1], 1) - 3.0
    assert cka(a, moved, debiased=debiased) == pytest.approx(before, rel=1e-9)
    assert cka(0.01 * a @ rotation(a.shape[1], 2) + 100, b, debiased=debiased) == pytest.approx(
        before, rel=1e-9
    )
    assert cka(a, b @ rotation(b.shape[1], 3) * 1e-6, debiased=debiased) == pytest.approx(
        before, rel=1e-9
    )


def test_a_rotated_scaled_offset_copy_scores_1():
    a = np.random.default_rng(4).normal(size=(100, 10))
    assert cka(a, -2 * a @ rotation(10, 5) + 4) == pytest.approx(1.0, abs=1e-12)


def test_not_invariant_to_scaling_one_feature(related):
    # Only isotropic scaling leaves CKA alone: stretching one unit changes it.
    a, b = related
    stretched = b * np.array([10.0, 1, 1, 1, 1, 1, 1])
    assert abs(cka(a, stretched) - cka(a, b)) > 0.01


@pytest.mark.parametrize("debiased", [False, True])
def test_symmetric(related, debiased):
    a, b = related
    assert cka(a, b, debiased=debiased) == pytest.approx(cka(b, a, debiased=debiased), rel=1e-12)


def test_more_related_activations_score_higher():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(300, 8))
    noise = rng.normal(size=(300, 8))
    scores = [cka(a, a + level * noise) for level in (0.1, 0.5, 1.0, 3.0)]
    assert np.all(np.diff(scores) < 0)
    assert scores[0] > 0.95
    assert scores[-1] < 0.3


def test_unrelated_features_are_biased_upwards_at_small_n_and_about_0_debiased():
    # Independent random activations: the plain estimate is far from 0 when N is
    # small against the number of features; the debiased one is near 0 on average.
    rng = np.random.default_rng(7)
    plain, unbiased = [], []
    for _ in range(20):
        a, b = rng.normal(size=(20, 100)), rng.normal(size=(20, 100))
        plain.append(cka(a, b))
        unbiased.append(cka(a, b, debiased=True))
    assert min(plain) > 0.6
    assert abs(np.mean(unbiased)) < 0.02
    assert max(np.abs(unbiased)) < 0.3  # one draw of 20 examples still varies


def test_the_bias_shrinks_with_more_examples():
    rng = np.random.default_rng(8)
    scores = [cka(rng.normal(size=(n, 50)), rng.normal(size=(n, 50))) for n in (25, 200, 2000)]
    assert scores[0] > scores[1] > scores[2]
    assert scores[2] < 0.05


def test_maps_of_any_shape_are_flattened_per_example(related):
    a, b = related
    maps = a.reshape(60, 2, 3, 2)
    assert cka(maps, b) == pytest.approx(cka(a, b), rel=1e-12)
    assert cka(a[:, 0], b) == pytest.approx(cka(a[:, :1], b), rel=1e-12)


def test_integer_float32_and_bool_activations_are_taken():
    rng = np.random.default_rng(9)
    a = rng.integers(0, 5, size=(40, 6))
    b = rng.normal(size=(40, 3)).astype(np.float32)
    assert cka(a, b) == pytest.approx(reference_cka(a, b), rel=1e-6)
    assert 0 <= cka(a > 2, b) <= 1


def test_float32_input_is_computed_in_float64():
    # Large offsets would lose everything in float32 sums; centring in float64 keeps it.
    rng = np.random.default_rng(10)
    a = rng.normal(size=(500, 4))
    b = a + 0.1 * rng.normal(size=(500, 4))
    shifted = (b + 1000).astype(np.float32)
    assert cka(a, shifted) == pytest.approx(cka(a, b.astype(np.float32)), abs=1e-4)


def test_different_numbers_of_examples_are_refused():
    with pytest.raises(
        ValueError, match=r"same number .* got 10 and 9 \(shapes \(10, 3\) and \(9, 3\)\)"
    ):
        cka(np.ones((10, 3)) * np.arange(10)[:, None], np.arange(27.0).reshape(9, 3))


@pytest.mark.parametrize(("n", "debiased"), [(1, False), (3, True)])
def test_too_few_examples_are_refused(n, debiased):
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    with pytest.raises(ValueError, match=f"at least {2 if n == 1 else 4} examples; got {n}"):
        cka(a, b, debiased=debiased)


@pytest.mark.parametrize("which", ["a", "b"])
def test_constant_activations_are_refused_not_nan(which):
    rng = np.random.default_rng(12)
    good = rng.normal(size=(30, 5))
    constant = np.full((30, 4), 0.1)  # its float mean is not exactly 0.1
    args = (constant, good) if which == "a" else (good, constant)
    with pytest.raises(ValueError, match=f"{which} is the same for every example"):
        cka(*args)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_refused_with_the_example(bad):
    a = np.random.default_rng(13).normal(size=(10, 3))
    a[6, 2] = bad
    with pytest.raises(ValueError, match=r"a must hold finite values; .* example 6"):
        cka(a, np.arange(30.0).reshape(10, 3))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("activations", TypeError, "a must be an array"),
        (None, TypeError, "a must be an array"),
        (np.array(["x", "y"]), TypeError, "numeric array"),
        (np.ones((4, 2), complex), TypeError, "real numbers"),
        (np.float64(3.0), ValueError, "scalar"),
        (np.zeros((0, 3)), ValueError, "at least one value per example"),
        (np.zeros((5, 0)), ValueError, "at least one value per example"),
    ],
)
def test_what_is_not_activations_is_refused_by_name(value, error, message):
    with pytest.raises(error, match=message):
        cka(value, np.arange(8.0).reshape(4, 2))


@pytest.mark.parametrize("debiased", [1, "yes", None])
def test_debiased_must_be_a_bool(debiased):
    with pytest.raises(TypeError, match="debiased must be True or False"):
        cka(np.eye(5), np.eye(5), debiased=debiased)


def test_a_debiased_normalisation_that_is_not_positive_is_refused():
    # Four examples of one feature: the unbiased estimate of HSIC(a, a) can be <= 0.
    a = np.array([[0.0], [0.0], [0.0], [1.0]])
    with pytest.raises(ValueError, match="too few for debiased CKA"):
        cka(a, a, debiased=True)


# What a hostile review found (issue 25): magnitudes, rounding, and inputs that are not plain arrays.


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("scale", [1e38, 1e-45, 1e150, 1e-300])
def test_any_magnitude_gives_the_same_answer(related, scale, debiased):
    # Fourth powers of 1e38 overflow and of 1e-45 underflow; the activations are scaled first.
    a, b = related
    expected = cka(a, b, debiased=debiased)
    assert cka(a * scale, b, debiased=debiased) == pytest.approx(expected, rel=1e-9)
    assert cka(a, b * scale, debiased=debiased) == pytest.approx(expected, rel=1e-9)


def test_float32_activations_near_their_largest_values():
    x = np.random.default_rng(14).normal(size=(300, 16)).astype(np.float32) * np.float32(1e37)
    assert cka(x, x) == pytest.approx(1.0, abs=1e-12)


def test_the_plain_estimate_never_rounds_past_1():
    rng = np.random.default_rng(15)
    for _ in range(200):
        a = rng.normal(size=(10, 3))
        assert 0.0 <= cka(a, a + 1) <= 1.0


def test_one_example_alone_differing_is_refused_when_debiased():
    # The unbiased HSIC of such a set is exactly 0; rounding must not turn it into an answer.
    a = np.zeros((10, 1))
    a[3] = 1.0
    with pytest.raises(ValueError, match="too few for debiased CKA"):
        cka(a, np.arange(10.0) ** 2, debiased=True)


def exact_debiased_cka(a, b):
    """Debiased CKA in exact rational arithmetic (Song et al.'s estimator, term by term)."""
    from fractions import Fraction

    def gram(x):
        rows = [[Fraction(float(v)) for v in row] for row in np.asarray(x).reshape(len(x), -1)]
        n = len(rows)
        return [
            [Fraction(0) if i == j else sum(u * v for u, v in zip(rows[i], rows[j], strict=True))
             for j in range(n)]
            for i in range(n)
        ]  # fmt: skip

    def hsic(k, l):
        n = len(k)
        trace = sum(k[i][j] * l[j][i] for i in range(n) for j in range(n))
        sk, sl = [sum(row) for row in k], [sum(row) for row in l]
        return (
            trace
            + sum(sk) * sum(sl) / ((n - 1) * (n - 2))
            - Fraction(2, n - 2) * sum(u * v for u, v in zip(sk, sl, strict=True))
        )

    k, l = gram(a), gram(b)
    return float(hsic(k, l)) / np.sqrt(float(hsic(k, k)) * float(hsic(l, l)))


def test_an_outlier_example_on_the_gram_route_keeps_its_digits():
    # Few examples and many features: the debiased estimate is taken term by term on the
    # centred Gram matrices, where a float64 reading of the definition loses digits.
    rng = np.random.default_rng(16)
    a, b = rng.normal(size=(8, 30)), rng.normal(size=(8, 20))
    a[0] *= 1e6
    assert cka(a, b, debiased=True) == pytest.approx(exact_debiased_cka(a, b), rel=1e-9)


def test_large_integers_keep_their_differences():
    big = (2**62 + np.arange(20)).reshape(20, 1)
    assert cka(big, np.arange(20.0)) == pytest.approx(1.0, abs=1e-12)
    assert cka(np.arange(20, dtype=np.uint64) + np.uint64(2**63), np.arange(20.0)) == pytest.approx(
        1.0, abs=1e-12
    )


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16])
def test_small_integer_kinds_do_not_wrap(dtype):
    info = np.iinfo(dtype)
    values = np.array([info.min, info.max, info.min, 0, info.max], dtype=dtype)
    as_floats = values.astype(np.float64)
    assert cka(values, as_floats) == pytest.approx(1.0, abs=1e-12)
    assert cka(values, np.arange(5.0)) == pytest.approx(cka(as_floats, np.arange(5.0)), rel=1e-12)


def test_a_masked_array_is_refused_rather_than_its_mask_ignored():
    masked = np.ma.masked_array([[1.0], [2.0], [1e6], [4.0]], mask=[[0], [0], [1], [0]])
    with pytest.raises(TypeError, match="a is a masked array"):
        cka(masked, [[1.0], [2.0], [3.0], [4.0]])


def test_ragged_lists_are_refused_by_name():
    with pytest.raises(ValueError, match=r"b must be an array of activations \(N, \.\.\.\)"):
        cka([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("dtype", ["timedelta64[s]", "datetime64[s]"])
def test_times_are_not_activations(dtype):
    with pytest.raises(TypeError, match="of real numbers; got dtype " + re.escape(dtype)):
        cka(np.arange(4).astype(dtype), np.arange(4.0))


# --- layer_similarity: every layer against every layer, streamed -----------------------------


def whole_set_cka(model_a, model_b, x, result, debiased=False):
    """CKA of every pair of layers from all the images' activations at once (the reference)."""
    outs_a = layer_outputs(model_a, x, result["layers_a"])
    outs_b = layer_outputs(model_b, x, result["layers_b"])
    return np.array(
        [
            [reference_cka(outs_a[a], outs_b[b], debiased) for b in result["layers_b"]]
            for a in result["layers_a"]
        ]
    )


def affine_model(seed=0):
    """Layers that stand for themselves and layers that cnnviz reads as affine maps of their input."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((10, 10, 2))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)  # linear: 2 x 100 in, 4 x 64 out
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv_same")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dense(16, name="dense")(x)  # linear, but narrower than its input
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    bn = model.get_layer("bn")  # statistics of its own, so that it is not the identity
    bn.set_weights([w + np.random.default_rng(1).random(w.shape) for w in bn.get_weights()])
    return model


@pytest.fixture(scope="module")
def pictures():
    return np.random.default_rng(2).random((300, 10, 10, 2), dtype=np.float32)


@pytest.mark.parametrize("debiased", [False, True])
def test_every_pair_equals_cka_on_the_whole_sets_activations(pictures, debiased):
    a, b = affine_model(0), affine_model(1)
    result = layer_similarity(a, b, pictures, debiased=debiased)
    names = ("conv", "bn", "relu", "conv_same", "flat", "dense", "out")
    assert result["layers_a"] == result["layers_b"] == names
    assert result["n"] == 300
    expected = whole_set_cka(a, b, pictures, result, debiased)
    # float32 products of activations shifted by their first block's mean, summed in float64
    np.testing.assert_allclose(result["cka"], expected, atol=2e-6, rtol=0)


def test_affine_layers_stand_on_their_input_and_the_others_on_themselves(pictures):
    side = compare._Side(affine_model(), ("conv", "bn", "relu", "conv_same", "flat"), "model_a")
    side.plan(side.run(pictures[:20]))
    mapped = {view.name: view.weights is not None for view in side.views}
    # conv: 200 inputs for 256 outputs; conv_same: 256 for 384; flat: the same 384 values;
    # bn is affine but its input (conv's output) is as wide; relu is not affine.
    assert mapped == {"conv": True, "bn": True, "relu": False, "conv_same": True, "flat": True}
    # conv and its input, bn and conv's output, relu, conv_same's output: four bases.
    assert [base.width for base in side.bases] == [200, 256, 256, 384]


class Squared(keras.layers.Conv2D):
    """A convolution that squares its output: of an affine kind, but not affine."""

    def call(self, inputs):
        return super().call(inputs) ** 2


def test_a_layer_that_only_looks_affine_is_found_out_on_the_data(pictures):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 10, 2))
    out = Squared(4, 3, name="squared")(inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(out))
    side = compare._Side(model, ("squared",), "model_a")
    side.plan(side.run(pictures[:20]))
    assert side.views[0].weights is None  # it stands for itself
    result = layer_similarity(model, affine_model(), pictures, layers_a=["squared"])
    expected = whole_set_cka(model, affine_model(), pictures, result)
    np.testing.assert_allclose(result["cka"], expected, atol=2e-6, rtol=0)


class Clipped(keras.layers.Dense):
    """A dense layer without an activation that clips its output in call(): not affine."""

    def call(self, inputs):
        return keras.ops.maximum(super().call(inputs), 0.0)


def test_a_subclass_of_an_affine_kind_stands_for_itself():
    # Linear on the first images (all far above the clip), clipped on the rest: a check on a
    # few images alone would have let its input stand for it (found by a hostile review).
    rng = np.random.default_rng(0)
    x = rng.random((400, 3, 3, 1), dtype=np.float32)
    x[:16] *= 0.1
    x[16:] = 0.6 + 0.4 * x[16:]
    inputs = keras.Input((3, 3, 1))
    model = keras.Model(inputs, Clipped(12, name="clip")(keras.layers.Flatten()(inputs)))
    model.get_layer("clip").set_weights(
        [-rng.uniform(0.2, 0.5, (9, 12)).astype(np.float32), np.full(12, 2.0, np.float32)]
    )
    side = compare._Side(model, ("clip",), "model_a")
    side.plan(side.run(x))
    assert side.views[0].weights is None
    other = keras.Sequential(
        [
            keras.Input((3, 3, 1)),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(5, activation="tanh"),
        ]
    )
    result = layer_similarity(model, other, x, layers_a=["clip"], layers_b=["flat"])
    expected = whole_set_cka(model, other, x, result)
    np.testing.assert_allclose(result["cka"], expected, atol=2e-6, rtol=0)


@pytest.mark.parametrize("debiased", [False, True])
def test_a_map_whose_weights_cancel_stands_for_itself(debiased):
    # Outputs that are scaled-up differences of nearly equal pixels: through the input's
    # float32 products the rounding would be magnified (0.79 for 1.0, found by a hostile
    # review); the layer's own outputs are accurate.
    rng = np.random.default_rng(1)
    n, s = 3000, 3e3
    a, b = rng.random((n, 1)), rng.random((n, 1))
    near = [a, a + rng.normal(size=(n, 1)) / s, b, b + rng.normal(size=(n, 1)) / s]
    x = np.concatenate(near, axis=1).astype(np.float32).reshape(n, 2, 2, 1)
    w = np.array([[-s, 0, -s, -s], [s, 0, s, s], [0, -s, -s, s], [0, s, s, -s]], np.float32)
    inputs = keras.Input((2, 2, 1))
    dense = keras.layers.Dense(4, name="d")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.ReLU()(dense))
    model.get_layer("d").set_weights([w, np.zeros(4, np.float32)])
    squashed = keras.layers.Dense(4, activation="tanh", name="t")(keras.layers.Flatten()(inputs))
    other = keras.Model(inputs, squashed)
    other.get_layer("t").set_weights([w / s * 10, np.zeros(4, np.float32)])
    result = layer_similarity(model, other, x, layers_a=["d"], layers_b=["t"], debiased=debiased)
    expected = whole_set_cka(model, other, x, result, debiased)
    np.testing.assert_allclose(result["cka"], expected, atol=2e-6, rtol=0)


@pytest.mark.parametrize("factor", [1e19, 1e-25])
def test_activations_far_beyond_float32s_comfort_keep_their_answer(factor, pictures):
    inputs = keras.Input((10, 10, 2))
    conv = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Rescaling(factor, name="scaled")(conv))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow leaks out
        result = layer_similarity(
            model, model, pictures, layers_a=["scaled"], layers_b=["conv"], debiased=True
        )
    assert result["cka"][0, 0] == pytest.approx(1.0, abs=1e-6)


def test_a_stream_of_two_image_sizes_is_refused_for_maps_by_name():
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))
    rng = np.random.default_rng(0)
    stream = [rng.random((8, 12, 12, 1), np.float32), rng.random((8, 16, 16, 1), np.float32)]
    with pytest.raises(
        ValueError, match=r"layer 'conv' of model_a .* shape \(10, 10, 2\) for some"
    ):
        layer_similarity(model, model, stream)


@pytest.mark.parametrize("debiased", [False, True])
def test_many_blocks_sum_to_the_whole_set(monkeypatch, pictures, streams, debiased):
    monkeypatch.setattr(compare, "BLOCK_IMAGES", 64)  # 300 images: five blocks
    a, b = affine_model(0), affine_model(3)
    arrays = layer_similarity(a, b, pictures, debiased=debiased)
    expected = whole_set_cka(a, b, pictures, arrays, debiased)
    np.testing.assert_allclose(arrays["cka"], expected, atol=2e-6, rtol=0)
    for form, stream in streams(pictures, batch=50).items():
        streamed = layer_similarity(a, b, stream, debiased=debiased)
        assert streamed["n"] == 300, form
        np.testing.assert_allclose(streamed["cka"], arrays["cka"], atol=2e-6, rtol=0)


def test_a_model_against_itself_has_ones_on_the_diagonal(pictures):
    model = affine_model()
    result = layer_similarity(model, model, pictures)
    np.testing.assert_allclose(np.diag(result["cka"]), 1.0, atol=1e-6)
    assert np.all(result["cka"] <= 1.0)
    np.testing.assert_allclose(result["cka"], result["cka"].T, atol=1e-6)


def test_the_layers_come_in_the_order_asked_and_a_repeated_one_is_repeated(pictures):
    model = affine_model()
    result = layer_similarity(
        model, model, pictures, layers_a=["relu", -1, "relu"], layers_b=["conv"]
    )
    assert result["layers_a"] == ("relu", "out", "relu")
    assert result["layers_b"] == ("conv",)
    assert result["cka"].shape == (3, 1)
    assert result["cka"][0, 0] == result["cka"][2, 0]


def test_a_constant_layer_is_nan_with_a_warning(pictures):
    inputs = keras.Input((10, 10, 2))
    dead = keras.layers.Conv2D(3, 3, kernel_initializer="zeros", name="dead")(inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(dead))
    with pytest.warns(RuntimeWarning, match=r"layer 'dead' of model_a .* the same activations"):
        result = layer_similarity(
            model, affine_model(), pictures, layers_a=["dead"], layers_b=["conv", "relu"]
        )
    assert np.isnan(result["cka"]).all()


def test_a_set_too_small_for_the_debiased_estimate_is_nan_with_a_warning(pictures):
    # One image alone differing from nine identical ones: the unbiased HSIC of any layer is
    # exactly 0, and rounding must not turn it into an answer.
    images = np.repeat(pictures[:1], 10, axis=0)
    images[3] = pictures[1]
    model = affine_model()
    with pytest.warns(RuntimeWarning, match="too few for debiased CKA"):
        result = layer_similarity(
            model, model, images, layers_a=["relu"], layers_b=["relu"], debiased=True
        )
    assert np.isnan(result["cka"]).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"images": np.zeros((1, 10, 10, 2), np.float32)}, ValueError, "at least 2 images; got 1"),
        (
            {"images": np.zeros((3, 10, 10, 2), np.float32), "debiased": True},
            ValueError,
            "debiased estimator needs at least 4 images; got 3",
        ),
        ({"layers_a": ["nope"]}, ValueError, "no layer named 'nope'"),
        ({"layers_b": "conv"}, TypeError, "layers_b must be a sequence"),
        ({"layers_a": []}, ValueError, "layers_a is empty"),
        ({"debiased": "yes"}, TypeError, "debiased must be True or False"),
    ],
)
def test_bad_arguments_are_refused_by_name(pictures, kwargs, error, match):
    arguments = {"images": pictures[:10], **kwargs}
    images = arguments.pop("images")
    with pytest.raises(error, match=match):
        layer_similarity(affine_model(), affine_model(), images, **arguments)


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.full((1, 10, 10, 2), np.nan, np.float32), ValueError, "images must hold finite"),
        (np.zeros((1, 10, 10, 2), np.int64), TypeError, "got dtype int64"),
        (np.zeros((1, 10, 10, 3), np.float32), ValueError, r"got shape \(1, 10, 10, 3\)"),
        (np.zeros((0, 10, 10, 2), np.float32), ValueError, "empty batch"),
    ],
)
def test_too_few_images_that_are_also_malformed_say_what_is_wrong_with_them(images, error, match):
    # Too few images in an array are refused before the models run, but after the images
    # are read: the more specific message comes first.
    with pytest.raises(error, match=match):
        layer_similarity(affine_model(), affine_model(), images)


def test_models_that_take_different_images_are_refused():
    given = keras.Input((8, 8, 2))
    small = keras.Model(given, keras.layers.Flatten()(given))
    with pytest.raises(ValueError, match=r"same shape.*\(10, 10, 2\) and model_b \(8, 8, 2\)"):
        layer_similarity(affine_model(), small, np.zeros((4, 10, 10, 2), np.float32))
    scaled = keras.Sequential(
        [keras.Input((10, 10, 2)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
    )
    with pytest.raises(ValueError, match=r"same range.*\[0, 1\] and model_b \[0, 255\]"):
        layer_similarity(affine_model(), scaled, np.zeros((4, 10, 10, 2), np.float32))


def test_nan_activations_are_refused_with_the_layer():
    images = np.random.default_rng(0).random((8, 10, 10, 2), dtype=np.float32)
    inputs = keras.Input((10, 10, 2))
    log = keras.layers.Lambda(lambda t: keras.ops.log(t - 0.5), name="log")(inputs)
    model = keras.Model(inputs, log)
    with pytest.raises(ValueError, match=r"layer 'log' of model .* NaN or infinite"):
        layer_similarity(model, model, images)


@pytest.mark.integration
def test_lenet5_valid_against_same_on_real_images_equals_the_whole_set(fashion_mnist, monkeypatch):
    monkeypatch.setattr(compare, "BLOCK_IMAGES", 512)  # 1,200 images: three blocks
    x = fashion_mnist[1][0][:1200]
    a, b = cnnviz.lenet5("valid"), cnnviz.lenet5("same")
    result = layer_similarity(
        a,
        b,
        x,
        layers_a=["conv1", "relu1", "conv2", "flatten", "op"],
        layers_b=["conv1", "max_pool1", "conv2", "fc2"],
    )
    outs_a, outs_b = (
        layer_outputs(a, x, result["layers_a"]),
        layer_outputs(b, x, result["layers_b"]),
    )
    expected = [[cka(outs_a[i], outs_b[j]) for j in result["layers_b"]] for i in result["layers_a"]]
    np.testing.assert_allclose(result["cka"], expected, atol=2e-6, rtol=0)


# --- match_channels: channels paired one to one by their correlation -------------------------


def permuted_lenet5(model, order1, order2):
    """A copy of LeNet-5 whose conv1 and conv2 filters are permuted, computing the same classes."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    kernel1, bias1 = model.get_layer("conv1").get_weights()
    copy.get_layer("conv1").set_weights([kernel1[..., order1], bias1[order1]])
    kernel2, bias2 = model.get_layer("conv2").get_weights()
    # conv2 reads conv1's channels in their new order, and writes its own in a new order too;
    # fc1 reads conv2's (pooled, flattened) channels, so its rows follow them.
    kernel2 = kernel2[:, :, order1][..., order2]
    copy.get_layer("conv2").set_weights([kernel2, bias2[order2]])
    w, b = model.get_layer("fc1").get_weights()
    rows = np.arange(w.shape[0]).reshape(-1, 16)[:, order2].reshape(-1)
    copy.get_layer("fc1").set_weights([w[rows], b])
    return copy


def test_a_permuted_copy_is_matched_back_exactly_with_correlations_of_1():
    keras.utils.set_random_seed(4)
    model = cnnviz.lenet5("valid")
    rng = np.random.default_rng(4)
    order1, order2 = rng.permutation(6), rng.permutation(16)
    copy = permuted_lenet5(model, order1, order2)
    x = rng.random((40, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    for layer, order in (("conv1", order1), ("conv2", order2)):
        match = cnnviz.match_channels(model, copy, x, layer, layer)
        # Channel k of the copy is channel order[k] of the model.
        np.testing.assert_array_equal(match["pairs"][:, 0], np.arange(len(order)))
        np.testing.assert_array_equal(match["pairs"][:, 1], np.argsort(order))
        np.testing.assert_allclose(match["correlation"], 1.0, atol=1e-6)
        assert match["layer_a"] == match["layer_b"] == layer


def reference_correlations(a, b):
    """Pearson correlations of every channel of a with every channel of b (np.corrcoef)."""
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return np.corrcoef(a.T.astype(np.float64), b.T.astype(np.float64))[: a.shape[1], a.shape[1] :]


def test_valid_and_same_maps_are_paired_around_their_centres_and_the_best_pairing_is_found():
    import itertools

    keras.utils.set_random_seed(1)
    valid, same = cnnviz.lenet5("valid"), cnnviz.lenet5("same")
    x = np.random.default_rng(1).random((30, 28, 28, 1), dtype=np.float32)
    match = cnnviz.match_channels(valid, same, x, "relu1", "relu1")
    a = layer_outputs(valid, x, ["relu1"])["relu1"]
    b = layer_outputs(same, x, ["relu1"])["relu1"][:, 2:26, 2:26]  # 28x28 around 24x24
    expected = reference_correlations(a, b)
    np.testing.assert_allclose(match["matrix"], expected, atol=1e-9)
    # Every one of the 720 pairings of six channels: none has a larger total.
    best = max(itertools.permutations(range(6)), key=lambda p: expected[range(6), p].sum())
    np.testing.assert_array_equal(match["pairs"][:, 1], best)
    np.testing.assert_allclose(match["correlation"], expected[range(6), best], atol=1e-9)
    # conv2: 8x8 against 14x14, three units cut on each side.
    match = cnnviz.match_channels(valid, same, x, "conv2", "conv2")
    a = layer_outputs(valid, x, ["conv2"])["conv2"]
    b = layer_outputs(same, x, ["conv2"])["conv2"][:, 3:11, 3:11]
    np.testing.assert_allclose(match["matrix"], reference_correlations(a, b), atol=1e-9)


def test_more_channels_on_one_side_pair_the_fewer(streams):
    keras.utils.set_random_seed(2)
    model = cnnviz.lenet5("valid")
    x = np.random.default_rng(2).random((24, 28, 28, 1), dtype=np.float32)
    match = cnnviz.match_channels(model, model, x, "conv1", "conv2")  # 6 and 16 channels
    assert match["pairs"].shape == (6, 2)
    assert match["matrix"].shape == (6, 16)
    assert len(set(match["pairs"][:, 1].tolist())) == 6
    for form, stream in streams(x, batch=5).items():
        streamed = cnnviz.match_channels(model, model, stream, "conv1", "conv2")
        np.testing.assert_array_equal(streamed["pairs"], match["pairs"], err_msg=form)
        np.testing.assert_allclose(streamed["matrix"], match["matrix"], atol=1e-9)
        assert streamed["n"] == 24


def test_a_channel_that_never_changes_has_nan_correlations_and_a_warning():
    keras.utils.set_random_seed(3)
    model = cnnviz.lenet5("valid")
    kernel, bias = model.get_layer("conv1").get_weights()
    kernel[..., 2] = 0.0
    model.get_layer("conv1").set_weights([kernel, bias])
    x = np.random.default_rng(3).random((10, 28, 28, 1), dtype=np.float32)
    with pytest.warns(RuntimeWarning, match=r"channel\(s\) \[2\] of layer_a 'conv1'"):
        match = cnnviz.match_channels(model, cnnviz.lenet5("same"), x, "conv1", "conv1")
    assert np.isnan(match["matrix"][2]).all()
    assert np.isnan(match["correlation"][2])
    assert not np.isnan(np.delete(match["matrix"], 2, axis=0)).any()


def test_maps_that_cannot_be_paired_are_refused():
    valid = cnnviz.lenet5("valid")
    given = keras.Input((28, 28, 1))
    odd = keras.Model(given, keras.layers.Conv2D(6, 4, name="conv4")(given))  # 25x25
    x = np.zeros((4, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"maps of 24x24 and 25x25 units: .* even number"):
        cnnviz.match_channels(valid, odd, x, "conv1", "conv4")
    with pytest.raises(ValueError, match="both give feature maps or both vectors"):
        cnnviz.match_channels(valid, valid, x, "conv1", "fc1")
    with pytest.raises(ValueError, match=r"layer_b 'nope'|no layer named 'nope'"):
        cnnviz.match_channels(valid, valid, x, "conv1", "nope")
