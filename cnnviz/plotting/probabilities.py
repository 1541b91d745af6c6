"""Class probabilities of one image as horizontal bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from ..data import CLASS_NAMES
from ._grid import _new_figure

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
        If there is more than one image or the number of classes does not
        match `class_names`.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_probabilities
    >>> fig = plot_probabilities(np.full(10, 0.1))
    >>> len(fig.axes[0].patches)
    10
    """
    p = np.asarray(probabilities, dtype=float)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1 or p.size != len(class_names):
        raise ValueError(
            f"probabilities must be one image's ({len(class_names)},) or "
            f"(1, {len(class_names)}) scores, one per class name; got shape "
            f"{np.shape(probabilities)}"
        )
    figure = fig if fig is not None else plt.figure(figsize=(6, 3.2), layout="constrained")
    figure = _new_figure(figure, 1, 1)
    ax = figure.subplots()
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
