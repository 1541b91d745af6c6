"""Tests of cnnviz.plotting: what each figure holds, counted from its axes and artists."""

from __future__ import annotations

import math
import re

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure, SubFigure

from cnnviz import (
    CLASS_NAMES,
    channel_grid,
    layer_outputs,
    lenet5,
    plot_attribution,
    plot_confusion_matrix,
    plot_deletion,
    plot_feature_maps,
    plot_history,
    plot_images,
    plot_layer_outputs,
    plot_mistakes,
    plot_probabilities,
    plot_randomization,
    plot_side_by_side,
)
from cnnviz.plotting import explanations


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    """The library must leave showing to the caller: plt.show() fails every test here."""
    monkeypatch.setattr(plt, "show", _show)


def _show(*args, **kwargs):
    raise AssertionError("cnnviz called plt.show()")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return lenet5("valid")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, size=(28, 28), dtype=np.uint8)


@pytest.fixture(scope="module")
def all_layers(model, image):
    """plot_layer_outputs of every layer, drawn once for the tests that only look at them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plt, "show", _show)
        figures = plot_layer_outputs(model, image)
    plt.close("all")  # the Figure objects stay readable after closing
    return figures


def image_axes(fig) -> list:
    """The visible axes that show an image."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images()]


def hidden_axes(fig) -> list:
    return [ax for ax in fig.axes if not ax.get_visible()]


def tiles_geometry(fig) -> tuple[int, int]:
    """The (rows, columns) of the grid the figure's image tiles are in; no tile may be empty."""
    assert not hidden_axes(fig)
    return image_axes(fig)[0].get_subplotspec().get_gridspec().get_geometry()


# --- channel_grid ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ncols", "expected"),
    [
        (1, 4, (1, 1)),
        (3, 4, (1, 3)),
        (4, 4, (2, 2)),
        (5, 4, (2, 3)),
        (6, 4, (2, 3)),  # issue 21: not 2x4 with two empty tiles
        (7, 4, (2, 4)),
        (16, 4, (4, 4)),
        (64, 8, (8, 8)),
        (7, 1, (7, 1)),
        (10, 3, (5, 2)),  # full and at most 3 times as tall as wide, rather than 4x3
        (10, 10, (2, 5)),
        (2, 10, (1, 2)),
    ],
)
def test_channel_grid(n, ncols, expected):
    assert channel_grid(n, ncols) == expected


def test_channel_grid_fits_every_tile_without_an_empty_row():
    for ncols in (1, 2, 4, 7):
        for n in range(1, 40):
            rows, columns = channel_grid(n, ncols)
            assert columns <= min(n, ncols), (n, ncols)
            assert rows * columns >= n, (n, ncols)
            assert (rows - 1) * columns < n, (n, ncols)


@pytest.mark.parametrize("ncols", [4, 20])
def test_channel_grid_leaves_no_empty_tile_where_a_squarish_grid_is_full(ncols):
    """1 to 20 tiles: the rule of issue 21, checked against every grid there is."""
    for n in range(1, 21):
        rows, columns = channel_grid(n, ncols)
        # Every grid of at most ncols columns with no empty row, and its aspect.
        grids = [(-(-n // c), c) for c in range(1, min(n, ncols) + 1)]
        squarish = [(r, c) for r, c in grids if max(r, c) <= 3 * min(r, c)]
        if squarish:
            assert max(rows, columns) <= 3 * min(rows, columns), n
            fewest = min(r * c - n for r, c in squarish)
            assert rows * columns - n == fewest, n
            if any(r * c == n for r, c in squarish):
                assert rows * columns == n, n  # a full squarish grid exists: it is taken
        if ncols == 20:  # no limit that matters: never taller than wide, at most 3 to 1
            assert rows <= columns <= 3 * rows, n
            assert rows * columns - n < columns, n


def test_every_grid_of_tiles_takes_its_columns_from_the_count():
    six = np.random.default_rng(0).random((6, 8, 8))
    assert tiles_geometry(plot_feature_maps(six.transpose(1, 2, 0))) == (2, 3)
    assert tiles_geometry(plot_images(six, np.arange(6) % 3)) == (2, 3)


def test_channel_grid_takes_numpy_integers():
    assert channel_grid(np.int64(6), np.int32(4)) == (2, 3)


@pytest.mark.parametrize(
    ("n", "ncols", "name"),
    [(0, 4, "n"), (-1, 4, "n"), (2.0, 4, "n"), (True, 4, "n"), (4, 0, "ncols"), (4, 1.5, "ncols")],
)
def test_channel_grid_rejects_non_positive_or_non_integers(n, ncols, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a positive integer"):
        channel_grid(n, ncols)


# --- plot_feature_maps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "channels"),
    [(28, 28, 1), (7, 13, 5), (24, 24, 6), (1, 1, 6), (8, 8, 16), (14, 3, 16), (4, 4, 64)],
)
def test_one_titled_tile_per_channel_and_the_rest_hidden(height, width, channels):
    output = np.random.default_rng(channels).random((1, height, width, channels))
    fig = plot_feature_maps(output)
    assert isinstance(fig, Figure)
    tiles = image_axes(fig)
    assert len(tiles) == channels
    assert [ax.get_title() for ax in tiles] == [f"Channel: {c}" for c in range(channels)]
    rows, columns = channel_grid(channels, 4)
    assert len(fig.axes) == rows * columns
    assert len(hidden_axes(fig)) == rows * columns - channels
    for c, ax in enumerate(tiles):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), output[0, ..., c])


@pytest.mark.parametrize("ncols", [1, 3, 4, 8])
def test_ncols_sets_the_columns(ncols):
    fig = plot_feature_maps(np.random.default_rng(0).random((10, 10, 6)), ncols=ncols)
    rows, columns = channel_grid(6, ncols)
    tiles = image_axes(fig)
    # The tiles' grid positions: as many distinct columns as asked for (at most 6).
    spec_columns = {ax.get_subplotspec().colspan.start for ax in tiles}
    spec_rows = {ax.get_subplotspec().rowspan.start for ax in tiles}
    assert len(spec_columns) == columns
    assert len(spec_rows) == rows
    assert tiles[0].get_subplotspec().get_gridspec().get_geometry() == (rows, columns)


def test_with_and_without_the_batch_axis_draw_the_same():
    output = np.random.default_rng(1).random((12, 12, 6)).astype(np.float32)
    with_batch = image_axes(plot_feature_maps(output[np.newaxis], title="t"))
    without = image_axes(plot_feature_maps(output, title="t"))
    assert len(with_batch) == len(without) == 6
    for a, b in zip(with_batch, without, strict=True):
        assert a.get_title() == b.get_title()
        np.testing.assert_array_equal(a.get_images()[0].get_array(), b.get_images()[0].get_array())


def test_title_becomes_the_suptitle_and_cmap_is_used():
    fig = plot_feature_maps(np.ones((5, 5, 2)), title="relu1", cmap="viridis")
    assert fig.get_suptitle() == "relu1"
    assert all(ax.get_images()[0].get_cmap().name == "viridis" for ax in image_axes(fig))
    default = plot_feature_maps(np.ones((5, 5, 2)))
    assert all(ax.get_images()[0].get_cmap().name == "gray" for ax in image_axes(default))


@pytest.mark.parametrize("shape", [(1, 120), (84,)])
def test_dense_outputs_are_drawn_as_a_strip(shape):
    values = np.linspace(-1, 1, math.prod(shape)).reshape(shape)
    fig = plot_feature_maps(values, title="fc1")
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "fc1"
    strips = image_axes(fig)
    assert len(strips) == 1
    np.testing.assert_array_equal(strips[0].get_images()[0].get_array(), values.reshape(1, -1))
    assert len(fig.axes) == 2  # the strip and its colorbar
    assert strips[0].get_xlabel()


def test_a_batch_of_more_than_one_says_pick_one():
    with pytest.raises(ValueError, match=r"batch of 2.*pick one"):
        plot_feature_maps(np.zeros((2, 8, 8, 6)))
    with pytest.raises(ValueError, match=r"batch of 3.*pick one"):
        plot_feature_maps(np.zeros((3, 120)))


@pytest.mark.parametrize("ncols", [0, -2, 1.5, True])
def test_ncols_below_one_is_an_error(ncols):
    with pytest.raises(ValueError, match="ncols"):
        plot_feature_maps(np.zeros((8, 8, 6)), ncols=ncols)
    with pytest.raises(ValueError, match="ncols"):
        plot_feature_maps(np.zeros((1, 10)), ncols=ncols)


@pytest.mark.parametrize("shape", [(), (1, 2, 8, 8, 6)])
def test_ranks_other_than_1_to_4_are_an_error(shape):
    with pytest.raises(ValueError, match=rf"got shape {re.escape(str(shape))}"):
        plot_feature_maps(np.zeros(shape))


def test_draws_into_a_given_subfigure_and_returns_it():
    fig = plt.figure()
    left, right = fig.subfigures(1, 2)
    drawn = plot_feature_maps(np.ones((6, 6, 3)), fig=left, title="left")
    assert drawn is left
    assert isinstance(drawn, SubFigure)
    assert len(image_axes(left)) == 3
    assert right.axes == []
    assert left.get_suptitle() == "left"
    strip = plot_feature_maps(np.ones(5), fig=right)
    assert strip is right
    assert len(image_axes(right)) == 1
    assert len(fig.axes) == 3 + 2


def test_a_fig_that_is_not_a_figure_is_a_type_error():
    with pytest.raises(TypeError, match="Figure"):
        plot_feature_maps(np.ones((6, 6, 3)), fig="figure")


def colour_bars(fig) -> list:
    """The colour bars of a figure: axes that hold a colour bar, not a tile."""
    return [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]


def test_map_scale_gives_each_tile_its_own_range_and_no_colour_bar():
    output = np.stack([np.full((4, 4), 1.0), np.linspace(-3, 5, 16).reshape(4, 4)], axis=-1)
    fig = plot_feature_maps(output)
    first, second = (ax.get_images()[0] for ax in image_axes(fig))
    assert (first.norm.vmin, first.norm.vmax) != (second.norm.vmin, second.norm.vmax)
    assert (second.norm.vmin, second.norm.vmax) == (-3.0, 5.0)
    assert colour_bars(fig) == []
    assert first.get_cmap().name == "gray"


def test_layer_scale_puts_signed_maps_on_one_symmetric_diverging_scale():
    rng = np.random.default_rng(4)
    output = rng.normal(size=(1, 9, 9, 6)) * [1, 2, 3, 4, 5, 6]
    fig = plot_feature_maps(output, ncols=3, scale="layer")
    bound = np.abs(output).max()
    for ax in image_axes(fig):
        image = ax.get_images()[0]
        assert image.norm.vmin == pytest.approx(-bound)
        assert image.norm.vmax == pytest.approx(bound)
        assert image.get_cmap().name == "RdBu_r"
    (bar,) = colour_bars(fig)
    assert bar._colorbar.mappable.norm.vmin == pytest.approx(-bound)
    assert image_axes(fig)[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)


def test_layer_scale_puts_non_negative_maps_in_grey_from_zero():
    output = np.linspace(0.5, 7.0, 5 * 5 * 16).reshape(5, 5, 16)
    fig = plot_feature_maps(output, scale="layer")
    limits = {
        (ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) for ax in image_axes(fig)
    }
    assert limits == {(0.0, 7.0)}
    assert {ax.get_images()[0].get_cmap().name for ax in image_axes(fig)} == {"gray"}
    assert len(colour_bars(fig)) == 1


def test_an_all_zero_layer_is_black_on_a_scale_from_zero():
    fig = plot_feature_maps(np.zeros((4, 4, 3)), scale="layer")
    image = image_axes(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)


def test_vmin_and_vmax_fix_the_scale_and_imply_a_colour_bar():
    output = np.linspace(0, 1, 4 * 4 * 6).reshape(4, 4, 6)
    fig = plot_feature_maps(output, vmin=0, vmax=2.5)  # scale="map" is overridden
    assert {
        (ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) for ax in image_axes(fig)
    } == {(0.0, 2.5)}
    assert len(colour_bars(fig)) == 1
    only_top = plot_feature_maps(output, vmax=4.0)
    assert image_axes(only_top)[0].get_images()[0].norm.vmin == 0.0
    # Limits across zero that are not symmetric: white still at zero.
    signed = plot_feature_maps(output - 0.2, vmin=-1, vmax=3)
    image = image_axes(signed)[0].get_images()[0]
    assert image.get_cmap().name == "RdBu_r"
    assert (image.norm.vmin, image.norm.vcenter, image.norm.vmax) == (-1.0, 0.0, 3.0)


def test_a_cmap_given_by_the_caller_wins_on_one_scale():
    fig = plot_feature_maps(np.linspace(-1, 1, 32).reshape(4, 4, 2), scale="layer", cmap="PiYG")
    assert image_axes(fig)[0].get_images()[0].get_cmap().name == "PiYG"


def test_nan_cells_are_left_out_of_the_scale_drawn_apart_and_outlined():
    output = np.linspace(-2, 1, 8 * 8 * 3).reshape(8, 8, 3)
    output[2:-2, 2:-2] = np.nan
    fig = plot_feature_maps(output, ncols=3, scale="layer")
    bound = np.nanmax(np.abs(output))
    for ax in image_axes(fig):
        image = ax.get_images()[0]
        assert image.norm.vmax == pytest.approx(bound)
        bad = image.get_cmap().get_bad()
        assert tuple(bad) not in {tuple(image.get_cmap()(x)) for x in np.linspace(0, 1, 256)}
        assert bad[3] == 1  # opaque, not the white page behind
        assert len(ax.collections) == 1  # the outline of the NaN region


@pytest.mark.parametrize("scale", ["map", "layer"])
def test_infinite_cells_are_flagged_as_nan_cells_are_not_drawn_as_the_top_colour(scale):
    output = np.linspace(0, 1, 6 * 6 * 2).reshape(6, 6, 2)
    output[1:3, 1:3, 0] = np.inf
    output[4, 4, 1] = -np.inf
    fig = plot_feature_maps(output, ncols=2, scale=scale)
    finite = np.where(np.isfinite(output), output, np.nan)
    for channel, ax in enumerate(image_axes(fig)):
        image = ax.get_images()[0]
        shown = image.get_array()
        assert (shown.mask == ~np.isfinite(output[..., channel])).all()
        # The scale is that of the finite values alone.
        top = np.nanmax(finite) if scale == "layer" else np.nanmax(finite[..., channel])
        assert image.norm.vmax == pytest.approx(top)
        assert len(ax.collections) == 1  # outlined, as a NaN region is
    as_nan = plot_feature_maps(finite, ncols=2, scale=scale)
    for ax, same in zip(image_axes(fig), image_axes(as_nan), strict=True):
        np.testing.assert_array_equal(
            ax.get_images()[0].make_image(fig.canvas.get_renderer())[0],
            same.get_images()[0].make_image(as_nan.canvas.get_renderer())[0],
        )


@pytest.mark.parametrize("shape", [(1, 120), (84,)])
def test_a_strip_on_one_scale_is_centred_on_zero(shape):
    values = np.linspace(-1, 3, math.prod(shape)).reshape(shape)
    fig = plot_feature_maps(values, scale="layer")
    image = image_axes(fig)[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (-3.0, 3.0)
    assert image.get_cmap().name == "RdBu_r"
    assert len(colour_bars(fig)) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": "channel"}, r"^scale must be one of \('map', 'layer'\); got 'channel'"),
        ({"scale": None}, r"^scale must be one of"),
        ({"vmin": 1, "vmax": 1}, r"^vmin must be below vmax; got vmin=1\.0, vmax=1\.0"),
        ({"vmin": 2, "vmax": 1}, r"^vmin must be below vmax"),
        ({"vmin": 5}, r"^vmin must be below vmax; got vmin=5\.0, vmax=1\.0 \(vmin=5\.0 given"),
        ({"vmax": float("nan")}, r"^vmax must be a finite number; got nan"),
        ({"vmin": float("-inf")}, r"^vmin must be a finite number; got -inf"),
        ({"vmin": "0"}, r"^vmin must be a finite number; got '0'"),
    ],
)
def test_bad_colour_scales_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        plot_feature_maps(np.linspace(0, 1, 32).reshape(4, 4, 2), **options)


# --- plot_images -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 28, 28), (6, 28, 28, 1), (6, 10, 12, 3)])
def test_plot_images_titles_are_class_names(shape):
    images = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    labels = [7, 0, 9, 3, 3, 1]
    fig = plot_images(images, labels)
    assert isinstance(fig, Figure)
    tiles = image_axes(fig)
    assert [ax.get_title() for ax in tiles] == [CLASS_NAMES[i] for i in labels]
    assert len(hidden_axes(fig)) == 0  # 2 rows of 3 (issue 21; 2 of 4 before)
    for tile, picture in zip(tiles, images, strict=True):
        np.testing.assert_array_equal(
            tile.get_images()[0].get_array(), picture[..., 0] if shape[-1] == 1 else picture
        )


def test_plot_images_takes_other_class_names_and_ncols():
    fig = plot_images(np.zeros((3, 4, 4)), np.array([1, 0, 1]), ncols=1, class_names=["a", "b"])
    assert [ax.get_title() for ax in image_axes(fig)] == ["b", "a", "b"]
    assert image_axes(fig)[0].get_subplotspec().get_gridspec().get_geometry() == (3, 1)


def test_plot_images_rejects_lengths_that_differ():
    with pytest.raises(ValueError, match=r"same length.*3 images"):
        plot_images(np.zeros((3, 28, 28)), [1, 2])


@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        (
            [0, 10],
            ValueError,
            r"^labels must hold labels in range\(0, 10\); got 1 outside it, the first 10 at index 1",
        ),
        ([-1, 2], ValueError, r"^labels must hold .*the first -1 at index 0"),
        ([0.5, 1.0], TypeError, r"^labels must hold integer labels; got dtype float64"),
        (["Bag", "Coat"], TypeError, r"^labels must hold integer labels; got dtype <U4"),
    ],
)
def test_plot_images_rejects_labels_without_a_class_name(labels, error, words):
    with pytest.raises(error, match=words):
        plot_images(np.zeros((2, 28, 28)), labels)


@pytest.mark.parametrize("shape", [(28, 28), (2, 28, 28, 2), (0, 28, 28)])
def test_plot_images_rejects_bad_images(shape):
    with pytest.raises(ValueError, match="images"):
        plot_images(np.zeros(shape), list(range(shape[0])) if len(shape) > 2 else [0])


# --- plot_probabilities ----------------------------------------------------------------------


@pytest.mark.parametrize("batch_axis", [False, True])
def test_plot_probabilities_draws_one_bar_per_class(batch_axis):
    p = np.random.default_rng(3).random(10)
    p /= p.sum()
    fig = plot_probabilities(p[np.newaxis] if batch_axis else p, title="op")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    bars = ax.patches
    assert len(bars) == 10
    assert [label.get_text() for label in ax.get_yticklabels()] == list(CLASS_NAMES)
    # Bars are placed at the tick of their class, so each width is that class's probability.
    by_position = sorted(bars, key=lambda bar: bar.get_y() + bar.get_height() / 2)
    centres = [bar.get_y() + bar.get_height() / 2 for bar in by_position]
    np.testing.assert_allclose(centres, ax.get_yticks())
    np.testing.assert_allclose([bar.get_width() for bar in by_position], p)
    # The most probable class stands out: its colour is the one no other bar has.
    colours = [to_rgba(bar.get_facecolor()) for bar in by_position]
    best = int(np.argmax(p))
    assert all(colours[best] != colour for i, colour in enumerate(colours) if i != best)
    assert len({colour for i, colour in enumerate(colours) if i != best}) == 1
    assert ax.get_title() == "op"


def test_plot_probabilities_takes_other_class_names():
    fig = plot_probabilities([0.2, 0.8], class_names=["cat", "dog"])
    assert [label.get_text() for label in fig.axes[0].get_yticklabels()] == ["cat", "dog"]


@pytest.mark.parametrize("shape", [(9,), (11,), (2, 10), (1, 1, 10), ()])
def test_plot_probabilities_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="probabilities"):
        plot_probabilities(np.full(shape, 0.1))


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        (np.linspace(-2, 3, 10), "from -2 to 3 summing to 5"),  # logits
        (np.full(10, 0.5), "from 0.5 to 0.5 summing to 5"),  # scores in range, not a distribution
        (np.r_[np.nan, np.full(9, 0.1)], "from nan"),
    ],
)
def test_plot_probabilities_refuses_what_is_not_probabilities(values, shown):
    with pytest.raises(ValueError, match=rf"must be class probabilities .* {shown}.*softmax"):
        plot_probabilities(values)


def test_plot_probabilities_refuses_strings():
    with pytest.raises(ValueError, match="probabilities must be numbers; got dtype <U"):
        plot_probabilities([str(v) for v in np.full(10, 0.1)])


# --- plot_layer_outputs ----------------------------------------------------------------------


def test_one_figure_per_layer_titled_with_name_and_shape(model, image, all_layers):
    figures = all_layers
    outputs = layer_outputs(model, image)
    assert len(figures) == 10
    assert all(isinstance(fig, Figure) for fig in figures)
    assert [fig.get_suptitle() for fig in figures] == [
        f"{name} {tuple(output.shape[1:])}" for name, output in outputs.items()
    ]
    assert figures[0].get_suptitle() == "conv1 (24, 24, 6)"
    assert figures[5].get_suptitle() == "max_pool2 (4, 4, 16)"
    # Feature maps: one tile per channel, holding that channel.
    conv1 = image_axes(figures[0])
    assert len(conv1) == 6
    np.testing.assert_allclose(conv1[4].get_images()[0].get_array(), outputs["conv1"][0, ..., 4])
    assert len(image_axes(figures[3])) == 16
    # Dense layers: one strip each.
    for fig in figures[6:9]:
        assert len(image_axes(fig)) == 1


def test_the_softmax_layer_is_drawn_as_class_probabilities(model, image, all_layers):
    fig = all_layers[-1]
    assert fig.get_suptitle() == "op (10,)"
    (ax,) = fig.axes
    assert len(ax.patches) == 10
    assert [label.get_text() for label in ax.get_yticklabels()] == list(CLASS_NAMES)
    probabilities = layer_outputs(model, image, ["op"])["op"][0]
    widths = sorted(ax.patches, key=lambda bar: bar.get_y())
    np.testing.assert_allclose([bar.get_width() for bar in widths], probabilities, rtol=1e-6)


def test_a_subset_of_layers(model, image):
    figures = plot_layer_outputs(model, image[..., np.newaxis], layers=["relu2", 1, "op"])
    assert [fig.get_suptitle() for fig in figures] == [
        "relu2 (8, 8, 16)",
        "conv1 (24, 24, 6)",
        "op (10,)",
    ]


def test_uint8_pixels_follow_the_one_rule_and_a_model_that_cannot_say_is_named_by_image():
    inputs = keras.Input((6, 6, 1))
    flipped = keras.Sequential([keras.layers.RandomFlip()])(inputs)
    scaled = keras.layers.Rescaling(1 / 255, name="rescale")(flipped)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(scaled))
    pixels = np.arange(36, dtype=np.uint8).reshape(6, 6) * 7
    (fig,) = plot_layer_outputs(model, pixels, layers=["rescale"])
    # The pixels reach the Rescaling as they are, so it gives them divided by 255 once.
    np.testing.assert_allclose(
        image_axes(fig)[0].get_images()[0].get_array(), pixels / 255, rtol=1e-6
    )
    plt.close(fig)
    unknown = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Normalization(name="norm"), keras.layers.Flatten()]
    )
    with pytest.raises(
        ValueError, match=r"cannot scale uint8 image: .*give image as floats"
    ) as raised:
        plot_layer_outputs(unknown, pixels)
    assert "scale=" not in str(raised.value)  # this function's scale is the tiles', not pixels'


def test_ncols_reaches_the_feature_maps(model, image):
    (fig,) = plot_layer_outputs(model, image, layers=["conv1"], ncols=2)
    assert image_axes(fig)[0].get_subplotspec().get_gridspec().get_geometry() == (3, 2)


def test_scale_reaches_the_feature_maps(model, image):
    conv1, relu1 = plot_layer_outputs(model, image, layers=["conv1", "relu1"], scale="layer")
    outputs = layer_outputs(model, image, ["conv1", "relu1"])
    signed = image_axes(conv1)[0].get_images()[0]
    assert signed.get_cmap().name == "RdBu_r"
    assert signed.norm.vmax == pytest.approx(np.abs(outputs["conv1"]).max())
    assert signed.norm.vmin == pytest.approx(-signed.norm.vmax)
    assert image_axes(relu1)[0].get_images()[0].norm.vmin == 0.0
    assert len(colour_bars(conv1)) == len(colour_bars(relu1)) == 1
    with pytest.raises(ValueError, match=r"^scale must be one of"):
        plot_layer_outputs(model, image, scale="all")


def test_a_batch_of_one_is_accepted_and_a_batch_of_two_is_an_error(model, image):
    (fig,) = plot_layer_outputs(model, image[np.newaxis, ..., np.newaxis], layers=["conv1"])
    assert len(image_axes(fig)) == 6
    with pytest.raises(ValueError, match=r"batch of 2.*pick one"):
        plot_layer_outputs(model, np.stack([image, image])[..., np.newaxis])


def test_the_image_is_checked_under_its_own_name_and_may_be_a_nested_list(model, image):
    # layer_outputs calls its argument images and reads a list as a stream of batches.
    scaled = image / 255.0
    (fig,) = plot_layer_outputs(model, scaled.tolist(), layers=["conv1"])
    (same,) = plot_layer_outputs(model, scaled, layers=["conv1"])
    for tile, expected in zip(image_axes(fig), image_axes(same), strict=True):
        np.testing.assert_array_equal(tile.images[0].get_array(), expected.images[0].get_array())
    with pytest.raises(
        ValueError,
        match=r"^image must be one image of the model's input shape \(H, W, C\) = \(28, 28, 1\), or \(H, W\) for one channel; got shape \(32, 32\)",
    ):
        plot_layer_outputs(model, np.zeros((32, 32)))
    with pytest.raises(ValueError, match=r"^image must hold finite values; got 1 NaN"):
        plot_layer_outputs(model, np.where(np.arange(784).reshape(28, 28) == 5, np.nan, 0.5))
    with pytest.raises(TypeError, match=r"^image must be one image as an array, .* got generator"):
        plot_layer_outputs(model, (row for row in image))


def _small_model(head):
    """A 4x4 one-channel image through Flatten, then the given head layers (Keras, not random)."""
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Flatten(name="flatten")(inputs)
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x)


def test_probabilities_are_found_by_their_values_not_by_the_activation_name():
    # A Softmax layer of its own has no `activation`; the guess by name drew it as a strip.
    model = _small_model(
        [
            keras.layers.Dense(10, kernel_initializer="ones", name="scores"),
            keras.layers.Softmax(name="probs"),
        ]
    )
    image = np.arange(16, dtype=np.float32).reshape(4, 4) / 16
    _, scores, probs = plot_layer_outputs(model, image)
    assert len(image_axes(scores)) == 1  # the scores (all 7.5, far above 1): a strip
    (ax,) = probs.axes
    assert len(ax.patches) == 10
    assert [label.get_text() for label in ax.get_yticklabels()] == list(CLASS_NAMES)
    assert probs.get_suptitle() == "probs (10,)"


def test_a_probability_row_of_another_length_than_class_names():
    model = _small_model([keras.layers.Dense(3, activation="softmax", name="op")])
    image = np.ones((4, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"class_names.*3 classes.*10 names"):
        plot_layer_outputs(model, image)
    assert plt.get_fignums() == []  # the error came before any figure was drawn
    (fig,) = plot_layer_outputs(model, image, layers=["op"], class_names=["a", "b", "c"])
    assert [label.get_text() for label in fig.axes[0].get_yticklabels()] == ["a", "b", "c"]


def test_ten_units_that_are_not_probabilities_are_a_strip():
    # relu of ones: every unit is 16, neither in [0, 1] nor summing to 1.
    model = _small_model(
        [keras.layers.Dense(10, activation="relu", kernel_initializer="ones", name="fc")]
    )
    (fig,) = plot_layer_outputs(model, np.ones((4, 4), dtype=np.float32), layers=["fc"])
    assert len(image_axes(fig)) == 1
    assert not any(ax.patches for ax in fig.axes)


# --- plot_side_by_side ----------------------------------------------------------------------


def _softmax(scores):
    e = np.exp(scores - np.max(scores))
    return (e / e.sum())[np.newaxis]


def _two_models():
    """Layer outputs of one image in two models whose maps differ in size, as valid and same."""
    rng = np.random.default_rng(5)
    return {
        "valid": {
            "conv1": rng.random((1, 6, 6, 6)),
            "conv2": rng.random((1, 2, 2, 16)),
            "fc1": rng.normal(size=(1, 12)),
            "op": _softmax(rng.normal(size=10)),
        },
        "same": {
            "conv1": rng.random((1, 8, 8, 6)),
            "conv2": rng.random((1, 4, 4, 16)),
            "fc1": rng.normal(size=(1, 12)),
            "op": _softmax(rng.normal(size=10)),
        },
    }


def _cell_titles(fig):
    return [sub.get_suptitle() for sub in fig.subfigs]


def test_side_by_side_one_row_per_layer_one_column_per_model():
    outputs = _two_models()
    fig = plot_side_by_side(outputs)
    assert isinstance(fig, Figure)
    assert _cell_titles(fig) == [
        "valid",
        "same",
        "conv1 (6, 6, 6)",
        "conv1 (8, 8, 6)",
        "conv2 (2, 2, 16)",
        "conv2 (4, 4, 16)",
        "fc1 (12,)",
        "fc1 (12,)",
        "op (10,)",
        "op (10,)",
    ]
    cells = np.array(fig.subfigs[2:], dtype=object).reshape(4, 2)
    for column, label in enumerate(outputs):
        conv1, conv2, fc1, op = cells[:, column]
        tiles = image_axes(conv1)
        assert len(tiles) == 6
        for c, ax in enumerate(tiles):
            np.testing.assert_array_equal(
                ax.get_images()[0].get_array(), outputs[label]["conv1"][0, ..., c]
            )
        assert len(image_axes(conv2)) == 16
        (strip,) = image_axes(fc1)
        np.testing.assert_array_equal(strip.get_images()[0].get_array(), outputs[label]["fc1"])
        (bars,) = op.axes
        widths = [bar.get_width() for bar in sorted(bars.patches, key=lambda b: b.get_y())]
        np.testing.assert_allclose(widths, outputs[label]["op"][0])
        assert [t.get_text() for t in bars.get_yticklabels()] == list(CLASS_NAMES)


def test_side_by_side_layers_picks_and_orders_the_rows_and_titles_name_the_columns():
    fig = plot_side_by_side(_two_models(), layers=["op", "conv1"], titles=["left", "right"])
    assert _cell_titles(fig) == [
        "left",
        "right",
        "op (10,)",
        "op (10,)",
        "conv1 (6, 6, 6)",
        "conv1 (8, 8, 6)",
    ]


def test_side_by_side_takes_one_model_and_three():
    outputs = _two_models()
    assert _cell_titles(plot_side_by_side({"valid": outputs["valid"]}, layers=["fc1"])) == [
        "valid",
        "fc1 (12,)",
    ]
    three = {**outputs, "again": outputs["valid"]}
    fig = plot_side_by_side(three, layers=["conv1"])
    assert _cell_titles(fig)[:3] == ["valid", "same", "again"]
    assert len(fig.subfigs) == 6


@pytest.mark.parametrize(
    ("channels", "grid"), [(1, (1, 1)), (6, (2, 3)), (16, (4, 4)), (64, (8, 8))]
)
def test_side_by_side_columns_per_row_follow_the_channel_count(channels, grid):
    output = np.random.default_rng(0).random((1, 5, 5, channels))
    fig = plot_side_by_side({"a": {"conv": output}, "b": {"conv": output}})
    tiles = image_axes(fig.subfigs[2])
    assert len(tiles) == channels
    assert tiles[0].get_subplotspec().get_gridspec().get_geometry() == grid


def test_side_by_side_tiles_are_readable_in_the_page_column():
    """Two models' 16-channel maps: the hand-made layout gave tiles about 40 px wide."""
    fig = plot_side_by_side(_two_models(), layers=["conv2"])
    fig.set_dpi(100)  # the gallery saves figures at 100 dpi
    # The page shrinks the figure to its column: 620 px in a 1280 px window.
    scale = 620 / (fig.get_figwidth() * fig.dpi)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    widths = [ax.get_window_extent(renderer).width * scale for ax in image_axes(fig)]
    assert len(widths) == 32
    assert min(widths) >= 64, min(widths)
    # A wider figure would have wider tiles too, but text too small to read once shrunk.
    title = image_axes(fig)[0].title
    assert title.get_fontsize() * fig.dpi / 72 * scale >= 9  # pixels in the page
    # The tiles of one row do not overlap the titles of the next.
    tiles = image_axes(fig.subfigs[2])
    below = tiles[4].title.get_window_extent(renderer)
    assert below.y1 <= tiles[0].get_window_extent(renderer).y0


def test_side_by_side_layer_scale_gives_each_model_its_own_scale_and_bar():
    outputs = _two_models()
    fig = plot_side_by_side(outputs, layers=["conv1", "conv2"], scale="layer")
    cells = np.array(fig.subfigs[2:], dtype=object).reshape(2, 2)
    for row, name in enumerate(["conv1", "conv2"]):
        for column, label in enumerate(outputs):
            cell = cells[row, column]
            assert len(colour_bars(cell)) == 1
            top = np.abs(outputs[label][name]).max()
            limits = {ax.get_images()[0].norm.vmax for ax in image_axes(cell)}
            assert len(limits) == 1
            assert limits.pop() == pytest.approx(top)
    # Each colour bar sits inside its own cell, to the right of its tiles.
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    for cell in fig.subfigs[2:]:
        (bar,) = colour_bars(cell)
        box = bar.get_window_extent(renderer)
        assert cell.bbox.x0 <= box.x0
        assert box.x1 <= cell.bbox.x1
        assert box.x0 >= max(ax.get_window_extent(renderer).x1 for ax in image_axes(cell))
    with pytest.raises(ValueError, match=r"^scale must be one of"):
        plot_side_by_side(outputs, scale="model")


@pytest.mark.parametrize(
    ("outputs", "options", "message"),
    [
        ({}, {}, r"^outputs must map a model label.*got an empty mapping"),
        ([np.zeros((1, 3))], {}, r"^outputs must map.*got list"),
        ({"a": {}}, {}, r"^outputs\['a'\] must be a non-empty dict"),
        (
            {"a": {"x": np.zeros((1, 3)), "y": np.zeros((1, 3))}, "b": {"x": np.zeros((1, 3))}},
            {},
            r"^layer 'y' is missing from outputs\['b'\], whose layers are \['x'\]; pick",
        ),
        ({"a": {"x": np.zeros((1, 3))}}, {"layers": ["z"]}, r"^layer 'z' is missing"),
        ({"a": {"x": np.zeros((1, 3))}}, {"layers": "x"}, r"^layers must be a non-empty list"),
        ({"a": {"x": np.zeros((1, 3))}}, {"layers": []}, r"^layers must be a non-empty list"),
        (
            {"a": {"x": np.zeros((2, 4, 4, 3))}},
            {},
            r"^outputs\['a'\]\['x'\] holds a batch of 2 images.*one image",
        ),
        (
            {"a": {"x": np.zeros((4, 4, 3))}},
            {},
            r"^outputs\['a'\]\['x'\] must be one image's.*batch axis.*got shape \(4, 4, 3\)",
        ),
        (
            {"a": {"x": np.zeros((1, 3))}, "b": {"x": np.zeros((1, 3))}},
            {"titles": ["only one"]},
            r"^titles must give one column title per model, 2 for \['a', 'b'\]",
        ),
        ({"a": {"x": np.zeros((1, 3))}}, {"titles": "a"}, r"^titles must give one"),
        (
            {"a": {"op": np.array([[0.2, 0.3, 0.5]])}},
            {},
            r"^class_names.*probabilities of 3 classes.*10 names",
        ),
    ],
)
def test_side_by_side_says_which_argument_is_wrong(outputs, options, message):
    with pytest.raises(ValueError, match=message):
        plot_side_by_side(outputs, **options)
    assert plt.get_fignums() == []  # checked before any figure was made


@pytest.mark.parametrize(
    ("row", "bars"),
    [
        (np.full(10, 0.1), True),
        (np.r_[np.full(9, 0.1), 0.1005], True),  # sums to 1 within 1e-3
        (np.r_[np.full(9, 0.1), 0.102], False),  # off by 2e-3: not probabilities
        (np.r_[np.full(8, 0.1), 0.3, -0.1], False),  # sums to 1 but has a negative value
        (np.r_[np.full(8, 0.0), 1.5, -0.5], False),
    ],
)
def test_side_by_side_draws_bars_only_for_probability_rows(row, bars):
    fig = plot_side_by_side({"a": {"op": row[np.newaxis]}})
    (cell,) = fig.subfigs[1:]
    if bars:
        assert len(cell.axes[0].patches) == 10
    else:
        assert len(image_axes(cell)) == 1
        assert not any(ax.patches for ax in cell.axes)


def test_side_by_side_takes_other_class_names():
    outputs = {"a": {"op": np.array([[0.2, 0.3, 0.5]])}}
    fig = plot_side_by_side(outputs, class_names=["cat", "dog", "emu"])
    ticks = fig.subfigs[1].axes[0].get_yticklabels()
    assert [t.get_text() for t in ticks] == ["cat", "dog", "emu"]


# --- plot_history ----------------------------------------------------------------------------


def test_plot_history_draws_loss_and_accuracy_with_validation():
    history = {
        "loss": [0.9, 0.5, 0.4],
        "accuracy": [0.6, 0.8, 0.85],
        "val_loss": [0.8, 0.6, 0.55],
        "val_accuracy": [0.7, 0.78, 0.8],
    }
    fig = plot_history(history, validation_label="test", title="LeNet-5")
    assert [ax.get_title() for ax in fig.axes] == ["Loss (categorical cross-entropy)", "Accuracy"]
    assert fig.get_suptitle() == "LeNet-5"
    loss_ax, accuracy_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "test"]
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(accuracy_ax.get_lines()[1].get_ydata(), history["val_accuracy"])


def test_plot_history_takes_a_keras_history_and_draws_only_what_it_has():
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.5]}
    fig = plot_history(history)
    assert len(fig.axes) == 1
    assert len(fig.axes[0].get_lines()) == 1


def test_plot_history_draws_into_a_given_figure():
    fig = plt.figure()
    assert plot_history({"loss": [1.0], "accuracy": [0.5]}, fig=fig) is fig
    assert len(fig.axes) == 2


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ({"accuracy": [0.5]}, r"'loss'.*keys \['accuracy'\]"),
        ([0.5, 0.4], r"'loss'.*got list"),
        ({"loss": []}, "one value per epoch"),
        ({"loss": [1.0, 0.5], "val_loss": [1.0]}, r"one value per epoch.*'val_loss': 1"),
    ],
)
def test_plot_history_rejects_what_is_not_a_history(history, message):
    with pytest.raises(ValueError, match=message):
        plot_history(history)


@pytest.mark.parametrize("where", ["own figure", "subfigure without layout engine"])
def test_a_strip_title_sits_above_the_strip(where):
    values = np.linspace(0, 1, 120)[np.newaxis]
    if where == "own figure":
        fig = plot_feature_maps(values, title="fc1 (120,)")
    else:
        fig = plot_feature_maps(
            values, title="fc1 (120,)", fig=plt.figure(figsize=(8, 2.6)).subfigures(2, 1)[0]
        )
    renderer = fig.figure.canvas.get_renderer()
    fig.figure.draw(renderer)
    title = fig._suptitle.get_window_extent(renderer)
    strip = fig.axes[0].get_window_extent(renderer)
    assert title.y0 >= strip.y1, (title, strip)


@pytest.mark.parametrize(
    "history",
    [
        {"loss": ["0.9", "0.5", "0.7"]},
        {"loss": [0.9, 0.5], "val_loss": ["a", "b"]},
        {"loss": [0.9, 0.5], "accuracy": [True, False]},
    ],
)
def test_plot_history_refuses_lists_that_are_not_numbers(history):
    with pytest.raises(ValueError, match=r"history\['\w+'\] must hold numbers"):
        plot_history(history)


# --- explanations: plot_attribution ----------------------------------------------------------


def _signed_and_positive_maps() -> np.ndarray:
    signed = np.linspace(-1.0, 3.0, 64).reshape(8, 8)  # |min| < max: limits must be +-3
    positive = np.linspace(0.0, 2.0, 64).reshape(8, 8)
    return np.stack([signed, positive])


def _map_images(fig) -> list:
    """The map drawn in each titled map tile: the last image of the axes."""
    return [ax.get_images()[-1] for ax in image_axes(fig) if ax.get_title() != ""]


@pytest.mark.parametrize("overlay", [True, False])
def test_attribution_scales_signed_maps_symmetrically_and_others_from_zero(overlay):
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    fig = plot_attribution(images, _signed_and_positive_maps(), overlay=overlay)
    bars = colour_bars(fig)
    assert len(bars) == 2  # one colour scale per map, each with its bar
    signed, positive = (bar._colorbar.mappable for bar in bars)
    assert (signed.norm.vmin, signed.norm.vmax) == (-3.0, 3.0)
    assert signed.get_cmap().name == "RdBu_r"
    assert (positive.norm.vmin, positive.norm.vmax) == (0.0, 2.0)
    assert positive.get_cmap().name == "magma"
    assert signed.get_interpolation() == "nearest"
    # The figure says how it is scaled: on each bar and in the title.
    assert "symmetric about 0" in bars[0].get_ylabel()
    assert "0 to its maximum" in bars[1].get_ylabel()
    assert "own scale" in fig.get_suptitle()


def test_attribution_overlay_puts_the_map_over_the_grey_image_with_alpha():
    images = np.full((2, 8, 8), 0.5, dtype=np.float32)
    fig = plot_attribution(images, _signed_and_positive_maps(), titles=["Coat", "Shirt"])
    tiles = image_axes(fig)
    # Each title gives the map's range in its own units.
    assert [ax.get_title() for ax in tiles] == ["Coat\n-1 .. 3", "Shirt\n0 .. 2"]
    for ax in tiles:
        grey, drawn = ax.get_images()
        assert grey.get_cmap().name == "gray"
        alpha = np.asarray(drawn.get_alpha())
        assert alpha.shape == (8, 8)
        # Transparent where the map is zero, at most 0.85 where it is largest.
        assert alpha.min() == pytest.approx(0.0, abs=0.02)
        assert alpha.max() == pytest.approx(0.85)


def test_attribution_side_by_side_draws_two_tiles_per_image():
    fig = plot_attribution(np.zeros((3, 8, 8)), np.ones((3, 8, 8)), overlay=False)
    assert len(image_axes(fig)) == 6
    assert [ax.get_title() for ax in image_axes(fig)][:2] == ["image 0", "map\n1 .. 1"]
    assert len(colour_bars(fig)) == 3


@pytest.mark.parametrize("overlay", [True, False])
@pytest.mark.parametrize("scale", [0.0, 1e-9, 1e-7])
def test_a_map_that_is_zero_up_to_rounding_is_drawn_flat_with_its_range(scale, overlay):
    # All zero, 1e-9 noise, and the 6e-8 steps of a saturated float32 probability: never
    # stretched to full colour, but white (transparent over the image) and said so.
    rounding = np.random.default_rng(0).normal(0.0, scale, (8, 8))
    maps = np.stack([rounding, np.linspace(0.0, 2e-6, 64).reshape(8, 8)])
    fig = plot_attribution(np.full((2, 8, 8), 0.5), maps, overlay=overlay)
    drawn = _map_images(fig)  # side by side, the image tiles are titled too: keep the maps
    flat, real = [image for image in drawn if overlay or image.axes.get_title().startswith("map")]
    assert explanations.ROUNDING == 4 * 2.0**-23  # 4 float32 steps at 1
    np.testing.assert_array_equal(flat.get_array(), 0.0)
    assert flat.get_cmap().name == "RdBu_r"
    assert (flat.norm.vmin, flat.norm.vmax) == (-explanations.ROUNDING, explanations.ROUNDING)
    if overlay:
        np.testing.assert_array_equal(flat.get_alpha(), 0.0)  # nothing over the image
    low, high = rounding.min() + 0.0, rounding.max() + 0.0
    title = flat.axes.get_title()
    assert title.endswith(f"\n{low:.3g} .. {high:.3g}\nzero up to rounding")
    assert "zero up to rounding" in colour_bars(fig)[0].get_ylabel()
    assert "zero up to float32 rounding, drawn flat" in fig.get_suptitle()
    # A map of 2e-6, above the threshold, keeps its own scale and its full colour.
    assert (real.norm.vmin, real.norm.vmax) == (0.0, 2e-6)
    assert real.axes.get_title().endswith("\n0 .. 2e-06")


def test_no_flat_map_no_note():
    fig = plot_attribution(np.zeros((1, 8, 8)), np.ones((1, 8, 8)))
    assert "rounding" not in fig.get_suptitle()
    assert "rounding" not in fig.axes[0].get_title()


def test_attribution_draws_into_a_given_subfigure():
    parent = plt.figure(layout="constrained")
    sub = parent.subfigures(1, 2)[1]
    assert plot_attribution(np.zeros((1, 8, 8)), np.ones((1, 8, 8)), fig=sub) is sub


# --- explanations: plot_confusion_matrix -----------------------------------------------------

MATRIX = np.array([[8, 2, 0], [1, 6, 3], [0, 0, 0]])


def _cells(fig) -> list[str]:
    return [text.get_text() for text in fig.axes[0].texts]


def test_confusion_matrix_counts_in_the_cells_and_recall_in_the_row_labels():
    fig = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert _cells(fig) == ["8", "2", "0", "1", "6", "3", "0", "0", "0"]
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "a (recall 80.0%)",
        "b (recall 60.0%)",
        "c (recall n/a)",  # no image of class c: recall is undefined, not 0
    ]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class"
    assert ax.get_ylabel().startswith("true class")
    (bar,) = colour_bars(fig)
    assert (bar._colorbar.mappable.norm.vmin, bar._colorbar.mappable.norm.vmax) == (0, 8)
    assert bar.get_ylabel() == "count (0 to 8)"


def test_confusion_matrix_text_is_white_on_dark_cells_and_black_on_light():
    fig = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"])
    colours = [to_rgba(text.get_color()) for text in fig.axes[0].texts]
    assert colours[0] == to_rgba("white")  # 8 of at most 8
    assert colours[1] == to_rgba("black")  # 2
    assert colours[4] == to_rgba("white")  # 6


def test_confusion_matrix_normalized_over_true_rows_sum_to_one():
    fig = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"], normalize="true")
    cells = np.array([np.nan if t == "-" else float(t) for t in _cells(fig)]).reshape(3, 3)
    np.testing.assert_allclose(cells[:2].sum(axis=1), 1.0)
    assert np.isnan(cells[2]).all()  # an empty row has no rates
    (bar,) = colour_bars(fig)
    assert bar._colorbar.mappable.norm.vmax == 1.0
    assert "each row sums to 1" in bar.get_ylabel()


def test_confusion_matrix_normalized_over_pred_and_all():
    pred = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"], normalize="pred")
    cells = np.array([float(t) for t in _cells(pred)]).reshape(3, 3)
    np.testing.assert_allclose(cells.sum(axis=0), 1.0, atol=0.011)  # each cell rounded to 0.01
    share = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"], normalize="all")
    assert _cells(share)[0] == "0.40"
    assert "all images" in colour_bars(share)[0].get_ylabel()


def test_confusion_matrix_with_the_diagonal_masked_shades_the_confusions_on_their_own_scale():
    fig = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"], diagonal="mask")
    ax = fig.axes[0]
    shaded = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(shaded), np.eye(3, dtype=bool))
    np.testing.assert_array_equal(shaded.data[~np.eye(3, dtype=bool)], [2, 0, 1, 3, 0, 0])
    (bar,) = colour_bars(fig)
    assert (bar._colorbar.mappable.norm.vmin, bar._colorbar.mappable.norm.vmax) == (0, 3)
    assert bar.get_ylabel() == "count off the diagonal (0 to 3)"
    # The diagonal's values are still written, in black on its grey cells, which are drawn.
    assert _cells(fig) == ["8", "2", "0", "1", "6", "3", "0", "0", "0"]
    colours = [to_rgba(text.get_color()) for text in ax.texts]
    assert colours[0] == colours[4] == to_rgba("black")
    assert colours[5] == to_rgba("white")  # 3 of at most 3
    grey = [patch.get_xy() for patch in ax.patches if patch.get_facecolor() == to_rgba("0.85")]
    assert grey == [(-0.5, -0.5), (0.5, 0.5), (1.5, 1.5)]
    assert "diagonal (right answers) in grey" in ax.get_title()
    # The recall in the row labels is the diagonal's, masked or not.
    assert ax.get_yticklabels()[0].get_text() == "a (recall 80.0%)"


def test_confusion_matrix_with_the_diagonal_masked_and_rates_runs_to_the_largest_rate():
    fig = plot_confusion_matrix(
        MATRIX, class_names=["a", "b", "c"], normalize="true", diagonal="mask"
    )
    (bar,) = colour_bars(fig)
    assert bar._colorbar.mappable.norm.vmax == 0.3  # b called c: 3 of 10
    assert bar.get_ylabel() == "fraction of the true class, off the diagonal (0 to 0.3)"
    # The default keeps the diagonal on the scale, as before.
    plain = plot_confusion_matrix(MATRIX, class_names=["a", "b", "c"], diagonal="shade")
    assert colour_bars(plain)[0]._colorbar.mappable.norm.vmax == 8
    assert [p for p in plain.axes[0].patches if p.get_facecolor() == to_rgba("0.85")] == []


@pytest.mark.parametrize(
    ("matrix", "normalize", "diagonal"),
    [
        ([[5]], None, "mask"),  # no cell off the diagonal at all
        (np.diag([5, 6, 7]), None, "mask"),  # no confusion
        (np.diag([5, 6, 7]), "true", "mask"),
        (np.zeros((3, 3), int), None, "shade"),  # no image
        (np.zeros((3, 3), int), "all", "shade"),  # 0 / 0: every share NaN
    ],
)
def test_confusion_matrix_with_nothing_to_shade_scales_its_zeros_from_0_to_1(
    matrix, normalize, diagonal
):
    # Hostile review of issue 22: the scale ran to 1e-12 (its bar ticked in units of 1e-12)
    # or, with normalize="all" and no image, to NaN with an All-NaN warning.
    fig = plot_confusion_matrix(
        matrix, class_names=list("abc")[: len(matrix)], normalize=normalize, diagonal=diagonal
    )
    (bar,) = colour_bars(fig)
    assert (bar._colorbar.mappable.norm.vmin, bar._colorbar.mappable.norm.vmax) == (0, 1)
    assert bar.get_ylabel().endswith("(0 to 1)")
    # The zeros off the diagonal are black text on white (the scale's 0), not on dark cells.
    off = [t for k, t in enumerate(fig.axes[0].texts) if k % (len(matrix) + 1)]
    assert all(to_rgba(t.get_color()) == to_rgba("black") for t in off)


def test_confusion_matrix_counts_on_the_colour_bar_are_integers_not_powers_of_ten():
    big = [[10_000_000, 2_000_000], [1_000_000, 10_000_000]]
    plain = plot_confusion_matrix(big, class_names=["a", "b"])
    assert colour_bars(plain)[0].get_ylabel() == "count (0 to 10000000)"  # was "1e+07"
    masked = plot_confusion_matrix(big, class_names=["a", "b"], diagonal="mask")
    assert colour_bars(masked)[0].get_ylabel() == "count off the diagonal (0 to 2000000)"


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
@pytest.mark.parametrize("diagonal", ["shade", "mask"])
def test_confusion_matrix_of_two_classes_has_room_for_its_title_and_colour_bar_label(
    normalize, diagonal
):
    # A 2x2 matrix drew a 2.2-inch figure: the masked title and the bar's label were cut off.
    fig = plot_confusion_matrix(
        [[5, 1], [2, 7]], class_names=["a", "b"], normalize=normalize, diagonal=diagonal
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (bar,) = colour_bars(fig)
    for text in (fig.axes[0].title, bar.yaxis.label, fig.axes[0].yaxis.label):
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 <= box.x1 <= fig.bbox.width, text.get_text()
        assert 0 <= box.y0 <= box.y1 <= fig.bbox.height, text.get_text()


def test_confusion_matrix_of_fashion_mnist_names_every_class():
    fig = plot_confusion_matrix(np.eye(10, dtype=np.int64) * 100)
    assert [label.get_text() for label in fig.axes[0].get_xticklabels()] == list(CLASS_NAMES)


# --- explanations: plot_mistakes -------------------------------------------------------------

PROBABILITIES = np.array([[0.1, 0.9, 0.0], [0.97, 0.02, 0.01], [0.2, 0.3, 0.5]])


def test_mistakes_tiles_are_titled_true_predicted_and_probability():
    fig = plot_mistakes(
        np.zeros((3, 8, 8)), [0, 1, 2], PROBABILITIES, [1, 0], class_names=["a", "b", "c"]
    )
    assert [ax.get_title() for ax in image_axes(fig)] == [
        "true b (p=0.02)\npredicted a (p=0.97)",
        "true a (p=0.10)\npredicted b (p=0.90)",
    ]
    assert colour_bars(fig) == []
    assert "the class's probability, true and predicted" in fig.get_suptitle()


def test_mistakes_titles_keep_a_tiny_true_class_probability_apart_from_zero():
    # Confident mistakes all show p=1.00 for the predicted class; the true class's p tells them apart.
    probabilities = np.array([[1 - 3e-9, 3e-9], [1 - 4e-5, 4e-5]])
    fig = plot_mistakes(np.zeros((2, 8, 8)), [1, 1], probabilities, [0, 1], class_names=["a", "b"])
    assert [ax.get_title() for ax in image_axes(fig)] == [
        "true b (p=3e-09)\npredicted a (p=1.00)",
        "true b (p=4e-05)\npredicted a (p=1.00)",
    ]


def test_mistakes_titles_write_one_probability_one_way():
    # Hostile review of issue 22: a tile read "true a (p=0.1)" over "predicted a (p=0.10)" (the
    # same number, :.2g and :.2f), a zero negated on the way read "p=-0", and the predicted
    # class's probability among 1,000 near-equal classes read "p=0.00".
    many = np.full((1, 1000), 0.9985 / 999)
    many[0, 7] = 0.0015
    probabilities = np.array([[0.1, 0.1, 0.8], [1.0, -0.0, 0.0], [0.0995, 0.0994, 0.8011]])
    fig = plot_mistakes(
        np.zeros((3, 8, 8)), [0, 1, 1], probabilities, [0, 1, 2], class_names=list("abc")
    )
    assert [ax.get_title() for ax in image_axes(fig)] == [
        "true a (p=0.10)\npredicted c (p=0.80)",
        "true b (p=0)\npredicted a (p=1.00)",
        "true b (p=0.099)\npredicted c (p=0.80)",
    ]
    fig = plot_mistakes(
        np.zeros((1, 8, 8)), [3], many, [0], class_names=[str(c) for c in range(1000)]
    )
    assert image_axes(fig)[0].get_title() == "true 3 (p=0.001)\npredicted 7 (p=0.0015)"


def test_mistakes_with_maps_share_one_bar_each_map_divided_by_its_largest_value():
    maps = np.stack([np.full((8, 8), 5.0), np.linspace(-2, 1, 64).reshape(8, 8), np.ones((8, 8))])
    fig = plot_mistakes(
        np.zeros((3, 8, 8)),
        [0, 1, 2],
        PROBABILITIES,
        [0, 1],
        maps=maps,
        class_names=["a", "b", "c"],
    )
    (bar,) = colour_bars(fig)
    norm = bar._colorbar.mappable.norm
    assert (norm.vmin, norm.vmax) == (-1, 1)  # one of the maps is signed
    assert "largest |value|" in bar.get_ylabel()
    first = image_axes(fig)[0].get_images()[-1]
    np.testing.assert_allclose(first.get_array(), 1.0)  # 5 divided by 5


# --- explanations: plot_randomization --------------------------------------------------------


class _Result:
    """A result given as attributes, as a dataclass would give it."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


@pytest.mark.parametrize("as_object", [False, True])
def test_randomization_draws_the_curve_against_the_layers_and_a_row_of_maps(as_object):
    layers = ["dense3", "dense2", "conv1"]
    maps = np.stack([np.linspace(-k - 1, 1, 2 * 64).reshape(2, 8, 8) for k in range(4)])
    fields = {"layers": layers, "correlation": np.array([0.8, 0.4, 0.05]), "maps": maps}
    fig = plot_randomization(_Result(**fields) if as_object else fields)
    curve = fig.axes[0]
    (line,) = curve.get_lines()[:1]
    np.testing.assert_allclose(line.get_ydata(), [0.8, 0.4, 0.05])
    assert [label.get_text() for label in curve.get_xticklabels()] == layers
    assert curve.get_ylim() == (-1.0, 1.0)
    assert "Spearman" in curve.get_ylabel()
    tiles = image_axes(fig)
    assert [ax.get_title() for ax in tiles] == ["original", "+ dense3", "+ dense2", "+ conv1"]
    (bar,) = colour_bars(fig)
    assert (bar._colorbar.mappable.norm.vmin, bar._colorbar.mappable.norm.vmax) == (-1, 1)


def test_randomization_draws_the_absolute_correlation_beside_the_signed_one():
    layers = ["dense3", "conv1"]
    fields = {
        "layers": layers,
        "correlation": np.array([0.1, -0.05]),
        "correlation_abs": np.array([0.9, np.nan]),
        "maps": np.stack([np.linspace(-1, 1, 64).reshape(1, 8, 8)] * 3),
    }
    fig = plot_randomization(fields)
    curve = fig.axes[0]
    signed, absolute = curve.get_lines()[:2]
    np.testing.assert_allclose(signed.get_ydata(), [0.1, -0.05])
    np.testing.assert_allclose(absolute.get_ydata(), [0.9, np.nan])
    assert absolute.get_linestyle() == "--"
    assert signed.get_linestyle() == "-"
    assert [text.get_text() for text in curve.get_legend().get_texts()] == [
        "signed maps",
        "absolute values |map|",
    ]
    assert curve.get_title().startswith("Cascading")
    # Independent randomization: each step is its layer alone, and the figure says so.
    fig = plot_randomization({**fields, "cascade": np.bool_(False)})
    assert fig.axes[0].get_title().startswith("Independent")
    assert "alone" in fig.axes[0].get_xlabel()
    assert [ax.get_title() for ax in image_axes(fig)] == ["original", "only dense3", "only conv1"]


def test_randomization_without_maps_draws_only_the_curve():
    fig = plot_randomization({"layers": ["conv1"], "correlation": np.array([np.nan])})
    assert image_axes(fig) == []
    assert colour_bars(fig) == []
    assert fig.axes[0].get_legend() is None  # one curve: nothing to tell apart


# --- explanations: plot_deletion -------------------------------------------------------------


def _deletion(probabilities) -> dict:
    p = np.asarray(probabilities, dtype=float)
    fractions = np.linspace(0, 1, p.shape[1])
    return {"fractions": fractions, "probabilities": p, "auc": np.trapezoid(p, fractions, axis=1)}


def test_deletion_draws_the_mean_a_percentile_band_and_the_mean_auc():
    p = [[1.0, 0.5, 0.0], [0.8, 0.3, 0.2], [0.6, 0.1, 0.1], [0.4, 0.1, 0.1]]
    fig = plot_deletion({"gradients": _deletion(p), "random": _deletion(np.full((4, 3), 0.5))})
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.mean(p, axis=0))
    assert len(ax.collections) == 2  # one band per result
    auc = np.trapezoid(np.array(p), np.linspace(0, 1, 3), axis=1).mean()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        f"gradients (mean AUC {auc:.3f})",
        "random (mean AUC 0.500)",
    ]
    assert ax.get_ylim() == (0.0, 1.0)
    assert "25th to 75th percentile" in ax.get_title()


def test_deletion_without_bands_draws_the_means_alone_and_says_so():
    p = [[1.0, 0.5, 0.0], [0.6, 0.1, 0.1]]
    fig = plot_deletion(
        {"gradients": _deletion(p), "random": _deletion(np.full((2, 3), 0.5))}, bands=False
    )
    ax = fig.axes[0]
    assert len(ax.collections) == 0  # no band
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.8, 0.3, 0.05])
    assert ax.get_title() == "Mean over 2 images"


def test_deletion_of_one_image_says_one_image_and_takes_numpy_bools_for_bands():
    # Hostile review of issue 22: the title read "Mean over 1 images".
    one = _deletion([[1.0, 0.5, 0.0]])
    assert plot_deletion(one, bands=np.bool_(False)).axes[0].get_title() == "Mean over 1 image"
    ax = plot_deletion(one, bands=np.bool_(True)).axes[0]
    assert len(ax.collections) == 1
    assert ax.get_title() == "Mean over 1 image; band: 25th to 75th percentile"


def test_deletion_takes_one_result_a_sequence_with_labels_and_objects():
    one = plot_deletion(_Result(**_deletion(np.full((2, 3), 0.5))))
    assert one.axes[0].get_legend().get_texts()[0].get_text().startswith("curve 0")
    two = plot_deletion([_deletion(np.full((2, 3), 0.5))] * 2, labels=["deletion", "insertion"])
    labels = [text.get_text() for text in two.axes[0].get_legend().get_texts()]
    assert [label.split(" (")[0] for label in labels] == ["deletion", "insertion"]


@pytest.mark.parametrize(
    "plot",
    [
        lambda fig: plot_attribution(np.zeros((1, 8, 8)), np.ones((1, 8, 8)), fig=fig),
        lambda fig: plot_confusion_matrix(np.eye(10, dtype=int), fig=fig),
        lambda fig: plot_mistakes(np.zeros((1, 8, 8)), [0], np.full((1, 10), 0.1), [0], fig=fig),
        lambda fig: plot_randomization({"layers": ["c"], "correlation": np.array([0.1])}, fig=fig),
        lambda fig: plot_deletion(_deletion(np.full((2, 3), 0.5)), fig=fig),
    ],
)
def test_explanation_plots_draw_into_a_given_figure_and_refuse_other_figs(plot):
    given = plt.figure()
    assert plot(given) is given
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure or SubFigure; got str"):
        plot("figure")
