"""Loss and accuracy per epoch of a training run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from ._figures import _new_figure


def plot_history(
    history: Mapping[str, Sequence[float]] | object,
    *,
    validation_label: str = "validation",
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw the loss and the accuracy per epoch of a training run, side by side.

    Each panel shows the training values and, where the history has them,
    the validation values (``val_loss``, ``val_accuracy``).

    Parameters
    ----------
    history : dict or keras.callbacks.History
        Per-epoch lists under ``loss`` and optionally ``accuracy``,
        ``val_loss`` and ``val_accuracy``: the `history` that
        :func:`~cnnviz.trained_lenet5` returns, or what :func:`~cnnviz.train`
        returns.
    validation_label : str, default "validation"
        Legend entry of the validation values (``"test"`` where the test set
        was the validation data, as for :func:`~cnnviz.trained_lenet5`).
    title : str, optional
        Title above both panels.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If `history` has no ``loss``, a list is empty or holds something
        other than numbers, or the lists differ in length.

    Examples
    --------
    >>> from cnnviz import plot_history
    >>> fig = plot_history({"loss": [0.9, 0.5, 0.4], "val_loss": [0.8, 0.6, 0.55]})
    >>> [ax.get_title() for ax in fig.axes]
    ['Loss (categorical cross-entropy)']
    """
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or "loss" not in values:
        raise ValueError(
            "history must be a dict (or a Keras History) with per-epoch lists under 'loss'; "
            f"got {type(history).__name__}"
            + (f" with keys {sorted(values)}" if isinstance(values, Mapping) else "")
        )
    panels = [
        (key, label)
        for key, label in (("loss", "Loss (categorical cross-entropy)"), ("accuracy", "Accuracy"))
        if key in values
    ]
    lengths = {
        name: len(values[name])
        for key, _ in panels
        for name in (key, f"val_{key}")
        if name in values
    }
    if min(lengths.values()) == 0 or len(set(lengths.values())) != 1:
        raise ValueError(f"history must have one value per epoch in every list; got {lengths}")
    for name in lengths:
        kind = np.asarray(values[name]).dtype
        if not np.issubdtype(kind, np.number) or kind == np.bool_:
            # Strings would be drawn as categories in the order given: a curve that lies.
            raise ValueError(f"history[{name!r}] must hold numbers; got {values[name]!r}")
    epochs = np.arange(1, lengths["loss"] + 1)
    figure = (
        fig if fig is not None else plt.figure(figsize=(5 * len(panels), 4), layout="constrained")
    )
    figure = _new_figure(figure, 1, len(panels))
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, (key, label) in zip(axes, panels, strict=True):
        ax.plot(epochs, values[key], marker=".", label="training")
        if f"val_{key}" in values:
            ax.plot(epochs, values[f"val_{key}"], marker=".", label=validation_label)
        ax.set(title=label, xlabel="epoch", ylabel=key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    return figure
