"""Do two networks, or two layers, represent images alike? Centred kernel alignment.

Linear CKA (Kornblith, Norouzi, Lee and Hinton, "Similarity of Neural Network
Representations Revisited", ICML 2019) compares two sets of activations of
the same N examples, whatever their numbers of units: 1 when one is a
rotation, isotropic scaling or offset of the other, near 0 when they share
nothing. Its plain estimate is biased upwards when N is small against the
number of units; ``debiased=True`` uses the unbiased estimator of the
Hilbert-Schmidt independence criterion (Song et al., JMLR 2012), as Nguyen,
Raghu and Kornblith ("Do Wide and Deep Networks Learn the Same Things?",
ICLR 2021) do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import keras
import numpy as np

from . import _batches, _checks, _graph

__all__ = ["cka", "layer_similarity", "match_channels"]


def _features(x: object, name: str) -> np.ndarray:
    """Return activations as an (N, features) matrix of real numbers, or say what is wrong."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of activations (N, ...); got {x!r}")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; cka does not drop masked values: pass the examples "
            "to compare, without the masked ones"
        )
    try:
        array = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be an array of activations (N, ...); {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a numeric array of activations (N, ...), of real numbers; got "
            f"dtype {array.dtype}"
        )
    if array.ndim == 0:
        raise ValueError(f"{name} must have a first axis of N examples; got a scalar")
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(
            f"{name} must hold at least one value per example; got shape {array.shape}"
        )
    matrix = array.reshape(array.shape[0], -1)
    if matrix.dtype.kind == "f":
        bad = ~np.isfinite(matrix)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(
                f"{name} must hold finite values; got {int(bad.sum())} NaN or infinite "
                f"value(s), the first in example {row}"
            )
    return matrix


def _normalised(matrix: np.ndarray, name: str) -> np.ndarray:
    """Return the (N, features) activations less their medians, in float64, largest magnitude 1.

    CKA does not change with an offset or an isotropic scaling, so the matrix is
    moved and scaled here: the fourth powers in its products then neither overflow
    nor underflow, whatever the activations' magnitude. The median, not the mean:
    one example far from the others moves the mean far from all the rest, and
    their differences would be lost in rounding where no centring is needed.
    """
    if np.all(matrix == matrix[0]):  # exactly, before rounding: a float mean may round
        raise ValueError(
            f"{name} is the same for every example (no variance across the "
            f"{matrix.shape[0]} examples): CKA is undefined"
        )
    if matrix.dtype.kind in "iu":
        # Integers beyond 2**53 lose their differences in float64: subtract each column's
        # least value first, exactly, in 64 bits (int8's -128 to 127 would wrap in its own).
        wide = np.uint64 if matrix.dtype.kind == "u" else np.int64
        low = matrix.min(axis=0).astype(wide)
        if wide is np.uint64 or float(matrix.max()) - float(low.min()) < 2.0**62:
            matrix = matrix.astype(wide) - low
    matrix = matrix.astype(np.float64)
    matrix = matrix - np.median(matrix, axis=0)
    return matrix / np.abs(matrix).max()


def _unbiased(trace: float, products: float, sum1: float, sum2: float, n: int) -> float:
    """Return n (n - 3) times the unbiased HSIC of centred features, from tr(KL) and diagonals.

    With K1 = 0 for centred features, Song et al.'s estimator reduces to tr(KL),
    the diagonals d = ||x_i||^2 through the sum of their products d1 . d2 and
    their sums (the factor 1 / (n (n - 3)) cancels in CKA). It loses digits to
    cancellation where one example's activations are far larger than all the
    others' (a millionfold costs about 1e-5 relative).
    """
    return trace - n / (n - 2) * products + sum1 * sum2 / ((n - 1) * (n - 2))


def _hsic(x: np.ndarray, y: np.ndarray, debiased: bool) -> tuple[float, ...]:
    """Return HSIC(X, Y), HSIC(X, X) and HSIC(Y, Y), up to one common factor, and two scales.

    The scales are the largest terms summed into HSIC(X, X) and HSIC(Y, Y): their
    rounding is a few units in the last place of these, so an estimate not above
    1e-12 of its scale cannot be told from 0.

    `x` and `y` need not be centred. Through the (N x N) Gram matrices where they are
    cheaper than the (features x features) products, which they are when N is smaller
    than the numbers of features; the debiased estimator is then computed term by
    term on the Gram matrices with their diagonals zeroed, which keeps the digits
    that the closed form (:func:`_unbiased`) loses to cancellation.
    """
    n, p = x.shape
    q = y.shape[1]
    if n * n * (p + q) < n * (p * q + p * p + q * q):
        if not debiased:  # the unbiased estimator needs no centring; the plain one does
            x, y = x - x.mean(axis=0), y - y.mean(axis=0)
        k, l = x @ x.T, y @ y.T
        if not debiased:
            return float(np.sum(k * l)), float(np.sum(k * k)), float(np.sum(l * l)), 1.0, 1.0
        np.fill_diagonal(k, 0.0)
        np.fill_diagonal(l, 0.0)
        sk, sl = k.sum(axis=1), l.sum(axis=1)

        def unbiased(k1, k2, s1, s2):
            return (
                float(np.sum(k1 * k2))
                + s1.sum() * s2.sum() / ((n - 1) * (n - 2))
                - 2 / (n - 2) * float(s1 @ s2)
            )

        scales = float(np.sum(k * k)), float(np.sum(l * l))
        return unbiased(k, l, sk, sl), unbiased(k, k, sk, sk), unbiased(l, l, sl, sl), *scales
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    xy = float(np.sum((x.T @ y) ** 2))
    xx = float(np.sum((x.T @ x) ** 2))
    yy = float(np.sum((y.T @ y) ** 2))
    if not debiased:
        return xy, xx, yy, 1.0, 1.0
    dx, dy = np.sum(x * x, axis=1), np.sum(y * y, axis=1)
    hsic = (
        _unbiased(xy, float(dx @ dy), dx.sum(), dy.sum(), n),
        _unbiased(xx, float(dx @ dx), dx.sum(), dx.sum(), n),
        _unbiased(yy, float(dy @ dy), dy.sum(), dy.sum(), n),
    )
    return *hsic, xx, yy


def _fewest(debiased: bool) -> int:
    """Return the fewest examples CKA is defined on: 2, or 4 for the unbiased HSIC estimator."""
    return 4 if debiased else 2


def _too_few(n: int, debiased: bool, noun: str) -> ValueError:
    """Return the error for `n` examples (`noun`: what they are), fewer than CKA needs."""
    what = "the debiased estimator needs" if debiased else "CKA needs"
    return ValueError(f"{what} at least {_fewest(debiased)} {noun}; got {n}")


def cka(a: object, b: object, *, debiased: bool = False) -> float:
    """Return the linear centred kernel alignment of two activation arrays.

    Each array holds the activations of the same N examples, in the same
    order, along its first axis; everything after it is flattened into
    features, so a layer's (N, H, W, C) maps compare with another's (N, D)
    vectors. With X and Y the centred (N, features) matrices,

    ``CKA = ||X'Y||² / (||X'X|| ||Y'Y||)`` (Frobenius norms),

    the normalised Hilbert-Schmidt independence criterion (HSIC) of their
    linear kernels (Kornblith et al., 2019). It is 1 when one set of
    activations is a rotation, an isotropic scaling or an offset of the
    other (``cka(a, a)`` is 1 up to rounding), it does not change when
    either is rotated, scaled or offset, and it lies in [0, 1].

    The plain estimate is biased upwards when N is small against the
    number of features: unrelated activations of 20 examples can score
    well above 0.5. ``debiased=True`` uses the unbiased estimator of HSIC
    (Song et al., 2012) in both the numerator and the normalisation, as
    Nguyen et al. (2021) do: unrelated activations then score about 0 at
    any N (a little above or below), and the value is no longer bound to
    [0, 1]. Prefer it when N is not much larger than the number of
    features.

    The computation is in float64, on the activations less their medians
    and scaled to a largest magnitude of 1 (CKA does not change), so any
    magnitude gives the same answer; through the (features x features)
    cross products or the (N x N) Gram matrices, whichever is cheaper. With
    ``debiased=True`` and more examples than features, an example whose
    activations are a millionfold larger than all the others' costs about
    five of the sixteen digits to cancellation.

    Parameters
    ----------
    a, b : array_like
        Activations (N, ...) and (N, ...): real numbers, the same N, any
        number of features each. At least 2 examples, 4 with `debiased`.
    debiased : bool, default False
        Use the unbiased HSIC estimator.

    Returns
    -------
    float
        The CKA of `a` and `b`.

    Raises
    ------
    ValueError
        If `a` and `b` hold different numbers of examples, too few
        examples, values that are not finite, or no features; or if either
        is the same for every example (constant activations carry no
        information and CKA is undefined), or, with `debiased`, if the
        unbiased estimate of either's own HSIC is not positive (too few
        examples for that estimator).
    TypeError
        If `a` or `b` is not an array of real numbers, or `debiased` is
        not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import cka
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(500, 20))
    >>> rotation, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    >>> round(cka(a, 3 * a @ rotation + 1), 6)
    1.0
    >>> unrelated = rng.normal(size=(500, 20))
    >>> round(cka(a, unrelated), 2)
    0.04
    >>> abs(cka(a, unrelated, debiased=True)) < 0.01
    True
    """
    if not isinstance(debiased, (bool, np.bool_)):
        raise TypeError(f"debiased must be True or False; got {debiased!r}")
    x, y = _features(a, "a"), _features(b, "b")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            "a and b must hold the activations of the same examples, the same number along "
            f"the first axis; got {n} and {y.shape[0]} (shapes {np.shape(a)} and {np.shape(b)})"
        )
    if n < _fewest(debiased):
        raise _too_few(n, debiased, "examples")
    x, y = _normalised(x, "a"), _normalised(y, "b")
    xy, xx, yy, scale_x, scale_y = _hsic(x, y, debiased)
    if not debiased:
        # In [0, 1] by Cauchy-Schwarz; rounding alone could step past 1.
        return float(min(1.0, xy / (np.sqrt(xx) * np.sqrt(yy))))
    for value, scale, name in ((xx, scale_x, "a"), (yy, scale_y, "b")):
        if not value > 1e-12 * scale:  # not told from 0 by rounding
            raise ValueError(
                f"the unbiased estimate of {name}'s own HSIC is {value / scale:.3g} of its "
                f"scale, not positive: {n} examples are too few for debiased CKA here "
                "(or one example alone differs from the others); use more examples or "
                "debiased=False"
            )
    return float(xy / (np.sqrt(xx) * np.sqrt(yy)))


# --- every layer of one model against every layer of another, streamed -----------------------

#: Images whose activations are gathered before their products are added into the sums:
#: larger blocks pay the float64 additions into the (features x features) sums less often.
BLOCK_IMAGES = 2048
#: The largest affine map (input features x output features) that stands for a layer.
MAX_MAP = 2**24
#: The first block's images on which a layer's affine map must give its outputs.
_CHECKED_ROWS = 256


class _Base:
    """Sums over examples of one tensor's values (a layer's output or input): CKA's statistics.

    The values are shifted by the first block's mean and scaled by a power of 2
    (CKA changes with neither), so that the float32 products of a block are of
    numbers near 1 and the centring that follows cancels little: the sums are of
    z' = (z - shift) * scale, whose mean over all examples is small.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.shift: np.ndarray | None = None
        self.scale = 1.0
        self.total = np.zeros(width)  # sum of z'
        self.gram = np.zeros((width, width))  # sum of z' z'^T

    def add(self, out: np.ndarray) -> np.ndarray:
        """Add one block's values to the sums and return them as z' (n, width), float32."""
        z = out.reshape(len(out), -1)
        if self.shift is None:
            self.shift = z.mean(axis=0, dtype=np.float64).astype(np.float32)
            largest = float(np.abs(z - self.shift).max())
            self.scale = float(2.0 ** -np.floor(np.log2(largest))) if largest > 0 else 1.0
        moved = (z - self.shift) * np.float32(self.scale)
        self.total += moved.sum(axis=0, dtype=np.float64)
        self.gram += np.dot(moved.T, moved)  # BLAS's syrk: half the products of a full one
        return moved


class _View:
    """A requested layer: its activations, less an offset and scaled, are x' = z' W of a base.

    `weights` W is the layer's affine map from its input (the base) where it has one
    (:func:`cnnviz._graph.affine`, checked on the first block), else None (the base is
    the layer's own output, W the identity). Only its Gram matrix W W^T, the `metric`
    of the base's space, is kept. The view's own sums are of a = ||x'||^2, for the
    debiased estimator, and its least and largest values, to tell a constant layer.
    """

    def __init__(self, name: str, base: int, weights=None, bias=None, metric=None) -> None:
        self.name, self.base = name, base
        self.weights, self.bias = weights, bias
        self.metric = metric  # W W^T, float64 (None: the identity)
        self.offset: np.ndarray | None = None  # the layer's output at the base's shift
        self.low = self.high = None
        self.norms = 0.0  # sum of a
        self.norms2 = 0.0  # sum of a^2

    def add(self, out: np.ndarray, base: _Base, model: keras.Model) -> np.ndarray:
        """Take one block of the layer's activations; return their a (n,), float64."""
        x = out.reshape(len(out), -1)
        if not np.isfinite(x).all():
            raise ValueError(
                f"layer {self.name!r} of model {model.name!r} gives NaN or infinite "
                "activations for these images: CKA needs finite ones"
            )
        if self.offset is None:
            self.offset = (
                base.shift
                if self.weights is None
                else (base.shift @ self.weights + self.bias).astype(np.float32)
            )
            self.low, self.high = x.min(axis=0), x.max(axis=0)
        else:
            self.low = np.minimum(self.low, x.min(axis=0))
            self.high = np.maximum(self.high, x.max(axis=0))
        moved = (x - self.offset) * np.float32(base.scale)
        norms = np.einsum("ij,ij->i", moved, moved, dtype=np.float64)
        self.norms += norms.sum()
        self.norms2 += norms @ norms
        return norms

    @property
    def constant(self) -> bool:
        return bool(np.array_equal(self.low, self.high))


def _affine_map(layer: keras.layers.Layer, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Return W (inputs, outputs) and b (outputs,) of an affine layer: f(z) = z W + b."""
    width = int(np.prod(shape))
    zero = keras.ops.convert_to_numpy(layer(np.zeros((1, *shape), np.float32), training=False))
    basis = np.eye(width, dtype=np.float32).reshape(width, *shape)
    images = keras.ops.convert_to_numpy(layer(basis, training=False))
    bias = zero.reshape(-1)
    return images.reshape(width, -1) - bias, bias


def _stands_for(
    z: np.ndarray, out: np.ndarray, weights: np.ndarray, bias: np.ndarray, metric: np.ndarray
) -> bool:
    """Say whether a layer's input `z` may stand for its output `out` through its map.

    Checked on the first block: the map must give the layer's own outputs
    for its first images (to 1e-4 of their largest magnitude), and the
    layer's centred sum of squares over the whole block, the quantity CKA is
    made of, must come out the same through the map and the input's float32
    products as from the outputs themselves (to 1e-5): where the map's weights cancel (a difference of
    nearly equal inputs, scaled up), rounding in the input's products would
    be magnified, and the layer stands for itself instead. `metric` is the
    map's W W^T, in float64.
    """
    flat_z = z.reshape(len(z), -1)
    actual = out.reshape(len(out), -1).astype(np.float64)
    some = slice(0, _CHECKED_ROWS)  # Keras' own affine kinds: a sample tells a wrong map
    made = flat_z[some] @ weights + bias
    if not np.abs(made - actual[some]).max() <= 1e-4 * max(float(np.abs(actual).max()), 1e-30):
        return False
    centred = (flat_z - flat_z.mean(axis=0, dtype=np.float64)).astype(np.float32)
    largest = float(np.abs(centred).max()) or 1.0
    centred *= np.float32(1 / largest)
    gram = np.dot(centred.T, centred).astype(np.float64)
    through = float(np.sum(gram * metric))
    direct = float(np.sum((actual - actual.mean(axis=0)) ** 2)) / largest**2
    return abs(through - direct) <= 1e-5 * direct if direct > 0 else through == 0


class _Side:
    """One model's layers to compare, their bases and the sums over them."""

    def __init__(self, model: keras.Model, names: tuple[str, ...], argument: str) -> None:
        self.model, self.names, self.argument = model, names, argument
        self.unique = list(dict.fromkeys(names))
        _, _, calls = _graph.trace(model)
        found = [_graph.find(calls, name) for name in self.unique]
        # A layer that may be affine in its input, when the map is small enough to hold and
        # not wider than the layer's own output: its input (the base) stands for it.
        self.candidates = []
        for name, (layer, given, out) in zip(self.unique, found, strict=True):
            if not _graph.affine(layer) or not hasattr(given, "shape"):  # one input tensor
                continue
            shape_in, shape_out = tuple(given.shape[1:]), tuple(out.shape[1:])
            if None in shape_in or None in shape_out:
                continue
            p, q = int(np.prod(shape_in)), int(np.prod(shape_out))
            if p <= q and p * q <= MAX_MAP:
                self.candidates.append(name)
        self.extract = _graph.outputs(model, self.unique, self.candidates)
        self.layers = {name: layer for name, (layer, _, _) in zip(self.unique, found, strict=True)}
        self.views: list[_View] = []
        self.bases: list[_Base] = []
        self.sources: list[int] = []  # each base's index into the extractor's outputs
        self.shapes: list[tuple] | None = None  # each output's shape, from the first images

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Return the requested layers' outputs for `x`, then the candidates' inputs."""
        result = self.extract(x, training=False)
        result = list(result) if isinstance(result, (list, tuple)) else [result]
        outs = [keras.ops.convert_to_numpy(out) for out in result]
        shapes = [out.shape[1:] for out in outs]
        if self.shapes is None:
            self.shapes = shapes
        for name, first, now in zip(self.unique, self.shapes, shapes, strict=False):
            if first != now:  # a model of any input size, given images of several sizes
                raise ValueError(
                    f"layer {name!r} of {self.argument} {self.model.name!r} gives outputs of "
                    f"shape {first} for some images and {now} for others (images of different "
                    "sizes, for a model that takes any size): CKA compares the same units over "
                    "all images; give images of one size"
                )
        return outs

    def plan(self, outs: list[np.ndarray]) -> None:
        """Decide each layer's base on the first block: an affine map checked on its images."""
        count = len(self.unique)
        _, _, calls = _graph.trace(self.model)
        tensors = [_graph.find(calls, name)[2] for name in self.unique] + [
            _graph.find(calls, name)[1] for name in self.candidates
        ]
        where: dict[int, int] = {}  # a tensor (by identity) -> its base

        def base_of(index: int) -> int:
            key = id(tensors[index])
            if key not in where:
                where[key] = len(self.bases)
                self.bases.append(_Base(int(np.prod(outs[index].shape[1:]))))
                self.sources.append(index)
            return where[key]

        for i, name in enumerate(self.unique):
            if name in self.candidates:
                k = count + self.candidates.index(name)
                weights, bias = _affine_map(self.layers[name], outs[k].shape[1:])
                metric = weights.astype(np.float64) @ weights.T  # once, for the check and the view
                if _stands_for(outs[k], outs[i], weights, bias, metric):
                    self.views.append(_View(name, base_of(k), weights, bias, metric))
                    continue
            self.views.append(_View(name, base_of(i)))

    def add(self, outs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Add one block; return its z' of every base side by side and each view's a."""
        if not self.bases:
            self.plan(outs)
        moved = [base.add(outs[k]) for base, k in zip(self.bases, self.sources, strict=True)]
        norms = [
            view.add(outs[i], self.bases[view.base], self.model)
            for i, view in enumerate(self.views)
        ]
        z = moved[0] if len(moved) == 1 else np.concatenate(moved, axis=1)
        return z, np.stack(norms, axis=1)

    @property
    def edges(self) -> np.ndarray:
        return np.cumsum([0] + [base.width for base in self.bases])


def _in(metric: np.ndarray | None, a: np.ndarray, b: np.ndarray) -> float:
    """Return a M b^T, the inner product of a base space (M None: the identity)."""
    return float(a @ b) if metric is None else float(a @ metric @ b)


def _centred_trace(n: int, cross, u, v, mx, my) -> float:
    """Return ||W^T (cross - n u v^T) W2||^2 through the metrics M = W W^T (None: identity)."""
    if mx is None and my is None:  # expanded: no copy of a (p, q) matrix
        trace = float(np.vdot(cross, cross)) - 2 * n * float(u @ cross @ v)
        return trace + n * n * float(u @ u) * float(v @ v)
    centred = cross - n * np.outer(u, v)  # at most a map's input wide on one side
    if mx is None:
        return float(np.sum((centred @ my) * centred))
    if my is None:
        return float(np.sum((mx @ centred) * centred))
    return float(np.sum(mx * (centred @ my @ centred.T)))


def _hsic_from_sums(
    n: int,
    cross: np.ndarray,
    mean_x: np.ndarray,
    mean_y: np.ndarray,
    metrics: tuple[np.ndarray | None, np.ndarray | None],
    moments: tuple[float, float, float, np.ndarray, np.ndarray] | None,
    trace: float | None = None,
) -> float:
    """Return HSIC of centred x = z W and y = z2 W2, up to a common factor, from sums over n examples.

    `cross` is the sum of z z2^T over the examples, `mean_x` and `mean_y` the
    bases' means, `metrics` W W^T and W2 W2^T (None for the identity): the
    layers' sums are never formed, only inner products in the bases' spaces.
    `moments` (debiased only) holds the sums of a b, a and b (a = ||x||^2,
    b = ||y||^2), of a z2 and of b z; the centred squared norms A and B are
    expanded in them: sum A B = sum a b - 2 v.(sum a y) - 2 u.(sum b x)
    + |v|^2 sum a + |u|^2 sum b + 4 u^T (sum x y^T) v - 3 n |u|^2 |v|^2, with u and
    v the layers' means. `trace`, the biased HSIC (this function without
    `moments`), is computed here unless it is given.
    """
    mx, my = metrics
    if trace is None:
        trace = _centred_trace(n, cross, mean_x, mean_y, mx, my)
    if moments is None:
        return trace
    ab, a, b, az2, bz = moments
    uu, vv = _in(mx, mean_x, mean_x), _in(my, mean_y, mean_y)
    ucv = float(
        (mean_x if mx is None else mean_x @ mx) @ cross @ (mean_y if my is None else my @ mean_y)
    )
    products = ab - 2 * _in(my, mean_y, az2) - 2 * _in(mx, mean_x, bz) + vv * a + uu * b
    products += 4 * ucv - 3 * n * uu * vv
    return _unbiased(trace, products, a - n * uu, b - n * vv, n)


def _both(model_a, model_b, images, scale, steps) -> tuple:
    """Check two models that are to be given the same images; return them and the chunks.

    The chunks, ``(x, x_b)`` pairs of float32 images for model_a and model_b (the
    same pixels, checked against each model's input), are read once, lazily; the
    count is the number of images where it is known before reading (an array).
    """
    model_a = _graph.image_model(model_a, "model_a")
    model_b = _graph.image_model(model_b, "model_b")
    shape_a, shape_b = (tuple(m.inputs[0].shape[1:]) for m in (model_a, model_b))
    if len(shape_a) != len(shape_b) or any(
        a is not None and b is not None and a != b for a, b in zip(shape_a, shape_b, strict=True)
    ):
        raise ValueError(
            "model_a and model_b must take images of the same shape, since both are given "
            f"the same images; model_a takes {shape_a} and model_b {shape_b}"
        )
    range_a, range_b = _graph.input_range(model_a), _graph.input_range(model_b)
    if range_a is not None and range_b is not None and range_a != range_b:
        raise ValueError(
            "model_a and model_b must take pixels in the same range, since both are given "
            f"the same images; model_a takes [{range_a[0]:g}, {range_a[1]:g}] and model_b "
            f"[{range_b[0]:g}, {range_b[1]:g}]"
        )
    chunk = None if None in shape_b else _batches.chunk_size(model_b)
    batches = _batches.source(
        model_a, images, steps=steps, chunk=chunk, scale=scale, takes_scale=True
    )
    chunks = ((x, _batches.image_batch(x, model_b, "images", one_image=False)) for x, _ in batches)
    return model_a, model_b, chunks, batches.count


def layer_similarity(
    model_a: keras.Model,
    model_b: keras.Model,
    images: object,
    *,
    layers_a: Sequence[str | int] | None = None,
    layers_b: Sequence[str | int] | None = None,
    debiased: bool = False,
    scale: bool | None = None,
    steps: int | None = None,
) -> dict[str, object]:
    """Return the CKA of every layer of one model with every layer of another, over a data set.

    Both models are given the same images, and every requested layer's
    activations are compared with :func:`cka`'s linear CKA, the value
    :func:`cka` gives on the whole set's activations (not a mean over
    minibatches, which is biased): the images are read once, a block at a
    time, and the sums that CKA needs (each layer's sums of activations
    and of their products, and each pair of layers' cross products) are
    added up, so memory does not grow with the number of images.

    Parameters
    ----------
    model_a, model_b : keras.Model
        Built Keras image models with one input each, taking images of the
        same shape (functional, Sequential or nested; they may be one and
        the same model).
    images : array_like or iterable
        Images (N, H, W, C), or a stream of batches (a ``tf.data.Dataset``
        or any iterable of batches or of ``(images, labels)`` pairs, labels
        ignored), read once. ``uint8`` images are scaled as for
        :func:`~cnnviz.layer_outputs`, once for both models, which must
        then take pixels in the same range.
    layers_a, layers_b : sequence of str or int, optional
        Layers of each model by name (nested models' layers included) or
        index into ``model.layers``; by default every layer after the input.
        The input layer may be asked for: its activations are the images.
    debiased : bool, default False
        Use the unbiased HSIC estimator, as :func:`cka` does.
    scale : bool, optional
        Whether ``uint8`` images are divided by 255, as for
        :func:`~cnnviz.layer_outputs`.
    steps : int, optional
        The number of batches to read from a stream; needed for one that
        never ends.

    Returns
    -------
    dict
        ``layers_a`` and ``layers_b``, tuples of layer names, and ``cka``, a
        float64 array (len(layers_a), len(layers_b)): row i, column j is the
        CKA of layer ``layers_a[i]`` with layer ``layers_b[j]``. A layer
        whose activations are the same for every image (a dead layer) has
        NaN in its row or column, with a warning: CKA is undefined for it;
        so does, with `debiased`, a layer for which the images are too few
        for the unbiased estimate of its own HSIC to be positive. Also
        ``n``, the number of images read.

    Raises
    ------
    TypeError
        If a model is not a Keras model, `images` not images, or the layer
        lists hold other things than names and indices.
    ValueError
        If a model does not take images, the two take different shapes or
        pixel ranges, a layer is unknown, the images are fewer than CKA
        needs (2, or 4 with `debiased`), or a layer's activations are not
        finite; and as for :func:`~cnnviz.layer_outputs`.

    Notes
    -----
    The sums of products are kept in float64, one (p, q) matrix for every
    pair of layers of p and q features and one (p, p) for every layer. A
    layer that is an affine map of its one input (a convolution or dense
    layer without an activation, batch normalization, flattening, padding,
    average pooling; Keras' own kinds, not subclasses) is carried by that
    input where the input is smaller, and only the map's Gram matrix is
    kept: LeNet-5's ``conv1`` by the 784 pixels instead of 3,456 or 4,704
    values. The map is checked on the first block's images (it must give
    the layer's outputs and their centred sum of squares), and a layer
    that fails stands for itself. For every layer of the two LeNet-5
    models that is about 1 GB of sums, plus one block of ``BLOCK_IMAGES``
    images' activations and their products: 1.9 GB in all, measured the
    same for 2,000 and for 60,000 images.
    The products of a block are computed in float32, on activations
    shifted by the first block's mean, and added up in float64: the result
    agrees with :func:`cka` on the whole set's activations to about 1e-6
    (2e-6 in the tests; with ``debiased=True`` and fewer than about 8
    images, whose estimate cancels most of its digits, to about 1e-4). The
    exception measured is a layer of a few units, whose few float32
    products carry more rounding: on 2,000 test images LeNet-5's ``op``
    (10 units) came within 2.4e-6 of :func:`cka` against ``same``'s, all
    ten layers asked for, and within 6e-6 asked for alone (against itself
    at another epoch).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import layer_similarity, lenet5
    >>> x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    >>> model = lenet5("valid")
    >>> result = layer_similarity(model, model, x, layers_a=["conv1", "fc1"],
    ...                           layers_b=["conv1", "fc1"])
    >>> result["layers_a"]
    ('conv1', 'fc1')
    >>> np.round(np.diag(result["cka"]), 6)  # every layer is itself: CKA 1
    array([1., 1.])
    """
    debiased = _checks.flag(debiased, "debiased")
    model_a, model_b, chunks, count = _both(model_a, model_b, images, scale, steps)
    side_a = _Side(model_a, _graph.layer_names(model_a, layers_a, "layers_a"), "model_a")
    side_b = _Side(model_b, _graph.layer_names(model_b, layers_b, "layers_b"), "model_b")
    if count is not None and count < _fewest(debiased):  # an array: said before any model runs,
        next(chunks, None)  # once its few images are read and checked (a NaN says so)
        raise _too_few(count, debiased, "images")
    sums: dict[str, np.ndarray] = {}
    n = 0

    def add(block: list[list[np.ndarray]]) -> None:
        za, a = side_a.add([np.concatenate(p) for p in zip(*block[0::2], strict=True)])
        zb, b = side_b.add([np.concatenate(p) for p in zip(*block[1::2], strict=True)])
        if not sums:
            sums["cross"] = np.zeros((za.shape[1], zb.shape[1]))  # sum of z_a z_b^T
            sums["ab"] = np.zeros((a.shape[1], b.shape[1]))  # sum of a b
            for key, norms, z in (
                ("a zb", a, zb),
                ("b za", b, za),
                ("a za", a, za),
                ("b zb", b, zb),
            ):
                sums[key] = np.zeros((norms.shape[1], z.shape[1]))
        edges = side_b.edges
        for j in range(len(edges) - 1):  # one base of model_b at a time: a small temporary
            sums["cross"][:, edges[j] : edges[j + 1]] += za.T @ zb[:, edges[j] : edges[j + 1]]
        sums["ab"] += a.T @ b
        for key, norms, z in (("a zb", a, zb), ("b za", b, za), ("a za", a, za), ("b zb", b, zb)):
            # In float32, each layer's a scaled by a power of 2 into float32's range first.
            top = norms.max(axis=0)
            scale = 2.0 ** -np.ceil(np.log2(np.where(top > 0, top, 1.0)))
            product = (norms * scale).T.astype(np.float32) @ z
            sums[key] += product / scale[:, np.newaxis]

    block: list[list[np.ndarray]] = []
    rows = 0
    for x, x_b in chunks:
        block += [side_a.run(x), side_b.run(x_b)]  # alternately: model_a's, model_b's
        rows += len(x)
        if rows >= BLOCK_IMAGES:
            add(block)
            n, block, rows = n + rows, [], 0
    if block:
        add(block)
        n += rows
    if n < _fewest(debiased):
        raise _too_few(n, debiased, "images")

    def own(side: _Side, key: str) -> list[float]:
        """Return each view's HSIC with itself, NaN (with a warning) where CKA is undefined."""
        edges, values = side.edges, []
        for i, view in enumerate(side.views):
            base = side.bases[view.base]
            cols = slice(edges[view.base], edges[view.base + 1])
            mean = base.total / n
            metrics = (view.metric, view.metric)
            moments = (view.norms2, view.norms, view.norms, sums[key][i, cols], sums[key][i, cols])
            if view.constant:
                why = f"gives the same activations for all {n} images: CKA is undefined for it"
            else:
                scale = _hsic_from_sums(n, base.gram, mean, mean, metrics, None)
                value = (
                    _hsic_from_sums(n, base.gram, mean, mean, metrics, moments, trace=scale)
                    if debiased
                    else scale
                )
                if value > 1e-6 * scale:  # float32 products: not told from 0 below that
                    values.append(value)
                    continue
                why = (
                    f"has an unbiased estimate of its own HSIC that is not positive "
                    f"({value / scale:.3g} of its scale): {n} images are too few for debiased "
                    "CKA here; use more images or debiased=False"
                )
            warnings.warn(
                f"layer {view.name!r} of {side.argument} {side.model.name!r} {why} (NaN)",
                RuntimeWarning,
                stacklevel=3,
            )
            values.append(np.nan)
        return values

    own_a, own_b = own(side_a, "a za"), own(side_b, "b zb")
    edges_a, edges_b = side_a.edges, side_b.edges
    result = np.full((len(side_a.views), len(side_b.views)), np.nan)
    for i, va in enumerate(side_a.views):
        for j, vb in enumerate(side_b.views):
            if np.isnan(own_a[i]) or np.isnan(own_b[j]):
                continue
            rows_a = slice(edges_a[va.base], edges_a[va.base + 1])
            cols_b = slice(edges_b[vb.base], edges_b[vb.base + 1])
            moments = (
                sums["ab"][i, j],
                va.norms,
                vb.norms,
                sums["a zb"][i, cols_b],
                sums["b za"][j, rows_a],
            )
            xy = _hsic_from_sums(
                n,
                sums["cross"][rows_a, cols_b],
                side_a.bases[va.base].total / n,
                side_b.bases[vb.base].total / n,
                (va.metric, vb.metric),
                moments if debiased else None,
            )
            value = xy / (np.sqrt(own_a[i]) * np.sqrt(own_b[j]))
            result[i, j] = value if debiased else min(1.0, value)
    index_a = {name: i for i, name in enumerate(side_a.unique)}
    index_b = {name: j for j, name in enumerate(side_b.unique)}
    rows = [index_a[name] for name in side_a.names]
    matrix = result[np.ix_(rows, [index_b[name] for name in side_b.names])]
    return {"layers_a": side_a.names, "layers_b": side_b.names, "cka": matrix, "n": n}


# --- channels of two layers paired one to one -------------------------------------------------


def _centred_on(out: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Return feature maps cropped evenly on each side to `size` (H, W): units paired by position."""
    top, left = ((have - want) // 2 for have, want in zip(out.shape[1:3], size, strict=True))
    return out[:, top : top + size[0], left : left + size[1]]


def _common_size(size_a: tuple, size_b: tuple, what: str = "") -> tuple[int, int]:
    """Return the size two maps are paired at, or refuse sizes that differ by an odd number."""
    if any((a - b) % 2 for a, b in zip(size_a, size_b, strict=True)):
        raise ValueError(
            f"layer_a and layer_b give maps of {size_a[0]}x{size_a[1]} and "
            f"{size_b[0]}x{size_b[1]} units{what}: they can be paired around their centres "
            "only where the sizes differ by an even number of units"
        )
    return tuple(min(a, b) for a, b in zip(size_a, size_b, strict=True))


def match_channels(
    model_a: keras.Model,
    model_b: keras.Model,
    images: object,
    layer_a: str | int,
    layer_b: str | int,
    *,
    scale: bool | None = None,
    steps: int | None = None,
) -> dict[str, object]:
    """Pair the channels of two layers one to one, so that their activations correlate most.

    Each channel of `layer_a` is compared with each channel of `layer_b` by
    the correlation (Pearson's) of their activations over all the images and
    all positions, and the pairing that maximises the sum of the paired
    correlations is found with the Hungarian method
    (SciPy's ``scipy.optimize.linear_sum_assignment``), as Li et al. do
    ("Convergent Learning: Do different neural networks learn the same
    representations?", ICLR 2016). A copy of a model whose channels are
    permuted is matched back exactly, with correlations of 1. The images are
    read once, in memory that does not grow with their number.

    Parameters
    ----------
    model_a, model_b : keras.Model
        Built Keras image models with one input each, taking images of the
        same shape (functional, Sequential or nested; possibly the same).
    images : array_like or iterable
        Images (N, H, W, C) or a stream of batches, as for
        :func:`layer_similarity`.
    layer_a, layer_b : str or int
        A layer of each model, by name (nested models' layers included) or
        index into ``model.layers``: both give feature maps (N, H, W, C), or
        both vectors (N, C). Maps of different sizes are paired unit by unit
        around their centres: the larger is cropped evenly on each side to
        the size of the smaller, which pairs the units that look at the same
        pixels when both grids are centred on the image, as for ``valid``
        and ``same`` padding (LeNet-5's conv1, 24x24 and 28x28, and conv2,
        8x8 and 14x14); sizes that differ by an odd number are refused.
    scale : bool, optional
        Whether ``uint8`` images are divided by 255, as for
        :func:`~cnnviz.layer_outputs`.
    steps : int, optional
        The number of batches to read from a stream.

    Returns
    -------
    dict
        ``layer_a`` and ``layer_b``, the layers' names; ``pairs``, int64
        (K, 2): channel ``pairs[k, 0]`` of `layer_a` with channel
        ``pairs[k, 1]`` of `layer_b`, K the smaller channel count, in the
        order of `layer_a`'s channels; ``correlation`` (K,), each pair's
        correlation; ``matrix`` (channels of `layer_a`, channels of
        `layer_b`), every correlation, float64; and ``n``, the images read. A
        channel whose activations never change has NaN correlations (with a
        warning) and is paired as if they were 0.

    Raises
    ------
    TypeError, ValueError
        As for :func:`layer_similarity`; ValueError also if one layer gives
        feature maps and the other vectors, or the maps' sizes differ by an
        odd number of units.

    Examples
    --------
    >>> import numpy as np
    >>> import keras
    >>> from cnnviz import lenet5, match_channels
    >>> model = lenet5("valid")
    >>> permuted = keras.models.clone_model(model)
    >>> weights = model.get_layer("conv1").get_weights()
    >>> order = [3, 0, 5, 1, 4, 2]
    >>> permuted.get_layer("conv1").set_weights([w[..., order] for w in weights])
    >>> x = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    >>> match = match_channels(model, permuted, x, "conv1", "conv1")
    >>> match["pairs"][:, 1].tolist()  # channel k of model is channel order.index(k)
    [1, 3, 5, 0, 4, 2]
    >>> np.round(match["correlation"], 6).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    from scipy.optimize import linear_sum_assignment

    model_a, model_b, chunks, _ = _both(model_a, model_b, images, scale, steps)
    name_a = _graph.layer_name(model_a, layer_a, "layer_a", input_ok=True)
    name_b = _graph.layer_name(model_b, layer_b, "layer_b", input_ok=True)
    shapes = []
    for model, name, argument in ((model_a, name_a, "layer_a"), (model_b, name_b, "layer_b")):
        shape = tuple(_graph.find(_graph.trace(model)[2], name)[2].shape[1:])
        if len(shape) not in (1, 3):
            raise ValueError(
                f"{argument} {name!r} must give feature maps (batch, height, width, channels) "
                f"or vectors (batch, channels); it gives {(None, *shape)}"
            )
        shapes.append(shape)
    shape_a, shape_b = shapes
    if len(shape_a) != len(shape_b):
        raise ValueError(
            "layer_a and layer_b must both give feature maps or both vectors, so that their "
            f"units pair up; got {(None, *shape_a)} and {(None, *shape_b)}"
        )
    if len(shape_a) == 3 and None not in shape_a[:2] + shape_b[:2]:
        _common_size(shape_a[:2], shape_b[:2])  # else checked on each batch's maps
    extract_a, extract_b = _graph.outputs(model_a, [name_a]), _graph.outputs(model_b, [name_b])
    sums: dict[str, np.ndarray] = {}
    n = 0
    for x, x_b in chunks:
        a = keras.ops.convert_to_numpy(extract_a(x, training=False))
        b = keras.ops.convert_to_numpy(extract_b(x_b, training=False))
        if a.ndim == 4:
            size = _common_size(a.shape[1:3], b.shape[1:3], " for these images")
            a, b = _centred_on(a, size), _centred_on(b, size)
        a = a.reshape(-1, a.shape[-1]).astype(np.float64)
        b = b.reshape(-1, b.shape[-1]).astype(np.float64)
        for values, layer, model in ((a, name_a, model_a), (b, name_b, model_b)):
            if not np.isfinite(values).all():
                raise ValueError(
                    f"layer {layer!r} of model {model.name!r} gives NaN or infinite "
                    "activations for these images: correlations need finite ones"
                )
        if not sums:  # shifted by the first chunk's means: the centring then cancels little
            sums.update(shift_a=a.mean(axis=0), shift_b=b.mean(axis=0), count=np.zeros(()))
            for key, width in (("a", a.shape[1]), ("b", b.shape[1])):
                sums[key], sums[key + "2"] = np.zeros(width), np.zeros(width)
            sums["ab"] = np.zeros((a.shape[1], b.shape[1]))
        a, b = a - sums["shift_a"], b - sums["shift_b"]
        sums["count"] += len(a)
        sums["a"] += a.sum(axis=0)
        sums["b"] += b.sum(axis=0)
        sums["a2"] += np.einsum("ij,ij->j", a, a)
        sums["b2"] += np.einsum("ij,ij->j", b, b)
        sums["ab"] += a.T @ b
        n += len(x)
    count = float(sums["count"])
    mean_a, mean_b = sums["a"] / count, sums["b"] / count
    covariance = sums["ab"] - count * np.outer(mean_a, mean_b)
    spread_a = np.sqrt(np.maximum(sums["a2"] - count * mean_a**2, 0.0))
    spread_b = np.sqrt(np.maximum(sums["b2"] - count * mean_b**2, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = covariance / np.outer(spread_a, spread_b)
    for spread, name, argument in ((spread_a, name_a, "layer_a"), (spread_b, name_b, "layer_b")):
        dead = np.flatnonzero(spread == 0)
        if dead.size:
            warnings.warn(
                f"channel(s) {dead.tolist()} of {argument} {name!r} give the same activation "
                f"everywhere on these {n} images: their correlations are undefined (NaN), "
                "and they are paired as if they were 0",
                RuntimeWarning,
                stacklevel=2,
            )
    matrix = np.clip(matrix, -1.0, 1.0)
    rows, columns = linear_sum_assignment(np.nan_to_num(matrix, nan=0.0), maximize=True)
    return {
        "layer_a": name_a,
        "layer_b": name_b,
        "pairs": np.stack([rows, columns], axis=1).astype(np.int64),
        "correlation": matrix[rows, columns],
        "matrix": matrix,
        "n": n,
    }
