"""Tests of plotting.shifts: accuracy over shifts, equivariance per layer, pixel paths.

The results are made here by hand, in the formats cnnviz.shifts returns (no model runs).
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from cnnviz import plot_equivariance, plot_pixel_paths, plot_shift_accuracy


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    """The library leaves showing to the caller; each test's figures are closed after it."""

    def show(*args, **kwargs):
        raise AssertionError("cnnviz called plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images()]


def colour_bars(fig) -> list:
    """The colour bars' axes: the axes that hold no image (the bar is not an AxesImage)."""
    return [ax for ax in fig.axes if ax.get_visible() and not ax.get_images()]


def inside_figure(fig, artist) -> bool:
    """Whether `artist` (a label, a title) is drawn whole inside the figure, or is empty."""
    if not artist.get_text():
        return True
    fig.canvas.draw()
    box = artist.get_window_extent()
    whole = fig.bbox
    # One pixel of slack: text extents are rounded to pixels.
    return (
        whole.x0 - 1 <= box.x0
        and box.x1 <= whole.x1 + 1
        and whole.y0 - 1 <= box.y1 <= whole.y1 + 1
        and whole.y0 - 1 <= box.y0
    )


# --- plot_shift_accuracy ---------------------------------------------------------------------


def accuracy_result(m: int = 2, low: float = 0.4, high: float = 0.9, count: int | None = 10):
    """A result of shift_accuracy with `high` at no shift, falling to `low` at the far corners."""
    shifts = np.arange(-m, m + 1)
    dy, dx = np.meshgrid(shifts, shifts, indexing="ij")
    distance = (np.abs(dy) + np.abs(dx)) / (2 * m)
    accuracy = high - (high - low) * distance
    result = {"shifts": shifts, "accuracy": accuracy, "probability": accuracy / 2}
    if count is not None:
        result["count"] = count
    return result


def test_shift_accuracy_one_panel_per_result_and_one_colour_bar():
    assert len(panels(plot_shift_accuracy(accuracy_result()))) == 1
    results = {"valid": accuracy_result(), "same": accuracy_result(), "full": accuracy_result()}
    fig = plot_shift_accuracy(results)
    assert len(panels(fig)) == 3
    assert len(colour_bars(fig)) == 1
    assert [ax.get_title().split("\n")[0] for ax in panels(fig)] == [
        "valid (10 images)",
        "same (10 images)",
        "full (10 images)",
    ]


def test_shift_accuracy_panels_share_the_range_of_all_values():
    fig = plot_shift_accuracy(
        {"valid": accuracy_result(low=0.5, high=0.8), "same": accuracy_result(low=0.6, high=0.9)}
    )
    norms = [ax.get_images()[0].norm for ax in panels(fig)]
    assert all((norm.vmin, norm.vmax) == (0.5, 0.9) for norm in norms)
    bar = colour_bars(fig)[0]
    assert bar.get_ylim() == (0.5, 0.9)
    label = bar.get_ylabel()
    assert label.startswith("accuracy (fraction of the images classified right)")
    assert "colours 0.5 to 0.9" in label
    assert "smallest to largest value of all panels, not 0 to 1" in label


def test_shift_accuracy_vmin_and_vmax_set_the_scale_and_arrows_show_values_beyond():
    fig = plot_shift_accuracy(accuracy_result(low=0.4, high=0.9), vmin=0.5, vmax=1.0)
    image = panels(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.5, 1.0)
    assert fig.axes[-1].get_ylabel().endswith("colours 0.5 to 1: vmin to vmax")
    assert image.colorbar.extend == "min"  # 0.4 is below the scale
    fig = plot_shift_accuracy(accuracy_result(low=0.4, high=0.9), vmin=0.0)
    image = panels(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 0.9)
    assert image.colorbar.extend == "neither"


def test_shift_accuracy_of_one_value_everywhere_is_drawn_on_0_to_1():
    fig = plot_shift_accuracy(accuracy_result(low=1.0, high=1.0))
    image = panels(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
    assert "every value is 1" in fig.axes[-1].get_ylabel()


def test_shift_accuracy_rows_are_shifts_down_columns_shifts_right():
    result = accuracy_result(m=2)
    result["accuracy"][0, 4] = 0.123  # dy = -2 (up), dx = +2 (right): top right
    ax = panels(plot_shift_accuracy(result))[0]
    image = ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), result["accuracy"])
    # The axes' coordinates are the offsets: row 0 (dy = -2) at the top.
    assert image.get_extent() == [-2.5, 2.5, 2.5, -2.5]
    assert ax.get_ylim() == (2.5, -2.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-2", "-1", "0", "1", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["-2", "-1", "0", "1", "2"]
    assert ax.get_xlabel() == "shift right (pixels)"
    assert ax.get_ylabel() == "shift down (pixels)"


def test_shift_accuracy_outlines_the_cell_of_no_shift():
    ax = panels(plot_shift_accuracy(accuracy_result(m=3)))[0]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert boxes
    for box in boxes:
        assert (box.get_xy(), box.get_width(), box.get_height()) == ((-0.5, -0.5), 1, 1)


def test_shift_accuracy_title_gives_no_shift_and_the_lowest():
    ax = panels(plot_shift_accuracy({"same": accuracy_result(low=0.4, high=0.9)}))[0]
    assert ax.get_title() == "same (10 images)\nno shift 0.900, lowest 0.400"
    ax = panels(plot_shift_accuracy(accuracy_result(count=None)))[0]
    assert ax.get_title() == "no shift 0.900, lowest 0.400"


def test_shift_accuracy_of_many_shifts_labels_every_other_offset_and_0():
    ax = panels(plot_shift_accuracy(accuracy_result(m=10)))[0]
    labels = [int(t.get_text()) for t in ax.get_xticklabels()]
    assert labels == list(range(-10, 11, 2))


def test_shift_accuracy_of_results_with_different_largest_shifts():
    fig = plot_shift_accuracy({"small": accuracy_result(m=1), "large": accuracy_result(m=3)})
    small, large = panels(fig)
    assert small.get_images()[0].get_extent() == [-1.5, 1.5, 1.5, -1.5]
    assert large.get_images()[0].get_extent() == [-3.5, 3.5, 3.5, -3.5]
    assert small.get_images()[0].norm is large.get_images()[0].norm


def test_shift_accuracy_draws_the_probability():
    result = accuracy_result(low=0.4, high=0.9)
    fig = plot_shift_accuracy(result, what="probability")
    image = panels(fig)[0].get_images()[0]
    np.testing.assert_array_equal(image.get_array(), result["probability"])
    assert (image.norm.vmin, image.norm.vmax) == (0.2, 0.45)
    assert fig.axes[-1].get_ylabel().startswith("mean probability of the true class")


def test_shift_accuracy_needs_only_the_grid_it_draws():
    result = accuracy_result()
    del result["probability"]
    assert len(panels(plot_shift_accuracy(result))) == 1
    with pytest.raises(ValueError, match=r"results must have the key 'probability'"):
        plot_shift_accuracy(result, what="probability")


@pytest.mark.parametrize("count", [1, 2])
def test_shift_accuracy_labels_fit_in_the_figure(count):
    fig = plot_shift_accuracy({f"model {i}": accuracy_result(m=6) for i in range(count)})
    bar = colour_bars(fig)[0]
    assert inside_figure(fig, bar.yaxis.label)
    for ax in panels(fig):
        assert inside_figure(fig, ax.title)
        assert inside_figure(fig, ax.yaxis.label)


@pytest.mark.parametrize(("count", "grid"), [(1, (1, 1)), (2, (1, 2)), (3, (1, 3)), (4, (2, 2))])
def test_shift_accuracy_at_most_3_panels_a_row_and_a_page_wide(count, grid):
    fig = plot_shift_accuracy({f"model {i}": accuracy_result() for i in range(count)})
    drawn = panels(fig)
    rows = len({round(ax.get_position().y0, 6) for ax in drawn})
    columns = len({round(ax.get_position().x0, 6) for ax in drawn})
    assert (rows, columns) == grid
    assert fig.get_figwidth() <= 12.5


def test_shift_accuracy_draws_into_a_subfigure():
    fig = plt.figure(figsize=(10, 5))
    _, right = fig.subfigures(1, 2)
    assert plot_shift_accuracy(accuracy_result(), fig=right) is right
    assert isinstance(right, SubFigure)
    assert len(panels(right)) == 1


@pytest.mark.parametrize(
    ("results", "kwargs", "error", "words"),
    [
        (accuracy_result(), {"what": "loss"}, ValueError, r"what must be one of"),
        ([accuracy_result()], {}, TypeError, r"results must be a result of cnnviz.shift_accuracy"),
        ({}, {}, ValueError, r"results is empty"),
        ({"valid": 0.9}, {}, ValueError, r"got results\['valid'\] as float"),
        # A result without its shifts was read as a mapping of titles ("got results['accuracy']
        # as ndarray"): the message names the key it lacks.
        (
            {k: v for k, v in accuracy_result().items() if k != "shifts"},
            {},
            ValueError,
            r"results must have the key 'shifts', .*keys \['accuracy', 'count', 'probability'\]",
        ),
        (
            {**accuracy_result(), "shifts": np.arange(0, 5)},
            {},
            ValueError,
            r"results\['shifts'\] must be the offsets -m..m in order \(-2 to 2\); got \[0, 1, 2",
        ),
        (
            {**accuracy_result(), "shifts": np.arange(-2, 2)},
            {},
            ValueError,
            r"odd length 2m \+ 1; got shape \(4,\)",
        ),
        (
            {**accuracy_result(), "accuracy": np.full((5, 4), 0.5)},
            {},
            ValueError,
            r"shape \(5, 5\); got shape \(5, 4\)",
        ),
        (
            {**accuracy_result(), "accuracy": np.full((5, 5), 90.0)},
            {},
            ValueError,
            r"fractions in \[0, 1\] \(not percentages\); got 90",
        ),
        (
            {**accuracy_result(), "accuracy": np.full((5, 5), np.nan)},
            {},
            ValueError,
            r"must hold finite values",
        ),
        (accuracy_result(), {"vmin": 0.8, "vmax": 0.8}, ValueError, r"vmin must be below vmax"),
        (accuracy_result(), {"vmin": 0.95}, ValueError, r"below the largest value drawn \(0.9\)"),
        (accuracy_result(), {"vmax": 0.3}, ValueError, r"above the smallest value drawn \(0.4\)"),
        (accuracy_result(), {"vmax": np.inf}, ValueError, r"vmax must be a finite number"),
        (accuracy_result(), {"fig": "figure"}, TypeError, r"fig must be a matplotlib Figure"),
    ],
)
def test_shift_accuracy_refuses(results, kwargs, error, words):
    with pytest.raises(error, match=words):
        plot_shift_accuracy(results, **kwargs)


# --- plot_equivariance -----------------------------------------------------------------------


def equivariance_result(layers=("conv1", "pool1", "conv2"), jumps=(1, 2, 2), images=20, seed=0):
    rng = np.random.default_rng(seed)
    per_image = 1 - rng.uniform(0, 0.5, size=(images, len(layers)))
    return {
        "layers": list(layers),
        "jump": np.array([[j, j] for j in jumps]),
        "similarity": per_image.mean(axis=0),
        "per_image": per_image,
    }


def test_equivariance_marks_each_layer_and_its_jump():
    fig = plot_equivariance(equivariance_result())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "conv1\n(jump 1)",
        "pool1\n(jump 2)",
        "conv2\n(jump 2)",
    ]
    assert "1.0: exactly equivariant" in ax.get_ylabel()


def test_equivariance_mean_as_line_and_bars_from_10th_to_90th_percentile():
    result = equivariance_result()
    ax = plot_equivariance(result).axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(line.get_ydata(), result["similarity"])
    (bars,) = ax.collections
    ends = np.array([segment[:, 1] for segment in bars.get_segments()])
    np.testing.assert_allclose(ends.T, np.percentile(result["per_image"], [10, 90], axis=0))
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "bars: 10th to 90th\npercentile of the images"
    assert [t.get_text() for t in legend.get_texts()] == ["mean of 20 images"]


def test_equivariance_of_several_results_side_by_side_on_the_union_of_layers():
    results = {
        "valid": equivariance_result(("conv1", "pool1", "conv2"), (1, 2, 2)),
        "other": equivariance_result(("conv1", "conv2", "pool2"), (1, 2, 4), images=5),
    }
    ax = plot_equivariance(results).axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [
        "conv1",
        "pool1",
        "conv2",
        "pool2",
    ]
    means = [line for line in ax.get_lines() if line.get_marker() == "o"]
    first, second = (np.asarray(line.get_xdata()) for line in means)
    # Each result at its layers' places, one left and one right of the tick.
    np.testing.assert_allclose(first, np.array([0, 1, 2]) - 0.075)
    np.testing.assert_allclose(second, np.array([0, 2, 3]) + 0.075)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "valid: mean of 20 images",
        "other: mean of 5 images",
    ]


def test_equivariance_places_a_layer_only_one_result_has_after_the_layer_before_it():
    valid = equivariance_result(("conv1", "pool1", "conv2", "pool2"), (1, 2, 2, 4))
    same = equivariance_result(("pad1", "conv1", "pool1", "pad2", "conv2", "pool2"),
                               (1, 1, 2, 2, 2, 4))  # fmt: skip
    ax = plot_equivariance({"valid": valid, "same": same}).axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [
        "pad1",
        "conv1",
        "pool1",
        "pad2",
        "conv2",
        "pool2",
    ]
    first, second = (line for line in ax.get_lines() if line.get_marker() == "o")
    np.testing.assert_allclose(first.get_xdata(), np.array([1, 2, 4, 5]) - 0.075)
    np.testing.assert_allclose(second.get_xdata(), np.arange(6) + 0.075)


def test_equivariance_tick_says_jumps_of_rows_and_columns_and_of_results_that_differ():
    a = equivariance_result(("conv1",), (1,))
    a["jump"] = np.array([[2, 1]])
    b = equivariance_result(("conv1",), (3,))
    ax = plot_equivariance({"a": a, "b": b}).axes[0]
    assert ax.get_xticklabels()[0].get_text() == "conv1\n(jump 2x1 or 3)"


@pytest.mark.parametrize(
    "layers",
    [
        ("conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2"),
        tuple(f"block{i}_conv2d_transpose" for i in range(8)),
        tuple(f"conv{i}" for i in range(16)),
    ],
)
def test_equivariance_tick_labels_do_not_overlap(layers):
    fig = plot_equivariance(equivariance_result(layers, (1,) * len(layers)))
    fig.canvas.draw()
    boxes = [label.get_window_extent() for label in fig.axes[0].get_xticklabels()]
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, (left, right)
    ax = fig.axes[0]
    assert all(inside_figure(fig, label) for label in ax.get_xticklabels())
    assert inside_figure(fig, ax.yaxis.label)
    assert inside_figure(fig, ax.title)
    # The legend beside the axes, not over the markers and bars.
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 > ax.get_window_extent().x1
    assert legend.x1 <= fig.bbox.x1
    # The axes keep at least 2.5 inches of height, however long the labels.
    assert ax.get_window_extent().height / fig.dpi >= 2.5


def test_equivariance_draws_into_the_axes_given():
    fig, ax = plt.subplots()
    assert plot_equivariance(equivariance_result(), ax=ax) is fig
    assert len(ax.get_xticklabels()) == 3


def test_equivariance_of_an_exactly_equivariant_model_is_drawn_at_1():
    result = equivariance_result()
    result["per_image"][:] = 1.0
    result["similarity"][:] = 1.0
    ax = plot_equivariance(result).axes[0]
    low, high = ax.get_ylim()
    assert low < 1.0 < high


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"layers": "conv1"}, TypeError, r"results\['layers'\] must be a list of layer names"),
        ({"layers": ["conv1", "conv1", "x"]}, ValueError, r"name each layer once; got \['conv1'\]"),
        ({"jump": np.ones((3, 1), dtype=int)}, ValueError, r"results\['jump'\] must have shape"),
        ({"jump": np.zeros((3, 2), dtype=int)}, ValueError, r"at least 1"),
        ({"jump": np.ones((3, 2))}, TypeError, r"results\['jump'\] must hold integers"),
        ({"similarity": np.array([1.5, 1, 1])}, ValueError, r"in \[-1, 1\]; got 1.5"),
        ({"similarity": np.ones(2)}, ValueError, r"one value per layer, shape \(3,\)"),
        ({"per_image": np.ones((4, 2))}, ValueError, r"\(N, layers\) = \(N, 3\)"),
        ({"per_image": np.full((4, 3), np.nan)}, ValueError, r"must hold finite values"),
    ],
)
def test_equivariance_refuses_a_bad_result(change, error, words):
    with pytest.raises(error, match=words):
        plot_equivariance({**equivariance_result(), **change})


def test_equivariance_refuses_what_is_not_a_result_or_axes():
    with pytest.raises(TypeError, match=r"ax must be a Matplotlib Axes or None; got Figure"):
        plot_equivariance(equivariance_result(), ax=plt.figure())
    with pytest.raises(ValueError, match=r"results is empty"):
        plot_equivariance({})
    with pytest.raises(ValueError, match=r"got results\['same'\] as a mapping with keys"):
        plot_equivariance({"same": {"layers": ["conv1"]}})
    # Without its per-image values, a result was read as a mapping of titles to results.
    partial = {k: v for k, v in equivariance_result().items() if k != "per_image"}
    with pytest.raises(ValueError, match=r"results must have the key 'per_image', as a result"):
        plot_equivariance(partial)


# --- plot_pixel_paths ------------------------------------------------------------------------


def conv_paths(size: int, kernel: int) -> np.ndarray:
    """Paths from a size x size image into a valid kernel x kernel convolution's units."""
    line = np.convolve(np.ones(size - kernel + 1, dtype=np.int64), np.ones(kernel, dtype=np.int64))
    return np.outer(line, line)


def test_pixel_paths_one_panel_and_colour_bar_per_map_on_its_own_scale():
    small, large = conv_paths(28, 5), conv_paths(28, 5) * 40
    fig = plot_pixel_paths({"conv1": small, "conv2": large})
    assert isinstance(fig, Figure)
    assert len(panels(fig)) == 2
    assert len(colour_bars(fig)) == 2
    norms = [ax.get_images()[0].norm for ax in panels(fig)]
    assert [(n.vmin, n.vmax) for n in norms] == [(0.0, 25.0), (0.0, 1000.0)]
    assert [ax.get_title() for ax in panels(fig)] == [
        "conv1\n1 to 25 paths per pixel",
        "conv2\n40 to 1,000 paths per pixel",
    ]
    for bar in colour_bars(fig):
        assert bar.get_ylabel().endswith("this map's largest)")
    assert colour_bars(fig)[1].get_ylabel() == (
        "paths into the layer's units\n(0 to 1,000, this map's largest)"
    )
    assert "own colour scale" in fig.get_suptitle()


@pytest.mark.parametrize(
    ("count", "vmax", "grid"),
    [
        (3, None, (1, 3)),
        (4, None, (2, 2)),
        (8, 1000, (2, 4)),
        (10, None, (5, 2)),
        (9, 1000, (3, 3)),
    ],
)
def test_pixel_paths_of_many_layers_fit_a_page(count, vmax, grid):
    # The library's one grid rule (cnnviz.channel_grid): at most 3 columns with a bar each, 4
    # with one shared bar; no empty tile where a squarish grid allows.
    maps = {f"layer {i}": conv_paths(28, 5) * (i + 1) for i in range(count)}
    fig = plot_pixel_paths(maps, vmax=vmax)
    drawn = panels(fig)
    rows = len({round(ax.get_position().y0, 6) for ax in drawn})
    columns = len({round(ax.get_position().x0, 6) for ax in drawn})
    assert (len(drawn), rows, columns) == (count, *grid)
    assert fig.get_figwidth() <= 12.5


def test_pixel_paths_vmax_gives_one_shared_scale():
    small, large = conv_paths(28, 5), conv_paths(28, 5) * 40
    fig = plot_pixel_paths({"conv1": small, "conv2": large}, vmax=100)
    assert len(colour_bars(fig)) == 1
    assert all((ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) == (0, 100)
               for ax in panels(fig))  # fmt: skip
    # One scale, the colour bar's, for all panels.
    assert panels(fig)[0].get_images()[0].norm is panels(fig)[1].get_images()[0].norm
    image = panels(fig)[-1].get_images()[0]
    assert image.colorbar.extend == "max"  # counts of conv2 pass 100
    assert "0 to vmax = 100, all panels" in colour_bars(fig)[0].get_ylabel()
    fig = plot_pixel_paths({"conv1": small}, vmax=25)
    assert panels(fig)[0].get_images()[0].colorbar.extend == "neither"


def test_pixel_paths_log_scale_masks_zeros_and_says_so():
    counts = conv_paths(10, 3)
    counts[:, -1] = 0
    fig = plot_pixel_paths({"strided": counts, "conv": conv_paths(10, 3)}, log=True)
    masked, plain = (ax.get_images()[0] for ax in panels(fig))
    assert isinstance(masked.norm, LogNorm)
    assert (masked.norm.vmin, masked.norm.vmax) == (1.0, 9.0)
    np.testing.assert_array_equal(np.ma.getmaskarray(masked.get_array()), counts == 0)
    # Zeros in a colour that is not on the scale.
    bad = tuple(masked.cmap.get_bad()[:3])
    assert all(bad != tuple(colour[:3]) for colour in masked.cmap(np.linspace(0, 1, 256)))
    first, second = colour_bars(fig)
    assert "log scale, 1 to 9, this map's largest" in first.get_ylabel()
    assert "0 (no path): grey, off the scale" in first.get_ylabel()
    assert "grey" not in second.get_ylabel()  # no zeros there
    # Plain counts, not only 10^0 and 10^1.
    assert [t.get_text() for t in first.get_yticklabels()] == ["1", "2", "5"]
    assert plain.norm.vmax == 9.0


def test_pixel_paths_of_only_0_and_1_has_a_scale_of_some_width():
    counts = np.eye(6, dtype=np.int64)
    image = panels(plot_pixel_paths(counts))[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
    fig = plot_pixel_paths(counts, log=True)
    image = panels(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (1.0, 10.0)
    assert "log scale, 1 to 10)" in colour_bars(fig)[0].get_ylabel()  # not "its largest"


def test_pixel_paths_log_with_shared_vmax():
    fig = plot_pixel_paths({"a": conv_paths(10, 3), "b": conv_paths(10, 3) * 100}, log=True,
                           vmax=1000)  # fmt: skip
    (bar,) = colour_bars(fig)
    assert "log scale, 1 to vmax = 1000, all panels" in bar.get_ylabel()
    assert all(isinstance(ax.get_images()[0].norm, LogNorm) for ax in panels(fig))


def test_pixel_paths_of_a_small_map_writes_its_counts():
    counts = conv_paths(5, 3)
    ax = panels(plot_pixel_paths(counts))[0]
    written = np.array([int(t.get_text()) for t in ax.texts]).reshape(5, 5)
    np.testing.assert_array_equal(written, counts)
    assert ax.get_title() == "1 to 9 paths per pixel"
    assert not panels(plot_pixel_paths(conv_paths(28, 5)))[0].texts


def test_pixel_paths_labels_fit_in_the_figure():
    fig = plot_pixel_paths({"conv1": conv_paths(28, 5), "conv2": conv_paths(28, 5) * 40})
    for ax in [*panels(fig), *colour_bars(fig)]:
        assert inside_figure(fig, ax.yaxis.label)
        assert inside_figure(fig, ax.title)


def test_pixel_paths_draws_float_counts_and_huge_unsigned_ones():
    # pixel_paths gives float64 where a count passes 2**53 (test_shifts.py draws a real one).
    fig = plot_pixel_paths(np.full((3, 3), 2.0**60))
    assert (
        panels(fig)[0].get_title()
        == "1,152,921,504,606,846,976 to 1,152,921,504,606,846,976 paths per pixel"
    )
    # Above int64's end a uint64 count wrapped round to a negative one.
    huge = np.full((3, 3), 2**63 + 2**12, dtype=np.uint64)
    title = panels(plot_pixel_paths(huge))[0].get_title()
    assert title == "9,223,372,036,854,779,904 to 9,223,372,036,854,779,904 paths per pixel"
    # Whole floats below 2**53 are counts too.
    fig = plot_pixel_paths(np.full((2, 2), 3.0))
    assert panels(fig)[0].get_title() == "3 to 3 paths per pixel"


@pytest.mark.parametrize(
    ("paths", "kwargs", "error", "words"),
    [
        (np.full((4, 4), 0.5), {}, ValueError, r"paths must hold path counts, whole numbers"),
        (np.ones((4, 4), dtype=bool), {}, TypeError, r"paths must hold path counts, integers"),
        (np.full((4, 4), np.nan), {}, ValueError, r"paths must hold finite values"),
        (
            np.ones((2, 4, 4), dtype=int),
            {},
            ValueError,
            r"non-empty \(H, W\) array \(several maps: a mapping of titles to them\); got shape \(2, 4, 4\)",
        ),
        ({"conv1": -np.ones((4, 4), dtype=int)}, {}, ValueError, r"paths\['conv1'\] must hold"),
        ({}, {}, ValueError, r"paths is empty"),
        (np.ones((4, 4), dtype=int), {"log": "yes"}, TypeError, r"log must be True or False"),
        (
            np.ones((4, 4), dtype=int),
            {"vmax": 0},
            ValueError,
            r"vmax must be a finite number above",
        ),
        (np.ones((4, 4), dtype=int), {"log": True, "vmax": 1}, ValueError, r"above 1 with log"),
        (np.ones((4, 4), dtype=int), {"fig": 3}, TypeError, r"fig must be a matplotlib Figure"),
    ],
)
def test_pixel_paths_refuses(paths, kwargs, error, words):
    with pytest.raises(error, match=words):
        plot_pixel_paths(paths, **kwargs)
