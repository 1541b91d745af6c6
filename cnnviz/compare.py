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
    """Return activations as a float64 (N, features) matrix, or say what is wrong with them."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of activations (N, ...); got {x!r}")
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(
            f"{name} must be a numeric array of activations (N, ...); got dtype {array.dtype}"
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{name} must have a first axis of N examples; got a scalar")
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(
            f"{name} must hold at least one value per example; got shape {array.shape}"
        )
    matrix = array.reshape(array.shape[0], -1).astype(np.float64)
    bad = ~np.isfinite(matrix)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{name} must hold finite values; got {int(bad.sum())} NaN or infinite value(s), "
            f"the first in example {row}"
        )
    return matrix


def _products(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Return ||X'Y||_F^2, ||X'X||_F^2 and ||Y'Y||_F^2 of centred X, Y, by the cheaper route.

    These are tr(KL), tr(KK) and tr(LL) for the Gram matrices K = XX' and L = YY'
    of the N examples. With more examples than features the (features x features)
    products are cheaper; with fewer, the (N x N) Gram matrices.
    """
    n, p = x.shape
    q = y.shape[1]
    if n * n * (p + q) < n * (p * q + p * p + q * q):
        k, l = x @ x.T, y @ y.T
        return float(np.sum(k * l)), float(np.sum(k * k)), float(np.sum(l * l))
    return (
        float(np.sum((x.T @ y) ** 2)),
        float(np.sum((x.T @ x) ** 2)),
        float(np.sum((y.T @ y) ** 2)),
    )


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

    The computation is in float64, through the (features x features)
    cross products or the (N x N) Gram matrices, whichever is cheaper.

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
    for matrix, name in ((x, "a"), (y, "b")):
        if np.all(matrix == matrix[0]):  # exactly: the mean of equal values may round
            raise ValueError(
                f"{name} is the same for every example (no variance across the {n} examples): "
                "CKA is undefined"
            )
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    xy, xx, yy = _products(x, y)
    if not debiased:
        return float(xy / np.sqrt(xx * yy))
    # The unbiased HSIC (Song et al., 2012) of centred features, up to the factor
    # 1 / (n (n - 3)) that cancels in the ratio: with the Gram matrices' diagonals
    # d_x = ||x_i||² and d_y = ||y_i||², each term needs only those and tr(KL).
    dx, dy = np.sum(x * x, axis=1), np.sum(y * y, axis=1)

    def unbiased(trace: float, d1: np.ndarray, d2: np.ndarray) -> float:
        return trace - n / (n - 2) * float(d1 @ d2) + d1.sum() * d2.sum() / ((n - 1) * (n - 2))

    hsic_xy, hsic_xx, hsic_yy = unbiased(xy, dx, dy), unbiased(xx, dx, dx), unbiased(yy, dy, dy)
    for value, name in ((hsic_xx, "a"), (hsic_yy, "b")):
        if not value > 0:
            raise ValueError(
                f"the unbiased estimate of {name}'s own HSIC is {value:.3g}, not positive: "
                f"{n} examples are too few for debiased CKA here; use more examples or "
                "debiased=False"
            )
    return float(hsic_xy / np.sqrt(hsic_xx * hsic_yy))
