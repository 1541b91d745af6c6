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

import numpy as np

__all__ = ["cka"]


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


def _unbiased(trace: float, d1: np.ndarray, d2: np.ndarray, n: int) -> float:
    """Return n (n - 3) times the unbiased HSIC of centred features, from tr(KL) and diagonals.

    With K1 = 0 for centred features, Song et al.'s estimator reduces to tr(KL),
    the diagonals d = ||x_i||^2 and their sums (the factor 1 / (n (n - 3)) cancels
    in CKA). It loses digits to cancellation where one example's activations are far
    larger than all the others' (a millionfold costs about 1e-5 relative).
    """
    return trace - n / (n - 2) * float(d1 @ d2) + d1.sum() * d2.sum() / ((n - 1) * (n - 2))


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
    hsic = _unbiased(xy, dx, dy, n), _unbiased(xx, dx, dx, n), _unbiased(yy, dy, dy, n)
    return *hsic, xx, yy


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
    least = 4 if debiased else 2
    if n < least:
        what = "the debiased estimator needs" if debiased else "CKA needs"
        raise ValueError(f"{what} at least {least} examples; got {n}")
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
