"""
A blank image: the frame that padding draws
===========================================

Give a CNN an image with nothing in it and look at its feature maps. With
``valid`` padding every map is flat: each unit computes the same thing
from the same inputs, so nothing in the maps says where a unit is. With
``same`` padding the maps show a frame: the units near the border read
some of the zeros of the padding, the units inside do not. This page
shows both on the two trained LeNet-5 models, prints how flat each map
is, and counts how many positions the maps can tell apart.
"""

# %%
# Two blank images
# ----------------
# Both models come from the cache of :func:`cnnviz.trained_lenet5`. The
# first image is all zeros: black, the background of every Fashion-MNIST
# photograph, and the value ``same`` padding adds around it. The second
# is a constant mid grey, 0.5 (the models take pixels in [0, 1]): as
# blank as the first, but no longer the same as the padding.
# :func:`cnnviz.layer_outputs` gives every layer's output for each.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

paddings = ("valid", "same")
models = {p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in paddings}
images = {
    "zeros": np.zeros((28, 28, 1), dtype=np.float32),
    "grey": np.full((28, 28, 1), 0.5, dtype=np.float32),
}
outputs = {
    name: {p: cnnviz.layer_outputs(models[p], image) for p in paddings}
    for name, image in images.items()
}
titles = [f"{p} padding" for p in paddings]
SPATIAL = ("conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2")


def spread(output):
    """The largest difference between two units of one channel."""
    values = output[0]  # (H, W, C): one image
    highest, lowest = values.max(axis=(0, 1)), values.min(axis=(0, 1))
    return float(np.max(highest - lowest))


def largest(output):
    """The layer's largest value in magnitude, to say what is small."""
    return float(np.abs(output).max())


def flat(output, layer_output):
    """Flat up to rounding: a millionth of the layer's largest value."""
    return spread(output) <= 1e-6 * largest(layer_output)


# %%
# How flat is a map?
# ------------------
# The *spread* of a map is its largest value minus its smallest: 0 for a
# flat map, in which every unit holds the same value. For each layer
# with maps, the table gives the largest spread over the layer's
# channels, and next to it the layer's largest value in magnitude, so
# that "small" has a yardstick.
def spread_table(name):
    print(f"{name} image: spread (largest |value|) per layer")
    print(f"{'layer':10} {'valid':>21} {'same':>21}")
    for layer in SPATIAL:
        cells = [
            f"{spread(outputs[name][p][layer]):.3g} "
            f"({largest(outputs[name][p][layer]):.3g})"
            for p in paddings
        ]
        print(f"{layer:10} {cells[0]:>21} {cells[1]:>21}")


spread_table("zeros")

# %%
# The all-zero image
# ------------------
# ``valid`` padding places each 5x5 kernel only where it fits inside its
# input, so every unit of a channel multiplies the same weights by the
# same blank pixels and adds the same bias: every convolution's map is
# flat, and so is every map of the ReLUs and poolings after them.
#
# With ``same`` padding, ``conv1`` is flat as well, for a reason of its
# own: the zeros it pads with are the zeros of the image, so no unit can
# tell padding from picture. Its output is its bias everywhere, and
# ``relu1`` keeps the positive biases, as does ``max_pool1``. ``conv2``
# pads those maps with zeros: its border units see a step down from the
# bias to zero on their outer side, and their maps show a frame.
# The frame needs a ``conv1`` channel with a positive bias (with none,
# ``relu1`` would be all zeros, like the padding); the models have some:
for p in paddings:
    bias = models[p].get_layer("conv1").get_weights()[1]
    positive = int(np.sum(bias > 0))
    print(f"{p}: conv1 channels with a bias > 0: {positive} of 6")

# %%
# The figure draws ``conv1`` and ``conv2`` for the all-zero image, the
# two models side by side. Each model's layer has its own colour scale
# and colour bar (``scale="layer"``): red-white-blue, white at zero, as
# these convolution outputs are signed. A flat map is one colour (for
# ``conv1``, the value of its bias); a frame is a ring of other colours
# around it.
drawn = ["conv1", "conv2"]
cnnviz.plot_side_by_side(
    outputs["zeros"], layers=drawn, titles=titles, scale="layer"
)
plt.show()

# %%
# The mid-grey image
# ------------------
# A grey image is not the padding any more: the border units of the
# ``same`` model's ``conv1`` see grey inside the image and black beyond
# its edge, which to a convolution is an edge. The frame appears one
# layer earlier, in ``conv1``; ``valid`` stays flat.
spread_table("grey")

# %%
# The same two layers for the grey image, each model's layer on its own
# scale as above (white at zero).
cnnviz.plot_side_by_side(
    outputs["grey"], layers=drawn, titles=titles, scale="layer"
)
plt.show()

# %%
# The page checks what the tables show. ``valid``'s maps are flat: in
# exact arithmetic every spread is 0; the check allows a millionth of
# the layer's largest value, because a convolution routine may sum some
# units in another order than others (at the end of a row, say), and so
# round them differently. ``same``'s maps have a frame wherever the
# padding differs from the map it pads: from ``conv2`` on for the zeros,
# from ``conv1`` on for grey. Its spread is asserted to be at least a
# tenth of the layer's largest value, far above rounding.
first_frame = {"zeros": "conv2", "grey": "conv1"}
for name in images:
    framed = SPATIAL[SPATIAL.index(first_frame[name]) :]
    for layer in SPATIAL:
        valid = outputs[name]["valid"][layer]
        same = outputs[name]["same"][layer]
        assert flat(valid, valid), "valid: flat maps"
        if layer in framed:
            assert spread(same) > 0.1 * largest(same), "same: a frame"
same_conv1 = outputs["zeros"]["same"]["conv1"]
assert flat(same_conv1, same_conv1), "zeros: same's conv1 is flat"

# %%
# How wide the frame is
# ---------------------
# A unit of the ``same`` model reads padding when its receptive field
# (the pixels it depends on, see
# :doc:`../channels/plot_02_receptive_fields`) hangs over the edge of the
# image. :func:`cnnviz.receptive_box` clips a field at the edge, so a
# unit's field lies wholly inside the image when its box is as large as
# :func:`cnnviz.receptive_field` says. Those inner units should be flat,
# and the frame should be exactly the units around them. The table gives,
# for the grey image, how many units per side are inner, and the largest
# spread among them (the page checks that they are flat, up to a
# millionth of the layer's largest value).
same = models["same"]
print(f"{'layer':10} {'size':>5} {'inner':>6} {'spread inside':>14}")
for layer in SPATIAL:
    (field, _), _ = cnnviz.receptive_field(same, layer)
    maps = outputs["grey"]["same"][layer]
    size = maps.shape[1]
    inner = []  # rows (and so columns: all is square) of whole fields
    for i in range(size):
        top, _, bottom, _ = cnnviz.receptive_box(same, layer, i, i)
        if bottom - top == field:
            inner.append(i)
    first, last = inner[0], inner[-1] + 1
    inside = maps[:, first:last, first:last]
    print(
        f"{layer:10} {size:>5} {len(inner):>6} {spread(inside):>14.3g}"
    )
    assert flat(inside, maps), "flat inside the frame"


# %%
# The frame is position information
# ---------------------------------
# A unit of a flat map cannot tell where it is: move it anywhere and it
# holds the same value. In a framed map it can, at least near the border:
# a unit in the top row answers differently from one in the middle.
# Islam, Jia and Bruce ("How much position information do convolutional
# neural networks encode?", ICLR 2020) trained a small read-out to
# recover each unit's absolute position from the feature maps of
# networks trained for other tasks, and found that much of that
# information comes from zero padding: without it, the read-out did
# worse. Kayhan and van Gemert ("On translation invariance in CNNs",
# CVPR 2020) showed that a network can use the image border, with or
# without padding, to classify images by where a pattern is
# (:doc:`plot_04_does_a_cnn_know_where` repeats their experiment).
#
# The last maps, ``max_pool2``, make this a count: each position holds a
# vector of 16 channel values, and positions holding the same vector
# cannot be told apart by what is in them. The page counts the kinds of
# position: two positions are of one kind when their vectors differ by
# at most a ten-thousandth of the layer's largest value, far above
# rounding.
def positions_told_apart(output):
    scale = max(largest(output), 1e-12)  # an all-zero layer: one kind
    kinds = []  # one vector for each kind of position found so far
    for vector in output[0].reshape(-1, output.shape[-1]) / scale:
        if all(np.abs(vector - kind).max() > 1e-4 for kind in kinds):
            kinds.append(vector)
    return len(kinds)


for name in images:
    counts = []
    for p in paddings:
        pooled = outputs[name][p]["max_pool2"]
        counts.append(positions_told_apart(pooled))
        total = pooled.shape[1] * pooled.shape[2]
        print(f"{name:5} {p:5}: {total} positions, kinds: {counts[-1]}")
    assert counts[0] == 1, "valid: every position alike"
    assert counts[1] > 1, "same: positions of several kinds"

# %%
# The figure draws ``max_pool2`` for the grey image: grey from 0 (black)
# to each model's largest value (white), one scale and colour bar per
# model. In the ``same`` maps the border rows and columns differ from the
# flat 3x3 centre (the units whose fields lie inside the image, as the
# table above counted).
cnnviz.plot_side_by_side(
    outputs["grey"], layers=["max_pool2"], titles=titles, scale="layer"
)
plt.show()

# %%
# What this does not say
# ----------------------
# On a blank image ``valid``'s maps carry no trace of position, but the
# model as a whole still knows where a feature is: ``fc1`` has one weight
# per position of the flattened ``max_pool2``, as any dense layer on a
# flattened map has. Nor is the frame the only way position gets into
# the convolutional maps themselves, where a fully convolutional network
# (no dense layer, global pooling at the end) would have to find it.
# Near the border a map lacks some of the units that would see a
# pattern there (``valid`` more of them than ``same``), and a network can
# use that without any padding, as
# :doc:`plot_04_does_a_cnn_know_where` shows; the frame is a second
# route, which only padding opens. And a real garment image is not blank:
# its own edges vary from place to place as well. The next page measures
# how much the pixels near the border count.

# sphinx_gallery_thumbnail_number = 2
