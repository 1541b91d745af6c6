"""Figures of how a model does: one image's class probabilities, the confusion matrix, mistakes.

They draw what :mod:`cnnviz.evaluation` computes (:func:`~cnnviz.predict`,
:func:`~cnnviz.confusion_matrix`, :func:`~cnnviz.misclassified`): NumPy
arrays, never a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from .. import _checks
from ..data import CLASS_NAMES
from ._figures import (
    _DIVERGING,
    _SEQUENTIAL,
    _SUM_TOLERANCE,
    _bare,
    _class_names,
    _draw_image,
    _draw_map,
    _figure,
    _grey_images,
    _grid,
    _maps,
    _new_figure,
    _numbers,
    _probability_row,
    _sequence,
    _title,
)

#: How :func:`plot_confusion_matrix` may normalise the counts.
NORMALIZE = (None, "true", "pred", "all")
#: The grey of the cells drawn apart from the colour scale (the diagonal, with ``diagonal="mask"``).
_MASKED = "0.85"
#: How :func:`plot_confusion_matrix` may draw the diagonal: on the scale, or apart from it.
DIAGONAL = ("shade", "mask")


# --- plot_probabilities ----------------------------------------------------------------------


def plot_probabilities(
    probabilities: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw one image's class probabilities as horizontal bars.

    Parameters
    ----------
    probabilities : array_like
        (num_classes,) or (1, num_classes), e.g. a softmax output.
    class_names : sequence of str, default CLASS_NAMES
        One name per class.
    title : str, optional
        Title of the plot.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If there is more than one image, the number of classes does not
        match `class_names`, or the values are not probabilities (each in
        [0, 1], summing to 1 within 1e-3): logits are refused, not drawn as
        probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_probabilities
    >>> fig = plot_probabilities(np.full(10, 0.1))
    >>> len(fig.axes[0].patches)
    10
    """
    _sequence(class_names, "class_names")
    title = _title(title)
    p = np.asarray(probabilities)
    if not np.issubdtype(p.dtype, np.number) or p.dtype == np.bool_:
        raise ValueError(f"probabilities must be numbers; got dtype {p.dtype}")
    p = p.astype(float)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1 or p.size != len(class_names):
        raise ValueError(
            f"probabilities must be one image's ({len(class_names)},) or "
            f"(1, {len(class_names)}) scores, one per class name; got shape "
            f"{np.shape(probabilities)}"
        )
    if _probability_row(p[np.newaxis], class_names) is None:
        # Logits or scores drawn on a 0-to-1 axis labelled "Probability" would lie.
        raise ValueError(
            "probabilities must be class probabilities (each in [0, 1], summing to 1, as a "
            f"softmax gives); got values from {p.min():.4g} to {p.max():.4g} summing to "
            f"{p.sum():.4g}. For logits, apply a softmax first."
        )
    figure = fig if fig is not None else plt.figure(figsize=(6, 3.2), layout="constrained")
    figure = _new_figure(figure, 1, 1)
    margins = {}
    if figure.get_layout_engine() is None:
        # Fixed margins in inches where no layout engine makes room (e.g. a SubFigure
        # of a bigger figure): the class names on the left, a title above, the label below.
        width, height = figure.bbox.width / figure.dpi, figure.bbox.height / figure.dpi
        names = max(len(str(name)) for name in class_names)
        left, top, bottom = (0.2 + 0.075 * names) / width, 0.45 / height, 0.5 / height
        if left < 0.5 and top + bottom < 0.8:
            margins = {"left": left, "right": 1 - 0.2 / width, "top": 1 - top, "bottom": bottom}
    ax = figure.subplots(gridspec_kw=margins)
    positions = np.arange(p.size)
    best = int(np.argmax(p))
    colors = ["tab:orange" if i == best else "tab:blue" for i in positions]
    ax.barh(positions, p, color=colors)
    ax.set_yticks(positions, labels=list(class_names))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Probability")
    for i, value in enumerate(p):
        ax.text(min(value + 0.01, 0.85), i, f"{value:.3f}", va="center", fontsize="small")
    if title:
        ax.set_title(title)
    return figure


# --- plot_confusion_matrix -------------------------------------------------------------------


def plot_confusion_matrix(
    matrix: np.ndarray,
    *,
    class_names: Sequence[str] = CLASS_NAMES,
    normalize: str | None = None,
    diagonal: str = "shade",
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw a confusion matrix with its counts or rates in the cells and each class's recall.

    Rows are true classes and columns predicted classes, as
    :func:`cnnviz.confusion_matrix` returns them. Each row label ends with
    the class's recall (the diagonal cell over the row's count), whatever
    `normalize` is. Cells are shaded on ``Blues`` from 0 to the largest
    value (to 1 for rates of a row or column), with one colour bar; text
    is white on dark cells, black on light ones. The right answers on the
    diagonal of a good classifier dwarf every confusion, which then all
    look white: ``diagonal="mask"`` draws the diagonal in grey, off the
    scale (its values still written in it), and shades the other cells
    from 0 to the largest of them.

    Parameters
    ----------
    matrix : array_like
        (C, C) counts, non-negative integers.
    class_names : sequence of str, default CLASS_NAMES
        One name per class.
    normalize : {None, "true", "pred", "all"}, default None
        Counts; or each count divided by its row's sum (the true class),
        its column's sum (the predicted class) or the total.
    diagonal : {"shade", "mask"}, default "shade"
        Shade the diagonal on the scale with the other cells, or draw it
        in grey apart from the scale, which then runs from 0 to the
        largest value off the diagonal.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `matrix` is not square, holds negative, fractional or
        non-finite values, `class_names` does not name every class, or
        `normalize` or `diagonal` is not one of its choices.

    Examples
    --------
    >>> from cnnviz import plot_confusion_matrix
    >>> fig = plot_confusion_matrix([[8, 2], [1, 9]], class_names=["cat", "dog"],
    ...                             normalize="true")
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['0.80', '0.20', '0.10', '0.90']
    >>> [label.get_text() for label in fig.axes[0].get_yticklabels()]
    ['cat (recall 80.0%)', 'dog (recall 90.0%)']

    With the diagonal apart, the scale runs to the largest confusion:

    >>> fig = plot_confusion_matrix([[8, 2], [1, 9]], class_names=["cat", "dog"],
    ...                             diagonal="mask")
    >>> fig.axes[0].get_images()[0].norm.vmax
    2.0
    """
    counts = _numbers(matrix, "matrix")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0:
        raise ValueError(
            "matrix must be a square confusion matrix (C, C), rows the true classes; "
            f"got shape {counts.shape}"
        )
    _checks.finite(counts, "matrix")
    if (counts < 0).any() or (counts != np.round(counts)).any():
        bad = counts[(counts < 0) | (counts != np.round(counts))][0]
        raise ValueError(f"matrix must hold counts (integers of at least 0); got {bad:g}")
    names = _class_names(class_names, len(counts), f"matrix of shape {counts.shape}")
    normalize = _checks.one_of(normalize, NORMALIZE, "normalize")
    diagonal = _checks.one_of(diagonal, DIAGONAL, "diagonal")
    mask = diagonal == "mask"

    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diag(counts) / counts.sum(axis=1)
        if normalize is None:
            values = counts
        elif normalize == "true":
            values = counts / counts.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            values = counts / counts.sum(axis=0, keepdims=True)
        else:
            values = counts / counts.sum()
    diagonal_cells = np.eye(len(counts), dtype=bool)
    shaded = np.where(diagonal_cells, np.nan, values) if mask else values
    if mask:
        # The diagonal is off the scale: the confusions take all of it.
        top = float(np.nanmax(shaded, initial=0.0))
    else:
        # Rates of a row or column are compared on 0 to 1; counts and shares of all on 0 to the top.
        top = 1.0 if normalize in ("true", "pred") else float(np.nanmax(values, initial=0.0))
    if top == 0:
        # Nothing above 0 to shade (no confusion at all, no image, or a 1x1 matrix masked):
        # zeros are drawn white on a scale to 1, not on one to 1e-12 or NaN.
        top = 1.0
    if mask:
        scale = {
            None: f"count off the diagonal (0 to {top:.0f})",
            "true": f"fraction of the true class, off the diagonal (0 to {top:.3g})",
            "pred": f"fraction of the predicted class, off the diagonal (0 to {top:.3g})",
            "all": f"fraction of all images, off the diagonal (0 to {top:.3g})",
        }[normalize]
    else:
        scale = {
            None: f"count (0 to {top:.0f})",  # an integer: 2000000, not 2e+06
            "true": "fraction of the true class (each row sums to 1)",
            "pred": "fraction of the predicted class (each column sums to 1)",
            "all": f"fraction of all images (0 to {top:.3g})",
        }[normalize]

    # At least 4.6 inches: a 2x2 matrix's title and colour bar label are longer than its 2.2.
    size = max(1.0 + 0.6 * len(counts), 4.6)
    figure = _figure(fig, size + 2.6, size)
    ax = figure.subplots()
    image = ax.imshow(shaded, cmap="Blues", vmin=0, vmax=top, interpolation="nearest")
    if mask:
        for i in range(len(counts)):
            ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, facecolor=_MASKED, edgecolor="none"))
    small = "small" if len(counts) <= 10 else "x-small"
    for (i, j), value in np.ndenumerate(values):
        text = "-" if np.isnan(value) else (f"{value:.0f}" if normalize is None else f"{value:.2f}")
        dark = not np.isnan(shaded[i, j]) and shaded[i, j] > 0.5 * top
        colour = "white" if dark else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=small)
    ticks = np.arange(len(counts))
    ax.set_xticks(ticks, labels=names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(
        ticks,
        labels=[
            f"{name} (recall {'n/a' if np.isnan(r) else f'{r:.1%}'})"
            for name, r in zip(names, recall, strict=True)
        ],
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class (recall: diagonal / row)")
    title = {
        None: "Confusion matrix: counts",
        "true": "Confusion matrix: rates per true class (normalize='true')",
        "pred": "Confusion matrix: rates per predicted class (normalize='pred')",
        "all": "Confusion matrix: shares of all images (normalize='all')",
    }[normalize]
    ax.set_title(title + ("\ndiagonal (right answers) in grey, off the scale" if mask else ""))
    bar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(scale)
    return figure


# --- plot_mistakes ---------------------------------------------------------------------------


def _probability_rows(probabilities: object, count: int) -> np.ndarray:
    p = _numbers(probabilities, "probabilities")
    if p.ndim != 2 or len(p) != count or p.shape[1] < 2:
        raise ValueError(
            f"probabilities must be one row of class probabilities per image, ({count}, C); "
            f"got shape {p.shape}"
        )
    _checks.finite(p, "probabilities")
    bad = np.flatnonzero((p < 0).any(axis=1) | (p > 1).any(axis=1))
    bad = np.union1d(bad, np.flatnonzero(np.abs(p.sum(axis=1) - 1) > _SUM_TOLERANCE))
    if bad.size:
        raise ValueError(
            "probabilities must be class probabilities (each in [0, 1], each row summing to 1, "
            f"as a softmax gives); {bad.size} row(s) are not, e.g. row {bad[0]} summing to "
            f"{p[bad[0]].sum():.4g}"
        )
    return p


def _probability_text(value: float) -> str:
    """`value` as a tile's title shows it: two decimals from 0.1 up, two significant digits below.

    One rule for both of a tile's probabilities, so that one number is never written two ways
    (``0.1`` over ``0.10``); below 0.1, ``3e-09`` or ``0.0012``, not ``0.00``.
    """
    value = float(value) + 0.0  # -0.0 (a zero negated on the way) is written 0, not -0
    return f"{value:.2f}" if value >= 0.0995 else f"{value:.2g}"


def plot_mistakes(
    images: np.ndarray,
    y_true: np.ndarray,
    probabilities: np.ndarray,
    indices: Sequence[int] | np.ndarray,
    *,
    maps: np.ndarray | None = None,
    class_names: Sequence[str] = CLASS_NAMES,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    r"""Draw chosen images, each titled with its true and predicted class and their probabilities.

    Each tile is titled ``true X (p=0.012)`` over ``predicted Y (p=0.97)``:
    the true class's probability (it tells a near miss from a confident
    mistake, where the predicted class's probability is near 1 for both)
    and the predicted (most probable) class's, each to two decimals from
    0.1 up and to two significant digits below, so that one of 1e-9 is
    not shown as 0 (``p=1e-09``). With `maps`, each
    map is overlaid on its image (opacity growing with magnitude), each
    divided by its own largest absolute value, so that all tiles share one
    colour bar from -1 to 1 (``RdBu_r``, if any map is signed) or from 0 to
    1 (``magma``).

    Parameters
    ----------
    images : array_like
        (N, H, W), (N, H, W, 1) or (N, H, W, 3); ``uint8`` or float.
    y_true : array_like of int
        True labels (N,).
    probabilities : array_like
        Class probabilities (N, C), for example from :func:`cnnviz.predict`.
    indices : array_like of int
        Which images to draw, in order; for example from
        :func:`cnnviz.misclassified`.
    maps : array_like, optional
        Attribution maps (N, H, W) of the same images (for example Grad-CAM
        of the predicted class).
    class_names : sequence of str, default CLASS_NAMES
        One name per class (C).
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If the arrays differ in length, a label or index is out of range,
        `indices` is empty, `probabilities` are not probabilities, `maps`
        do not match the images, or values are not finite.
    TypeError
        If labels or indices are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_mistakes
    >>> probabilities = np.array([[0.1, 0.9], [0.97, 0.03]])
    >>> fig = plot_mistakes(np.zeros((2, 28, 28)), [0, 1], probabilities, [1],
    ...                     class_names=["cat", "dog"])
    >>> fig.axes[0].get_title()
    'true dog (p=0.03)\npredicted cat (p=0.97)'
    """
    x = _grey_images(images)
    p = _probability_rows(probabilities, len(x))
    y = _checks.labels(y_true, "y_true", p.shape[1])
    if len(y) != len(x):
        raise ValueError(
            f"images and y_true must have the same length; got {len(x)} images and {len(y)} labels"
        )
    if indices is None or not np.size(indices):
        raise ValueError("indices is empty: give at least one image to draw")
    chosen = _checks.indices(indices, len(x), "indices", "an image's index")
    names = _class_names(class_names, p.shape[1], f"probabilities of shape {p.shape}")
    m = None if maps is None else _maps(maps, "maps", x)

    rows, columns = _grid(len(chosen), 4)
    figure = _figure(fig, 2.4 * columns + (0.8 if m is not None else 0), 2.6 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(chosen) :]:
        ax.set_visible(False)
    if m is not None:
        signed = bool((m[chosen] < 0).any())
        cmap, norm = (_DIVERGING, Normalize(-1, 1)) if signed else (_SEQUENTIAL, Normalize(0, 1))
    for ax, i in zip(axes, chosen, strict=False):
        predicted = int(p[i].argmax())
        if m is None:
            _draw_image(ax, x[i])
        else:
            peak = float(np.abs(m[i]).max())
            image = _draw_map(ax, x[i], m[i] / (peak if peak > 0 else 1.0), cmap, norm)
        _bare(ax)
        ax.set_title(
            f"true {names[y[i]]} (p={_probability_text(p[i, y[i]])})\n"
            f"predicted {names[predicted]} (p={_probability_text(p[i, predicted])})",
            fontsize="medium",
        )
    unit = x.min() >= 0 and x.max() <= 1  # as _draw_image decides, for the one-channel case
    grey = "black 0 to white 1" if unit else "each stretched from black to white"
    how = f"p: the class's probability, true and predicted; images in grey, {grey}"
    if m is not None:
        bar = figure.colorbar(image, ax=list(axes[: len(chosen)]), fraction=0.03, pad=0.02)
        bar.set_label("map / its largest |value| (each map alone)")
        how += ";\nmaps overlaid, each divided by its largest |value|, more opaque where larger"
    figure.suptitle(how, fontsize="small")
    return figure
