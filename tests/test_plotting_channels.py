"""Tests of plotting.filters and plotting.channels: kernels, fields, patches, classes, ablation."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnviz import (
    CLASS_NAMES,
    plot_ablation,
    plot_class_activations,
    plot_kernels,
    plot_receptive_field,
    plot_top_patches,
)


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    """The library leaves showing to the caller; each test's figures are closed after it."""

    def show(*args, **kwargs):
        raise AssertionError("cnnviz called plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def tiles(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images()]


def on_pixel_edges(rectangle, box) -> bool:
    top, left, bottom, right = box
    (x, y), w, h = rectangle.get_xy(), rectangle.get_width(), rectangle.get_height()
    return (x, y, x + w, y + h) == (left - 0.5, top - 0.5, right - 0.5, bottom - 0.5)


# --- plot_kernels ----------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "grid"), [((5, 5, 1, 6), (2, 3)), ((5, 5, 6, 16), (6, 16))])
def test_kernels_one_tile_per_input_channel_and_filter(shape, grid):
    kernels = np.random.default_rng(0).normal(size=shape)
    fig = plot_kernels(kernels)
    drawn = tiles(fig)
    assert len(drawn) == shape[2] * shape[3]
    columns = len({round(ax.get_position().x0, 6) for ax in drawn})
    rows = len({round(ax.get_position().y0, 6) for ax in drawn})
    assert (rows, columns) == grid
    for ax in drawn:
        assert ax.get_images()[0].get_array().shape == shape[:2]


def test_kernels_tile_holds_its_input_channel_and_filter():
    kernels = np.random.default_rng(1).normal(size=(3, 3, 2, 4))
    drawn = tiles(plot_kernels(kernels))
    # Row-major: input channel c, filter f is tile c * filters + f.
    for c in range(2):
        for f in range(4):
            np.testing.assert_array_equal(
                drawn[c * 4 + f].get_images()[0].get_array(), kernels[:, :, c, f]
            )
    assert [ax.get_title() for ax in drawn[:4]] == [f"Filter {f}" for f in range(4)]
    assert all(ax.get_title() == "" for ax in drawn[4:])
    assert [ax.get_ylabel() for ax in drawn[::4]] == ["in 0", "in 1"]


def test_kernels_share_one_scale_symmetric_about_zero_with_a_labelled_bar():
    kernels = np.linspace(0.5, 2.0, 5 * 5 * 6).reshape(5, 5, 1, 6)  # all positive
    fig = plot_kernels(kernels)
    norms = {(ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) for ax in tiles(fig)}
    assert norms == {(-2.0, 2.0)}
    assert tiles(fig)[0].get_images()[0].get_cmap().name.startswith("RdBu_r")
    assert [ax.get_title() for ax in tiles(fig)] == [f"Filter {f}" for f in range(6)]
    (bar,) = [ax for ax in fig.axes if not ax.get_images() and ax.get_ylabel()]
    assert "symmetric about 0" in bar.get_ylabel()
    assert "±2" in bar.get_ylabel()


def test_kernels_with_filters_in_rows_put_one_filter_per_row():
    kernels = np.random.default_rng(2).normal(size=(3, 3, 2, 4))
    fig = plot_kernels(kernels, filters_in_rows=True)
    drawn = tiles(fig)
    rows = len({round(ax.get_position().y0, 6) for ax in drawn})
    columns = len({round(ax.get_position().x0, 6) for ax in drawn})
    assert (rows, columns) == (4, 2)
    # Row-major: filter f, input channel c is tile f * inputs + c.
    for f in range(4):
        for c in range(2):
            np.testing.assert_array_equal(
                drawn[f * 2 + c].get_images()[0].get_array(), kernels[:, :, c, f]
            )
    assert [ax.get_title() for ax in drawn[:2]] == ["in 0", "in 1"]
    assert all(ax.get_title() == "" for ax in drawn[2:])
    assert [ax.get_ylabel() for ax in drawn[::2]] == [f"Filter {f}" for f in range(4)]
    assert fig._suptitle.get_text().replace("\n", " ") == (  # wrapped to the figure's width
        "4 filters of 3x3x2 in rows, input channels in columns; one scale for all"
    )
    # One input channel: the usual grid, the option has nothing to turn.
    single = plot_kernels(kernels[:, :, :1, :], filters_in_rows=True)
    assert [ax.get_title() for ax in tiles(single)] == [f"Filter {f}" for f in range(4)]


def test_a_kernels_heading_wrapped_to_a_narrow_figure_stays_above_the_tiles():
    # Two input channels in columns: a figure about 4 inches wide, whose heading wraps.
    fig = plot_kernels(
        np.ones((3, 3, 2, 4)), title="conv2 kernels, valid padding", filters_in_rows=True
    )
    fig.canvas.draw()
    heading = fig._suptitle.get_window_extent()
    assert fig._suptitle.get_text().count("\n") >= 2  # wrapped
    labels = [ax.title.get_window_extent() for ax in tiles(fig) if ax.get_title()]
    assert heading.y0 >= max(label.y1 for label in labels)


@pytest.mark.parametrize("filters_in_rows", [False, True])
def test_a_kernels_heading_in_a_half_page_subfigure_stays_above_the_tiles(filters_in_rows):
    # conv2 of LeNet-5 drawn for two models side by side: each heading wraps to half the
    # page, more lines than in a figure of its own; the tiles must leave it room.
    kernels = np.random.default_rng(4).normal(size=(5, 5, 6, 16))
    left, right = plt.figure(figsize=(12, 9)).subfigures(1, 2)
    for sub, title in ((left, "valid padding"), (right, "same padding")):
        plot_kernels(kernels, title=title, fig=sub, filters_in_rows=filters_in_rows)
    left.figure.canvas.draw()
    for sub in (left, right):
        heading = sub._suptitle.get_window_extent()
        assert sub._suptitle.get_text().count("\n") >= 2  # wrapped to the subfigure
        labels = [ax.title.get_window_extent() for ax in tiles(sub) if ax.get_title()]
        assert heading.y0 >= max(label.y1 for label in labels)


def test_kernels_in_a_small_figure_given_with_a_long_title_still_draw():
    fig = plt.figure(figsize=(4, 2))
    plot_kernels(np.ones((3, 3, 2, 8)), title="a title " * 40, fig=fig)
    assert len(tiles(fig)) == 16


def test_one_kernel_is_one_filter_in_the_heading():
    assert plot_kernels(np.ones((7, 7, 1, 1)))._suptitle.get_text().replace("\n", " ") == (
        "1 filter of 7x7x1; one scale for all"
    )


@pytest.mark.parametrize(("title", "given"), [(5, "int"), (b"conv1", "bytes")])
def test_kernels_refuse_a_title_that_is_not_text(title, given):
    # It was drawn as "5" or "b'conv1'".
    with pytest.raises(TypeError, match=rf"^title must be a str or None; got {given}$"):
        plot_kernels(np.ones((3, 3, 1, 2)), title=title)


def test_kernels_refuse_filters_in_rows_that_is_not_a_bool():
    with pytest.raises(TypeError, match=r"filters_in_rows must be True or False; got 'yes'"):
        plot_kernels(np.ones((3, 3, 2, 2)), filters_in_rows="yes")


def test_kernels_take_a_numpy_bool_for_filters_in_rows():
    # A flag computed with NumPy (np.True_) is True: refused before, unlike every other flag.
    kernels = np.random.default_rng(3).normal(size=(3, 3, 2, 4))
    drawn = tiles(plot_kernels(kernels, filters_in_rows=np.True_))
    assert [ax.get_ylabel() for ax in drawn[::2]] == [f"Filter {f}" for f in range(4)]
    drawn = tiles(plot_kernels(kernels, filters_in_rows=np.False_))
    assert [ax.get_ylabel() for ax in drawn[::4]] == ["in 0", "in 1"]


def test_all_zero_kernels_get_a_scale_still_centred_on_zero():
    image = tiles(plot_kernels(np.zeros((3, 3, 1, 2))))[0].get_images()[0]
    assert image.norm.vmin == -image.norm.vmax < 0


def test_a_kernels_title_comes_first_and_the_shape_line_stays():
    assert plot_kernels(np.ones((3, 3, 1, 2)))._suptitle.get_text() == (
        "2 filters of 3x3x1; one scale for all"
    )
    fig = plot_kernels(np.ones((3, 3, 1, 2)), title="conv1, valid padding")
    assert fig._suptitle.get_text() == "conv1, valid padding\n2 filters of 3x3x1; one scale for all"


def test_a_grouped_convolutions_unread_channels_are_hatched_and_said():
    import keras

    import cnnviz

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 4))
    model = keras.Model(inputs, keras.layers.Conv2D(6, 3, groups=2, name="g")(inputs))
    kernels = cnnviz.kernels(model, "g")  # (3, 3, 4, 6): filters 0-2 read 0-1, 3-5 read 2-3
    fig = plot_kernels(kernels, title="g")
    drawn = tiles(fig)
    hatched = {(i // 6, i % 6) for i, ax in enumerate(drawn) if ax.patches}
    assert hatched == {(c, f) for c in range(4) for f in range(6) if (c < 2) != (f < 3)}
    assert all(ax.patches[0].get_hatch() == "///" for ax in drawn if ax.patches)
    assert [ax.get_ylabel() for ax in drawn[::6]] == ["in 0", "in 1", "in 2", "in 3"]
    assert fig._suptitle.get_text().endswith(
        "\nhatched: all weights 0 (where a grouped convolution's filter does not read)"
    )
    # An ungrouped kernel has no hatching and no note.
    plain = plot_kernels(np.random.default_rng(0).normal(size=(3, 3, 4, 6)))
    assert not any(ax.patches for ax in tiles(plain))
    assert "hatched" not in plain._suptitle.get_text()


def test_kernels_draw_into_a_given_figure():
    fig = plt.figure()
    assert plot_kernels(np.ones((3, 3, 1, 2)), fig=fig) is fig
    assert len(tiles(fig)) == 2


@pytest.mark.parametrize("shape", [(5, 5, 6), (0, 5, 1, 6), (1, 5, 5, 1, 6)])
def test_kernels_of_the_wrong_shape_are_refused(shape):
    with pytest.raises(ValueError, match=r"kernels must be a non-empty \(kh, kw, in_channels"):
        plot_kernels(np.zeros(shape))


# --- plot_receptive_field --------------------------------------------------------------------

BOXES = {
    "conv1 (5x5)": (0, 0, 5, 5),
    "max_pool1 (6x6)": (0, 0, 6, 6),
    "conv2 (14x14)": (0, 0, 14, 14),
    "max_pool2 (16x16)": (0, 0, 16, 16),
}


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (28, 28, 3)])
def test_receptive_field_boxes_sit_on_pixel_edges_and_are_named(shape):
    fig = plot_receptive_field(np.zeros(shape, dtype=np.uint8), BOXES)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    for rectangle, box in zip(ax.patches, BOXES.values(), strict=True):
        assert on_pixel_edges(rectangle, box)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[0] == "conv1 (5x5): rows 0-4, columns 0-4 (5x5)"
    assert legend[3] == "max_pool2 (16x16): rows 0-15, columns 0-15 (16x16)"
    assert len({rectangle.get_edgecolor() for rectangle in ax.patches}) == 4


def test_receptive_field_takes_an_array_of_boxes():
    boxes = np.array([[3, 4, 8, 9], [0, 10, 10, 28]])
    ax = plot_receptive_field(np.ones((28, 28)), boxes).axes[0]
    assert [on_pixel_edges(r, b) for r, b in zip(ax.patches, boxes, strict=True)] == [True, True]
    assert ax.get_legend().get_texts()[1].get_text().startswith("box 1: rows 0-9, columns 10-27")


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ({"a": (0, 0, 29, 5)}, r"within the 28x28 image; got \[0, 0, 29, 5\]"),
        ({"a": (3, 3, 3, 5)}, r"non-empty"),
        ({"a": (-1, 0, 5, 5)}, r"got \[-1, 0, 5, 5\]"),
        ({"a": (0, 0, 5)}, r"boxes must each be four integers"),
        ({}, r"boxes is empty"),
    ],
)
def test_receptive_field_refuses_bad_boxes(boxes, message):
    with pytest.raises(ValueError, match=message):
        plot_receptive_field(np.zeros((28, 28)), boxes)


def test_receptive_field_refuses_fractional_boxes_and_a_batch():
    with pytest.raises(TypeError, match=r"boxes must hold integers; got dtype float64"):
        plot_receptive_field(np.zeros((28, 28)), {"a": (0.5, 0, 5, 5)})
    with pytest.raises(ValueError, match=r"image must be one image \(H, W\)"):
        plot_receptive_field(np.zeros((2, 28, 28)), BOXES)


# --- plot_top_patches ------------------------------------------------------------------------


def top_patches_result(k: int = 3) -> dict:
    """A hand-made top_patches result: channels 2 and 5 of 'conv1', k per channel."""
    index = np.array([[4, 1, 0], [2, 3, 4]])[:, :k]
    box = np.array(
        [
            [[0, 0, 5, 5], [2, 3, 7, 8], [3, 3, 8, 8]],
            [[5, 5, 10, 10], [0, 0, 3, 4], [1, 2, 6, 7]],  # the second clipped at the corner
        ]
    )[:, :k]
    return {
        "layer": "conv1",
        "channels": np.array([2, 5]),
        "index": index,
        "row": box[..., 0] + 2,
        "col": box[..., 1] + 2,
        "value": np.array([[3.5, 2.0, 1.25], [0.75, 0.5, 0.25]], dtype=np.float32)[:, :k],
        "box": box,
    }


@pytest.fixture
def images():
    return np.random.default_rng(0).random((5, 10, 10)).astype(np.float32)


def test_top_patches_crops_equal_the_boxes_pixels(images):
    result = top_patches_result()
    fig = plot_top_patches(images, result, 5)
    axes = np.array(fig.axes).reshape(2, 3)
    for rank in range(3):
        top, left, bottom, right = result["box"][1, rank]
        crop = axes[0, rank].get_images()[0].get_array()
        np.testing.assert_array_equal(
            crop, images[result["index"][1, rank]][top:bottom, left:right]
        )
        whole = axes[1, rank].get_images()[0].get_array()
        np.testing.assert_array_equal(whole, images[result["index"][1, rank]])
        assert on_pixel_edges(axes[1, rank].patches[0], result["box"][1, rank])


def test_top_patches_titles_name_the_image_activation_layer_and_channel(images):
    fig = plot_top_patches(images, top_patches_result(), 2)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["image 4\n3.5", "image 1\n2", "image 0\n1.25"]
    assert [ax.get_title() for ax in axes[1]] == ["unit (2, 2)", "unit (4, 5)", "unit (5, 5)"]
    assert fig.get_suptitle().startswith("conv1, channel 2: the 3 strongest activations")


def test_top_patches_take_numpy_bools_for_context(images):
    # A flag computed with NumPy (np.True_, np.False_) is a bool; it was refused as "not True or False".
    result = top_patches_result()
    assert len(plot_top_patches(images, result, 5, context=np.False_).axes) == 3
    assert len(plot_top_patches(images, result, 5, context=np.True_).axes) == len(
        plot_top_patches(images, result, 5, context=True).axes
    )


def test_top_patches_without_context_draw_the_same_patches_in_one_row(images):
    result = top_patches_result()
    fig = plot_top_patches(images, result, 5, context=False)
    assert len(fig.axes) == 3
    for rank, ax in enumerate(fig.axes):
        top, left, bottom, right = result["box"][1, rank]
        np.testing.assert_array_equal(
            ax.get_images()[0].get_array(),
            images[result["index"][1, rank]][top:bottom, left:right],
        )
        assert not ax.patches  # no box: there is no whole image to draw it on
    assert (
        fig.get_suptitle() == "conv1, channel 5: the 3 strongest patches (image index, activation)"
    )


def test_top_patches_draw_every_patch_at_the_scale_of_the_whole_field(images):
    axes = np.array(plot_top_patches(images, top_patches_result(), 5).axes).reshape(2, 3)
    for ax in axes[0]:
        assert ax.get_xlim() == (-0.5, 4.5)
        assert ax.get_ylim() == (4.5, -0.5)
    # The clipped 3x4 box lost its top and left: it sits at the field's bottom right.
    assert axes[0, 1].get_images()[0].get_extent() == [0.5, 4.5, 4.5, 1.5]


def test_top_patches_grey_is_the_images_grey(images):
    uint8 = (images * 255).astype(np.uint8)
    fig = plot_top_patches(uint8, top_patches_result(k=1), 2)
    patch, whole = (ax.get_images()[0] for ax in fig.axes)
    assert (patch.norm.vmin, patch.norm.vmax) == (whole.norm.vmin, whole.norm.vmax) == (0, 1)


def test_top_patches_refuses_a_channel_not_in_the_result(images):
    with pytest.raises(ValueError, match=r"channel 3 is not in result\['channels'\] .* \[2, 5\]"):
        plot_top_patches(images, top_patches_result(), 3)


def test_top_patches_refuses_an_index_past_the_images(images):
    with pytest.raises(ValueError, match=r"result\['index'\] must point into images \(2 images\)"):
        plot_top_patches(images[:2], top_patches_result(), 2)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"value": np.zeros((2, 2))}, ValueError, r"result\['value'\] must have shape \(2, 3\)"),
        ({"box": np.zeros((2, 3, 3), int)}, ValueError, r"result\['box'\] must have shape"),
        ({"index": np.zeros((2, 3))}, TypeError, r"result\['index'\] must hold integers"),
        ({"layer": 1}, TypeError, r"result\['layer'\] must be a layer name"),
    ],
)
def test_top_patches_refuses_a_malformed_result(images, change, error, message):
    with pytest.raises(error, match=message):
        plot_top_patches(images, {**top_patches_result(), **change}, 2)


# --- plot_class_activations ------------------------------------------------------------------


def test_class_activations_heat_map_classes_by_channels():
    matrix = np.random.default_rng(0).random((10, 16))
    fig = plot_class_activations(matrix)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), matrix)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES)
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in range(16)]
    assert ax.get_xlabel() == "channel"
    assert fig.axes[1].get_ylabel().startswith("mean activation, 0 to its maximum")
    assert ax.get_images()[0].norm.vmin == 0.0


def test_negative_class_means_are_on_a_symmetric_diverging_scale():
    fig = plot_class_activations(np.array([[-1.0, 0.5], [0.25, 0.0]]), class_names=["a", "b"])
    image = fig.axes[0].get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (-1.0, 1.0)
    assert "symmetric about 0" in fig.axes[1].get_ylabel()


def test_class_activations_of_many_channels_fit_a_page_and_number_every_fourth():
    fig = plot_class_activations(np.ones((10, 64)))
    assert fig.get_figwidth() <= 12
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [str(c) for c in range(0, 64, 4)]


def test_class_activations_need_a_name_per_class():
    with pytest.raises(ValueError, match=r"class_names must name every class: .* 3 classes"):
        plot_class_activations(np.zeros((3, 6)))


def test_classes_without_images_are_drawn_as_no_images_and_left_out_of_the_scale():
    import cnnviz

    x = np.random.default_rng(0).integers(0, 256, (12, 28, 28, 1), dtype=np.uint8)
    means = cnnviz.class_mean_activations(cnnviz.lenet5(), x, np.arange(12) % 4, "relu1")
    assert np.isnan(means[4:]).all()  # classes 4 to 9 have no images
    fig = plot_class_activations(means)
    ax = fig.axes[0]
    image = ax.get_images()[0]
    shown = image.get_array()
    assert shown.mask[4:].all()
    assert not shown.mask[:4].any()
    np.testing.assert_array_equal(shown[:4], means[:4])
    assert image.norm.vmax == pytest.approx(means[:4].max())
    # The masked cells take the light grey no colour of magma has, under a hatched box.
    assert image.get_cmap().get_bad().tolist() == [230 / 255, 230 / 255, 230 / 255, 1.0]
    rows = [(p.get_y() + 0.5, p.get_hatch()) for p in ax.patches]
    assert rows == [(float(row), "///") for row in range(4, 10)]
    labels = [(t.get_position()[1], t.get_text()) for t in ax.texts]
    assert labels == [(row, "no images") for row in range(4, 10)]
    assert "hatched rows: classes without images" in ax.get_title()
    # Every row filled: no hatching, no note.
    full = plot_class_activations(np.ones((10, 6)))
    assert not full.axes[0].patches
    assert not full.axes[0].texts
    assert "hatched" not in full.axes[0].get_title()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda m: m.__setitem__((0, 1), np.inf),
            r"got, outside such rows, 1 NaN or infinite value\(s\), the first at index \(0, 1\) \(inf\)",
        ),
        (
            lambda m: m.__setitem__((9, 0), -np.inf),
            r"got, outside such rows, 6 NaN or infinite value\(s\), the first at index \(9, 0\) \(-inf\)",
        ),
        (
            lambda m: m.__setitem__((2, 3), np.nan),
            r"got, outside such rows, 1 NaN or infinite value\(s\), the first at index \(2, 3\) \(nan\)",
        ),
    ],
    ids=["+inf", "-inf in a row of NaN", "one NaN in a row"],
)
def test_class_activations_refuse_infinities_and_nan_that_is_not_a_whole_row(change, words):
    matrix = np.ones((10, 6))
    matrix[9] = np.nan
    change(matrix)
    with pytest.raises(
        ValueError,
        match=r"^matrix must hold finite means, or a whole row of NaN for a class without images; "
        + words,
    ):
        plot_class_activations(matrix)
    with pytest.raises(ValueError, match=r"^matrix has no class with images: all 10 rows are NaN"):
        plot_class_activations(np.full((10, 6), np.nan))


# --- plot_ablation ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [6, 16])
def test_ablation_bar_heights_are_the_percentage_points_lost(channels):
    rng = np.random.default_rng(channels)
    accuracy = rng.uniform(0.7, 0.95, channels)
    result = {
        "layer": "conv2",
        "channels": np.arange(channels),
        "accuracy": accuracy,
        "intact_accuracy": 0.9,
    }
    fig = plot_ablation(result)
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, 100 * (0.9 - accuracy))
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in range(channels)]
    assert "percentage points" in ax.get_ylabel()
    assert "intact accuracy 90.00%" in ax.get_title()
    labels = [text.get_text() for text in ax.texts]
    assert labels == [f"{v:.1f}" for v in 100 * (0.9 - accuracy)]


def test_ablation_labels_a_loss_of_a_few_images_with_two_decimals_and_never_minus_zero():
    # 10,000 test images: one image is 0.01 points. One decimal would print -0.02 as "-0.0".
    intact = 0.9
    accuracy = intact - np.array([0.0, -2, 2, -8, 12, 346]) / 10_000
    result = {"layer": "c", "channels": np.arange(6), "accuracy": accuracy}
    ax = plot_ablation({**result, "intact_accuracy": intact}).axes[0]
    assert [text.get_text() for text in ax.texts] == ["0.0", "-0.02", "0.02", "-0.1", "0.1", "3.5"]


@pytest.mark.parametrize(("channels", "step"), [(23, 1), (64, 2), (256, 8)])
def test_ablation_of_many_channels_fits_a_page(channels, step):
    # 256 channels drew a figure 116 inches wide, with 256 labels and numbers.
    accuracy = np.random.default_rng(channels).uniform(0.85, 0.92, channels)
    result = {"layer": "c", "channels": np.arange(channels), "accuracy": accuracy}
    fig = plot_ablation({**result, "intact_accuracy": 0.9})
    ax = fig.axes[0]
    assert fig.get_size_inches()[0] <= 12.0
    assert len(ax.patches) == channels
    assert len(ax.texts) == (channels if channels <= 23 else 0)  # the bars' value labels
    numbers = [int(t.get_text()) for t in ax.get_xticklabels()]
    assert numbers == list(range(0, channels, step))
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))  # apart


def test_ablation_draws_rounding_noise_as_no_loss():
    # The intact accuracy computed another way than the ablated ones: equal but for the last
    # bit. The bars were drawn full height on a scale of 1e-14 points, red and blue.
    accuracy = np.array([0.7, 0.7000000000000001, 0.6999999999999999])
    result = {"layer": "c", "channels": np.arange(3), "accuracy": accuracy}
    ax = plot_ablation({**result, "intact_accuracy": 0.7}).axes[0]
    assert [bar.get_height() for bar in ax.patches] == [0.0, 0.0, 0.0]
    assert ax.get_ylim() == (0.0, 1.0)
    assert [text.get_text() for text in ax.texts] == ["0.0", "0.0", "0.0"]
    assert len({tuple(bar.get_facecolor()) for bar in ax.patches}) == 1


def test_ablation_labels_a_loss_below_a_hundredth_of_a_point_with_its_digit():
    # One image of 50,000 is 0.002 points: a visible bar, not "0.0" (nor "-0.00").
    accuracy = 0.9 - np.array([0.002, -0.002, 0.0004]) / 100
    result = {"layer": "c", "channels": np.arange(3), "accuracy": accuracy}
    ax = plot_ablation({**result, "intact_accuracy": 0.9}).axes[0]
    assert [text.get_text() for text in ax.texts] == ["0.002", "-0.002", "0.0004"]


def test_ablation_wraps_a_long_layer_name_inside_the_figure():
    result = {"layer": "block_" * 20, "channels": [0, 1], "accuracy": [0.8, 0.7]}
    fig = plot_ablation({**result, "intact_accuracy": 0.9})
    fig.canvas.draw()
    title = fig.axes[0].title
    assert title.get_text().count("\n") >= 2
    extent = title.get_window_extent()
    assert extent.x0 >= 0
    assert extent.x1 <= fig.bbox.width


@pytest.mark.parametrize(
    ("fill", "label", "title"),
    [
        (None, "channel switched off", "per channel switched off"),
        ("zero", "channel switched off (its output set to zero)", "per channel switched off"),
        (
            "mean",
            "channel switched off (set to its mean activation)",
            "per channel set to its mean",
        ),
        (
            "given",
            "channel switched off (set to a given value)",
            "per channel set to a given value",
        ),
    ],
)
def test_ablation_says_what_a_channel_was_replaced_by(fill, label, title):
    result = {"layer": "c", "channels": [0, 1], "accuracy": [0.5, 0.4], "intact_accuracy": 0.5}
    if fill is not None:
        result["fill"] = fill
    ax = plot_ablation(result).axes[0]
    assert ax.get_xlabel() == label
    assert f"c: accuracy lost {title}\n" in ax.get_title()


def test_ablation_refuses_a_fill_it_cannot_name():
    result = {"layer": "c", "channels": [0], "accuracy": [0.5], "intact_accuracy": 0.5}
    with pytest.raises(
        ValueError, match=r"result\['fill'\] must be one of \('zero', 'mean', 'given'\)"
    ):
        plot_ablation({**result, "fill": "noise"})


def test_ablation_of_a_subset_of_channels_labels_them():
    result = {"layer": "c", "channels": [3, 7], "accuracy": [0.5, 0.5], "intact_accuracy": 0.5}
    ax = plot_ablation(result).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "7"]
    assert [bar.get_height() for bar in ax.patches] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accuracy": [0.5]}, r"one accuracy per channel, shape \(2,\); got shape \(1,\)"),
        (
            {"accuracy": [50.0, 60.0]},
            r"result\['accuracy'\] must hold accuracies, fractions in \[0, 1\] \(not percentages\); got 50\.0",
        ),
        ({"intact_accuracy": [0.9, 0.8]}, r"result\['intact_accuracy'\] must be one number"),
        ({"channels": []}, r"result\['channels'\] must be a non-empty 1-D array"),
        (
            {"channels": [-1, 3]},
            r"result\['channels'\] must hold distinct channel numbers of at least 0; got \[-1, 3\]",
        ),
        (
            {"channels": [3, 3]},
            r"result\['channels'\] must hold distinct channel numbers of at least 0; got \[3, 3\]",
        ),
    ],
)
def test_ablation_refuses_a_malformed_result(change, message):
    result = {"layer": "c", "channels": [0, 1], "accuracy": [0.5, 0.4], "intact_accuracy": 0.5}
    with pytest.raises(ValueError, match=message):
        plot_ablation({**result, **change})


def test_every_channel_plot_returns_a_figure(images):
    figures = [
        plot_kernels(np.ones((3, 3, 1, 2))),
        plot_receptive_field(np.zeros((8, 8)), np.array([[0, 0, 3, 3]])),
        plot_top_patches(images, top_patches_result(), 2),
        plot_class_activations(np.ones((2, 3)), class_names=["a", "b"]),
        plot_ablation({"layer": "c", "channels": [0], "accuracy": [0.5], "intact_accuracy": 0.6}),
    ]
    assert all(isinstance(fig, Figure) for fig in figures)


# --- units that see no pixel: the library's (0, 0, 0, 0) ----------------------------------


def test_receptive_field_names_a_unit_that_sees_no_pixel_without_a_box():
    # receptive_box gives (0, 0, 0, 0) for a unit that reads only padding; it was refused.
    boxes = {"conv1 (5x5)": (0, 0, 5, 5), "pad[0, 0]": (0, 0, 0, 0)}
    ax = plot_receptive_field(np.zeros((28, 28)), boxes).axes[0]
    assert len(ax.patches) == 1
    assert on_pixel_edges(ax.patches[0], (0, 0, 5, 5))
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [
        "conv1 (5x5): rows 0-4, columns 0-4 (5x5)",
        "pad[0, 0]: sees no pixel (only padding)",
    ]


def test_top_patches_draw_a_unit_that_sees_no_pixel_as_an_empty_tile(images):
    # top_patches gives (0, 0, 0, 0) where the strongest unit reads only padding.
    result = top_patches_result()
    result["box"][1, 1] = 0
    fig = plot_top_patches(images, result, 5)
    axes = np.array(fig.axes).reshape(2, 3)
    assert not axes[0, 1].get_images()
    assert [t.get_text() for t in axes[0, 1].texts] == ["sees no\npixel\n(padding)"]
    assert axes[0, 1].get_xlim() == (-0.5, 4.5)  # the field's size, as the other tiles
    assert not axes[1, 1].patches
    assert axes[1, 1].get_title() == "unit (2, 2):\nno pixel"
    np.testing.assert_array_equal(
        axes[1, 1].get_images()[0].get_array(), images[result["index"][1, 1]]
    )
    # The other patches are drawn as before.
    top, left, bottom, right = result["box"][1, 0]
    np.testing.assert_array_equal(
        axes[0, 0].get_images()[0].get_array(), images[2][top:bottom, left:right]
    )
    # Every unit blind: tiles of one pixel, no error.
    result["box"][1] = 0
    assert len(plot_top_patches(images, result, 5, context=False).axes) == 3


def test_top_patches_of_a_layer_whose_strongest_units_see_no_pixel():
    # The library's own answer, drawn: a padding of 4 and a 2x2 stride-2 convolution whose
    # negative kernel makes the padding-only units (the bias, 0.5) the strongest.
    import keras

    from cnnviz import top_patches

    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(1, 2, strides=2, name="pc")
    x = conv(keras.layers.ZeroPadding2D(4)(inputs))
    model = keras.Model(inputs, x)
    conv.set_weights([-np.ones((2, 2, 1, 1), np.float32), np.array([0.5], np.float32)])
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32) + 0.1
    result = top_patches(model, x, "pc", k=2)
    assert (result["box"][0] == 0).all()
    fig = plot_top_patches(x, result, 0)
    assert [ax.get_title() for ax in fig.axes[2:]] == ["unit (0, 0):\nno pixel"] * 2


# --- plot_receptive_field(margin=): a field that hangs over the image's edge -----------------


def test_receptive_field_draws_a_field_over_the_edge_in_a_hatched_margin():
    # receptive_box clips the same model's corner field to (0, 0, 10, 10); whole, it is 16x16.
    boxes = {"whole": (-6, -6, 10, 10), "in the image": (0, 0, 10, 10)}
    ax = plot_receptive_field(np.ones((28, 28)), boxes, margin=6).axes[0]
    assert ax.get_xlim() == (-6.5, 33.5)
    assert ax.get_ylim() == (33.5, -6.5)  # rows down, as the image
    drawn = {p.get_label().split(":")[0]: p for p in ax.patches}
    assert on_pixel_edges(drawn["whole"], boxes["whole"])
    assert on_pixel_edges(drawn["in the image"], boxes["in the image"])
    assert drawn["_margin"].get_hatch() == "//"
    assert on_pixel_edges(drawn["_edge"], (0, 0, 28, 28))
    # The image lies over the hatching, the boxes over the image.
    assert drawn["_margin"].get_zorder() < ax.images[0].get_zorder() < drawn["whole"].get_zorder()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [
        "whole: rows -6 to 9, columns -6 to 9 (16x16; 10x10 in the image)",
        "in the image: rows 0-9, columns 0-9 (10x10)",
    ]
    assert ax.get_title().startswith("28x28 image and, hatched, 6 pixels\nbeyond its edge")


def test_receptive_field_legend_of_a_box_wholly_in_the_margin_says_none_of_it_is_in_the_image():
    # Hostile review of issue 22: these read "-1x-1 in the image", "0x0" and "0x5".
    boxes = {"corner": (-6, -6, -1, -1), "touching": (-6, -6, 0, 0), "below": (28, 0, 30, 5)}
    ax = plot_receptive_field(np.ones((28, 28)), boxes, margin=6).axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "corner: rows -6 to -2, columns -6 to -2 (5x5; none of it in the image)",
        "touching: rows -6 to -1, columns -6 to -1 (6x6; none of it in the image)",
        "below: rows 28 to 29, columns 0 to 4 (2x5; none of it in the image)",
    ]
    # One pixel of margin is one pixel, not "1 pixels".
    one = plot_receptive_field(np.ones((1, 1)), {"a": (-1, -1, 2, 2)}, margin=1).axes[0]
    assert one.get_title().startswith("1x1 image and, hatched, 1 pixel\nbeyond")
    legend = one.get_legend().get_texts()[0].get_text()
    assert legend == "a: rows -1 to 1, columns -1 to 1 (3x3; 1x1 in the image)"


def test_receptive_field_margin_bounds_the_boxes():
    with pytest.raises(ValueError, match=r"within the 28x28 image and its margin of 2; got \[-3,"):
        plot_receptive_field(np.zeros((28, 28)), {"a": (-3, 0, 5, 5)}, margin=2)
    with pytest.raises(ValueError, match=r"within the 28x28 image; got \[0, 0, 5, 29\]"):
        plot_receptive_field(np.zeros((28, 28)), {"a": (0, 0, 5, 29)})
    with pytest.raises(ValueError, match=r"margin must be a non-negative integer; got -1"):
        plot_receptive_field(np.zeros((28, 28)), BOXES, margin=-1)
    # Without a margin nothing is added: the boxes are the only patches.
    ax = plot_receptive_field(np.zeros((28, 28)), BOXES, margin=0).axes[0]
    assert len(ax.patches) == 4
    assert ax.get_xlim() == (-0.5, 27.5)
