"""Tests of plotting.similarity: a CKA matrix of layers, matched channels.

The results are made here by hand, in the formats cnnviz.compare returns (no model runs).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnviz import plot_matched_channels, plot_similarity


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    """The library leaves showing to the caller; each test's figures are closed after it."""

    def show(*args, **kwargs):
        raise AssertionError("cnnviz called plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def similarity(rows=("conv1", "relu1", "fc1"), columns=("conv1", "fc1")):
    values = np.linspace(-0.05, 1.0, len(rows) * len(columns)).reshape(len(rows), len(columns))
    return {"layers_a": rows, "layers_b": columns, "cka": values}


def test_the_matrix_is_drawn_on_a_fixed_0_to_1_scale_with_every_value_written():
    result = similarity()
    result["cka"][1, 1] = np.nan  # a dead layer's
    fig = plot_similarity(result, labels=("valid", "same"))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    image = ax.get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
    np.testing.assert_array_equal(image.get_array().filled(np.nan), result["cka"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["-0.05", "0.16", "0.37", "-", "0.79", "1.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["conv1", "relu1", "fc1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conv1", "fc1"]
    assert ax.get_ylabel() == "layers of valid"
    assert "fixed from 0 to 1" in fig.axes[1].get_ylabel()


def test_a_matrix_is_drawn_into_a_given_subfigure():
    fig = plt.figure()
    left, right = fig.subfigures(1, 2)
    assert plot_similarity(similarity(), fig=right) is right
    assert right.axes
    assert not left.axes


@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        ({"layers_a": ("a",), "layers_b": ("b",)}, ValueError, "result must have the key 'cka'"),
        (
            {"layers_a": ("a",), "layers_b": ("b", "c"), "cka": np.ones((1, 3))},
            ValueError,
            r"result\['layers_b'\] must name every column of result\['cka'\]: 3; got 2",
        ),
        (
            {"layers_a": (), "layers_b": (), "cka": np.ones((0, 0))},
            ValueError,
            "non-empty 2-D array",
        ),
        ({"layers_a": "a", "layers_b": ("b",), "cka": np.ones((1, 1))}, TypeError, "sequence"),
        (
            {"layers_a": ("a",), "layers_b": ("b",), "cka": np.array([[np.inf]])},
            ValueError,
            "finite",
        ),
        (
            {"layers_a": ("a",), "layers_b": ("b",), "cka": np.array([[1j]])},
            TypeError,
            "real numbers",
        ),
    ],
)
def test_a_bad_result_is_refused_by_name(result, error, match):
    with pytest.raises(error, match=match):
        plot_similarity(result)


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="labels must be two str"):
        plot_similarity(similarity(), labels=("only one",))


def test_matched_pairs_run_from_the_best_with_each_picture_of_its_channel():
    rng = np.random.default_rng(0)
    pictures_a = rng.random((3, 4, 4))  # non-negative: grey from least to largest
    pictures_b = rng.normal(size=(5, 4, 4))  # signed: symmetric about 0
    match = {
        "pairs": np.array([[0, 4], [1, 0], [2, 2]]),
        "correlation": np.array([0.2, 0.9, np.nan]),
    }
    fig = plot_matched_channels(match, pictures_a, pictures_b, labels=("valid", "same"))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 6  # three pairs, two pictures each
    titles = [ax.get_title() for ax in shown[:3]]
    assert titles == ["1 · 0\nr = 0.90", "0 · 4\nr = 0.20", "2 · 2\nr = n/a"]
    top, bottom = shown[:3], shown[3:]
    for ax, (a, _) in zip(top, [(1, 0), (0, 4), (2, 2)], strict=True):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), pictures_a[a])
        assert ax.get_images()[0].get_cmap().name == "gray"
    for ax, (_, b) in zip(bottom, [(1, 0), (0, 4), (2, 2)], strict=True):
        image = ax.get_images()[0]
        np.testing.assert_array_equal(image.get_array(), pictures_b[b])
        bound = np.abs(pictures_b[b]).max()
        assert (image.norm.vmin, image.norm.vmax) == (-bound, bound)
    assert shown[0].get_ylabel() == "valid"
    assert shown[3].get_ylabel() == "same"


def test_more_than_eight_pairs_wrap_to_a_second_band():
    rng = np.random.default_rng(1)
    match = {
        "pairs": np.stack([np.arange(11), np.arange(11)], axis=1),
        "correlation": rng.random(11),
    }
    fig = plot_matched_channels(match, rng.random((11, 3, 3)), rng.random((11, 3, 3)))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 22
    titled = [ax for ax in shown if ax.get_title()]
    assert len(titled) == 11
    rows = sorted({round(ax.get_position().y1, 3) for ax in titled})
    assert len(rows) == 2  # eight titles in the first band, three in the second


@pytest.mark.parametrize(
    ("match", "a", "error", "pattern"),
    [
        ({"pairs": np.array([[0, 0]]), "correlation": np.array([0.5, 0.1])}, np.zeros((1, 2, 2)), ValueError, "one value per pair"),
        ({"pairs": np.array([[3, 0]]), "correlation": np.array([0.5])}, np.zeros((1, 2, 2)), ValueError, "pictures_a must hold one 2-D picture per channel"),
        ({"pairs": np.array([0, 0]), "correlation": np.array([0.5])}, np.zeros((1, 2, 2)), ValueError, r"match\['pairs'\] must be \(K, 2\)"),
        ({"pairs": np.array([[0, 0]])}, np.zeros((1, 2, 2)), ValueError, "match must have the key 'correlation'"),
        ({"pairs": np.array([[0, 0]]), "correlation": np.array([0.5])}, np.full((1, 2, 2), np.nan), ValueError, "pictures_a must hold finite"),
        ({"pairs": np.array([[0, 1.5]]), "correlation": np.array([0.5])}, np.zeros((1, 2, 2)), ValueError, "integers of at least 0; got 1.5"),
        ({"pairs": np.array([[0, 0]]), "correlation": np.array([np.inf])}, np.zeros((1, 2, 2)), ValueError, "finite values or NaN"),
        ({"pairs": np.array([[0, 0]]), "correlation": np.array([0.5])}, [np.zeros((2, 2)), np.zeros((3, 3))], ValueError, "all of one shape"),
    ],
)  # fmt: skip
def test_bad_matches_and_pictures_are_refused_by_name(match, a, error, pattern):
    with pytest.raises(error, match=pattern):
        plot_matched_channels(match, a, np.zeros((1, 2, 2)))
