"""Figures of representational similarity: a CKA matrix of layers, and matched channels.

:func:`plot_similarity` draws what :func:`cnnviz.layer_similarity` returns;
:func:`plot_matched_channels` draws the pairs :func:`cnnviz.match_channels`
found, with a picture of each channel (its kernel, its strongest patch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure, SubFigure

from .. import _checks
from ._figures import (
    _DIVERGING,
    _bare,
    _field,
    _figure,
    _new_figure,
    _numbers,
    _sequence,
    _suptitle,
    _title,
)

__all__ = ["plot_matched_channels", "plot_similarity"]

#: The colour map of CKA: lightness grows with the similarity, from 0 to 1.
_CKA_MAP = "viridis"
#: Matched pairs side by side in one row of the figure; more pairs wrap to further rows.
_PAIRS_PER_ROW = 8
#: The width of one channel's picture, in inches.
_PAIR_TILE = 1.3
#: Room above each band of pairs for their two-line titles, and above all for the figure's.
_TITLE_ROOM, _TOP_ROOM = 0.45, 0.75


def _names(result: object, key: str, count: int) -> list[str]:
    names = [str(name) for name in _sequence(_field(result, key, "result"), f"result[{key!r}]")]
    if len(names) != count:
        raise ValueError(
            f"result[{key!r}] must name every {'row' if key == 'layers_a' else 'column'} of "
            f"result['cka']: {count}; got {len(names)} names"
        )
    return names


def _labels(labels: object) -> tuple[str, str]:
    _sequence(labels, "labels")
    if len(labels) != 2 or not all(isinstance(label, str) for label in labels):
        raise ValueError(f"labels must be two str, one per model; got {labels!r}")
    return labels[0], labels[1]


def plot_similarity(
    result: object,
    *,
    labels: Sequence[str] = ("model_a", "model_b"),
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw a CKA matrix: every layer of one model (rows) against every layer of another.

    The colours run from 0 to 1, always (``viridis``: lighter is more
    similar), so matrices of different models and sample sizes compare at a
    glance; each cell also gives its value. A debiased value below 0 is
    drawn as 0 and written as it is; an undefined one (NaN, a dead layer) is
    left white and written ``-``.

    Parameters
    ----------
    result : dict
        What :func:`cnnviz.layer_similarity` returns: ``cka`` (rows, columns)
        and ``layers_a``, ``layers_b``, their names.
    labels : (str, str), default ("model_a", "model_b")
        The two models' names, for the axes.
    title : str, optional
        The figure's title; by default one that says what is drawn.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If ``result['cka']`` is not a 2-D array of numbers with a name per
        row and column, or `labels` are not two strings.
    TypeError
        If `result` is not a mapping with those keys, or `title` not a str.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_similarity
    >>> result = {"layers_a": ("conv1", "fc1"), "layers_b": ("conv1", "fc1", "op"),
    ...           "cka": np.array([[0.9, 0.4, 0.2], [0.3, 0.8, 0.6]])}
    >>> fig = plot_similarity(result, labels=("valid", "same"))
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('layers of same', 'layers of valid')
    >>> image = ax.get_images()[0]
    >>> image.norm.vmin, image.norm.vmax
    (0.0, 1.0)
    """
    matrix = _real(_field(result, "cka", "result"), "result['cka']")
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(
            f"result['cka'] must be a non-empty 2-D array (layers_a, layers_b); got shape "
            f"{matrix.shape}"
        )
    rows = _names(result, "layers_a", matrix.shape[0])
    columns = _names(result, "layers_b", matrix.shape[1])
    label_a, label_b = _labels(labels)
    title = _title(title)
    width = max(4.0, 1.6 + 0.55 * len(columns)) + 1.2
    height = max(3.2, 1.4 + 0.45 * len(rows))
    figure = _figure(fig, width, height)
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap=_CKA_MAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    small = "small" if max(matrix.shape) <= 10 else "x-small"
    for (i, j), value in np.ndenumerate(matrix):
        text = "-" if np.isnan(value) else f"{value:.2f}"
        colour = "black" if not np.isnan(value) and value > 0.6 else "white"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=small)
    ax.set_xticks(range(len(columns)), labels=columns, rotation=45, ha="right",
                  rotation_mode="anchor")  # fmt: skip
    ax.set_yticks(range(len(rows)), labels=rows)
    ax.set_xlabel(f"layers of {label_b}")
    ax.set_ylabel(f"layers of {label_a}")
    ax.set_title(title or f"Linear CKA, {label_a} against {label_b}")
    bar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label("CKA (colours fixed from 0 to 1)")
    return figure


def _real(values: object, name: str) -> np.ndarray:
    """Return real numbers, finite or NaN (undefined, drawn as such), as a float64 array."""
    if np.iscomplexobj(values):
        raise TypeError(f"{name} must hold real numbers; got dtype {np.asarray(values).dtype}")
    array = _numbers(values, name)
    if np.isinf(array).any():
        raise ValueError(f"{name} must hold finite values or NaN (undefined); got an infinity")
    return array


def _channel_pictures(values: object, name: str, count: int) -> np.ndarray:
    try:
        array = _numbers(values, name)
    except ValueError as error:  # pictures of different shapes
        raise ValueError(
            f"{name} must hold one 2-D picture per channel, all of one shape; {error}"
        ) from None
    if array.ndim != 3 or len(array) < count or 0 in array.shape:
        raise ValueError(
            f"{name} must hold one 2-D picture per channel, (channels, height, width), at least "
            f"{count} of them; got shape {array.shape}"
        )
    return _checks.finite(array, name)


def plot_matched_channels(
    match: object,
    pictures_a: object,
    pictures_b: object,
    *,
    labels: Sequence[str] = ("model_a", "model_b"),
    title: str | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw matched channels side by side: one column per pair, one model a row.

    Each column is a pair that :func:`cnnviz.match_channels` found, the
    channel of the first model above the channel of the second, titled with
    their numbers and their correlation; pairs run from the most to the
    least correlated, eight to a row. A channel is shown by any picture of it, such as
    its kernel (:func:`cnnviz.kernels`, averaged over the input channels)
    or its strongest patch. Each picture has its own colour scale, so that
    its pattern shows whatever its magnitude: pictures with negative values
    (kernels) on ``RdBu_r`` symmetric about 0 (white is 0), the others in
    grey from their least (black) to their largest (white) value.

    Parameters
    ----------
    match : dict
        What :func:`cnnviz.match_channels` returns: ``pairs`` (K, 2) and
        ``correlation`` (K,).
    pictures_a, pictures_b : array_like
        One picture per channel of each layer, (channels, height, width).
    labels : (str, str), default ("model_a", "model_b")
        The two models' names, for the rows.
    title : str, optional
        A first line for the figure's title (say which layers); the second
        says how the pictures are scaled.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.figure.SubFigure
        The figure drawn into.

    Raises
    ------
    ValueError
        If the pairs are not (K, 2) channel numbers of the pictures, or the
        correlations not one per pair, or the pictures not 3-D and finite.
    TypeError
        If `match` lacks those keys, or `title` is not a str.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnviz import plot_matched_channels
    >>> match = {"pairs": np.array([[0, 1], [1, 0]]), "correlation": np.array([0.5, 0.9])}
    >>> pictures = np.random.default_rng(0).normal(size=(2, 5, 5))
    >>> fig = plot_matched_channels(match, pictures, pictures, labels=("valid", "same"))
    >>> [ax.get_title().splitlines() for ax in fig.axes[:2]]  # the best pair first
    [['1 · 0', 'r = 0.90'], ['0 · 1', 'r = 0.50']]
    """
    pairs = _real(_field(match, "pairs", "match"), "match['pairs']")
    correlation = _real(_field(match, "correlation", "match"), "match['correlation']")
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise ValueError(f"match['pairs'] must be (K, 2) channel numbers; got shape {pairs.shape}")
    bad = np.isnan(pairs) | (pairs != np.round(pairs)) | (pairs < 0)
    if bad.any():
        raise ValueError(
            "match['pairs'] must hold channel numbers, integers of at least 0; got "
            f"{pairs[bad][0]:g}"
        )
    if correlation.shape != (len(pairs),):
        raise ValueError(
            f"match['correlation'] must hold one value per pair, ({len(pairs)},); got shape "
            f"{correlation.shape}"
        )
    pairs = pairs.astype(np.int64)
    a = _channel_pictures(pictures_a, "pictures_a", int(pairs[:, 0].max()) + 1)
    b = _channel_pictures(pictures_b, "pictures_b", int(pairs[:, 1].max()) + 1)
    label_a, label_b = _labels(labels)
    title = _title(title)
    order = np.argsort(-np.nan_to_num(correlation, nan=-np.inf), kind="stable")
    count = len(pairs)
    columns = min(count, _PAIRS_PER_ROW)
    bands = -(-count // columns)  # rows of pairs, two rows of pictures each
    # Each band: its pairs' two-line titles (a row of room), then the two rows of pictures.
    heights = [_TITLE_ROOM, _PAIR_TILE, _PAIR_TILE] * bands
    figure = _new_figure(fig, 1, columns, tile=_PAIR_TILE, left=0.6, top=sum(heights) - _PAIR_TILE)
    inches = figure.bbox.height / figure.dpi
    width = figure.bbox.width / figure.dpi
    grid = figure.add_gridspec(
        3 * bands,
        columns,
        height_ratios=heights,
        left=0.6 / width,
        right=1 - 0.1 / width,
        top=1 - min(_TOP_ROOM / inches, 0.4),
        bottom=0.1 / inches,
        hspace=0.05,
        wspace=0.1,
    )
    axes = [
        figure.add_subplot(grid[3 * b + 1 + row, column])
        for b in range(bands)
        for row in range(2)
        for column in range(columns)
    ]
    for place, k in enumerate(order):
        band, column = divmod(place, columns)
        ca, cb = pairs[k]
        for row, (picture, label) in enumerate(((a[ca], label_a), (b[cb], label_b))):
            ax = axes[(2 * band + row) * columns + column]
            if picture.min() < 0:
                bound = float(np.abs(picture).max()) or 1.0
                ax.imshow(
                    picture, cmap=_DIVERGING, vmin=-bound, vmax=bound, interpolation="nearest"
                )
            else:
                ax.imshow(picture, cmap="gray", interpolation="nearest")
            _bare(ax)
            if column == 0:
                ax.set_ylabel(label, fontsize="small")
        r = correlation[k]
        text = "r = n/a" if np.isnan(r) else f"r = {r:.2f}"
        axes[2 * band * columns + column].set_title(f"{ca} · {cb}\n{text}", fontsize="small")
    for ax in axes[2 * columns * (bands - 1) :]:  # the last band's empty places
        ax.set_visible(bool(ax.get_images()))
    first = title or f"Matched channels, {label_a} against {label_b}"
    _suptitle(
        figure,
        f"{first}\nchannel of {label_a} · channel of {label_b}, best-correlated pairs first; "
        "each picture on its own scale (signed: blue-white-red about 0; else grey from "
        "least to largest)",
        fontsize="medium",
    )
    return figure
