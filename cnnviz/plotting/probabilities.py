"""Class probabilities of one image as horizontal bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from ..data import CLASS_NAMES
from ._grid import _new_figure

# How far from 1 a row of class probabilities may sum (float32 softmax outputs
# are off by about 1e-7 per class; 1e-3 leaves room for rounded values).
_SUM_TOLERANCE = 1e-3


def _probability_row(output: np.ndarray, class_names: Sequence[str]) -> np.ndarray | None:
    """Return one image's class probabilities from a layer output, or None if it holds none.

    The rule, the same for every model: a layer output is class probabilities
    when it is 2-D, (1, C) with C of at least 2, every value is in [0, 1] and
    the row sums to 1 within 1e-3. It needs no layer object, so it holds for
    a softmax inside a Dense layer, a Softmax layer, an Activation layer or
    arrays computed elsewhere.

    Raises ValueError when the row is probabilities but C is not the number
    of `class_names`: drawing it as a strip would hide the mismatch.
    """
    array = np.asarray(output)
    if array.ndim != 2 or array.shape[0] != 1 or array.shape[1] < 2:
        return None
    row = array[0].astype(float)
    if not np.all(np.isfinite(row)) or row.min() < 0 or row.max() > 1:
        return None
    if abs(row.sum() - 1) > _SUM_TOLERANCE:
        return None
    if row.size != len(class_names):
        raise ValueError(
            f"class_names must name every class of a probability row: the output of shape "
            f"{array.shape} holds probabilities of {row.size} classes, but class_names has "
            f"{len(class_names)} names"
        )
    return row


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
