"""
Which pixels count: paths from the border, and the gradient
===========================================================

A convolution without padding reads a central pixel through every
*tap* of its kernel (every kernel position, 25 for a 5x5 kernel), a
corner pixel through one. Stacked layers multiply the difference: a
pixel's *paths*, the chains of kernel taps and pooling cells that link
it to a layer's units, are many in the centre and few at the border
(Alsallakh et al., "Are convolutional networks inherently foveated?",
2021); what padding does to them, and the blind spots it can leave, is
the subject of their "Mind the Pad: CNNs can develop blind spots" (ICLR
2021). This page counts the paths of both LeNet-5 models with
:func:`cnnviz.pixel_paths`, sets them next to how strongly each trained
model's class score (the logit, the softmax's input) answers to each
pixel, averaged over the test set, and asks what that means for a
garment drawn near the edge.
"""

# %%
# Counting paths
# --------------
# :func:`cnnviz.pixel_paths` counts, for each input pixel, the paths into
# all units of a layer: one per kernel tap and per pooling-window cell on
# the way, channels not counted. It reads only the architecture, not the
# weights, so these counts are the same for every trained copy of a
# model. The table gives them for a corner pixel, the pixel in the middle
# of the top edge, and the central pixel.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

paddings = ("valid", "same")
models = {p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in paddings}
SPATIAL = ("conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2")
paths = {
    p: {
        layer: cnnviz.pixel_paths(models[p], layer) for layer in SPATIAL
    }
    for p in paddings
}
print(f"{'':10} {'valid':^19} {'same':^19}")
print(f"{'layer':10}" + f" {'corner':>6} {'edge':>5} {'centre':>6}" * 2)
for layer in SPATIAL:
    cells = [
        f" {int(c[0, 0]):>6} {int(c[0, 14]):>5} {int(c[14, 14]):>6}"
        for c in (paths[p][layer] for p in paddings)
    ]
    print(f"{layer:10}" + "".join(cells))

# %%
# With ``valid`` padding a 5x5 window is placed only where it fits, so
# along each axis pixel 0 lies in one window, pixel 1 in two, and every
# pixel from 4 to 23 in five; a pixel's count in ``conv1`` is its row's
# count times its column's: 1 at a corner, 5 in the middle of an edge, 25
# in the centre. ``same`` padding adds the windows centred on the two
# outer pixels of each row and column, which hang over the edge, so a
# corner pixel lies in 3 windows along each axis (centred on pixels 0, 1
# and 2), 9 in all. A ReLU keeps
# the count, and so does a 2x2 pooling of stride 2, which puts every unit
# in exactly one window. ``conv2`` multiplies again: up to 625 = 25 x 25.
# The page checks these counts (exact integers, the same on any machine):
valid, same = (paths[p] for p in paddings)
assert (valid["conv1"][0, 0], valid["conv1"][0, 14]) == (1, 5)
assert (valid["conv1"][14, 14], same["conv1"][0, 0]) == (25, 9)
for p in paddings:
    assert np.array_equal(paths[p]["max_pool1"], paths[p]["conv1"])
    assert np.array_equal(paths[p]["max_pool2"], paths[p]["conv2"])

# %%
# The figure shows every pixel's count, for ``conv1`` (top) and for
# ``max_pool2``, the last maps before the dense classifier (bottom); each
# row on one colour scale shared by both models, from 0 to the largest
# count (brighter is more paths). Both fade towards the border, ``valid``
# over a wider band and to far fewer paths.
fig = plt.figure(figsize=(7.5, 8.4), layout="constrained")
for sub, layer in zip(
    fig.subfigures(2, 1), ("conv1", "max_pool2"), strict=True
):
    maps = {f"{p}, {layer}": paths[p][layer] for p in paddings}
    top = max(int(m.max()) for m in maps.values())
    cnnviz.plot_pixel_paths(maps, vmax=top, fig=sub)
plt.show()

# %%
# How wide the band is (the pixels from the edge that have fewer paths
# than the centre) and the fewest paths as a fraction of the most: how
# unevenly each padding weighs the image before any weight is learned.
# The page checks that ``valid``'s band is wider and its fewest fewer.
for layer in ("conv1", "max_pool2"):
    band, fewest = {}, {}
    for p in paddings:
        counts = paths[p][layer]
        band[p] = int(np.argmax(counts[14] == counts.max()))  # row 14
        fewest[p] = counts.min() / counts.max()
        print(
            f"{layer:9} {p:5}: band {band[p]:2}, fewest {fewest[p]:.4f}"
        )
    assert band["valid"] > band["same"], "valid: a wider band"
    assert fewest["valid"] < fewest["same"], "valid: fewer paths"

# %%
# Where the trained models' gradients go
# --------------------------------------
# Paths count the ways a pixel can reach a unit; the weights decide how
# much each way carries. :func:`cnnviz.gradients` gives, for each image,
# the absolute gradient of the predicted class's score (its *logit*, the
# softmax's input) with respect to each pixel: to first order, how much
# the score would change per unit of brightness there. Averaged over all
# 10,000 test images (an average, nothing picked), it says which pixels
# the trained model's score answers to in general. Each map is divided
# by its mean over the 784 pixels, so that 1 is an average pixel and the
# two models can be compared on one scale.
(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
gradient = {}
for p in paddings:
    maps = cnnviz.gradients(models[p], x_test)  # (10000, 28, 28)
    mean = maps.mean(axis=0, dtype=np.float64)
    gradient[p] = mean / mean.mean()

# %%
# The figure shows the mean test image (where the garments usually are;
# grey from 0, black, to 1, white) and each model's mean gradient, both
# maps on one colour scale (``magma``) from 0 to the larger of their
# maxima, in units of each map's own mean.
mean_image = x_test.mean(axis=0) / 255
top = max(g.max() for g in gradient.values())
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3), layout="constrained")
axes[0].imshow(mean_image, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("mean test image")
for ax, p in zip(axes[1:], paddings, strict=True):
    shown = ax.imshow(gradient[p], cmap="magma", vmin=0, vmax=top)
    ax.set_title(f"{p}: mean |gradient|")
for ax in axes:
    ax.set_axis_off()
fig.colorbar(shown, ax=axes[1:], label="relative to the map's mean")
plt.show()

# %%
# From the border inwards
# -----------------------
# The table averages each map over the rings of pixels at the same
# distance from the edge (0: the outermost ring), next to the mean test
# pixel of the ring (in [0, 1]) and the mean count of ``max_pool2`` paths
# of each model, also divided by its mean over the image.
rows, cols = np.indices((28, 28))
distance = np.minimum.reduce([rows, cols, 27 - rows, 27 - cols])
ring_means = {}


def by_ring(values):
    return np.array([values[distance == d].mean() for d in range(14)])


pixel = by_ring(x_test.mean(axis=0) / 255)
for p in paddings:
    ring_means[p] = by_ring(gradient[p])
    ring_means[f"{p} paths"] = by_ring(paths[p]["max_pool2"])
    ring_means[f"{p} paths"] /= paths[p]["max_pool2"].mean()
print(f"{'ring':>4} {'pixel':>6}", *(f"{k:>11}" for k in ring_means))
for d in range(14):
    cells = " ".join(f"{v[d]:11.2f}" for v in ring_means.values())
    print(f"{d:4} {pixel[d]:6.2f} {cells}")

# %%
# The figure draws the gradient columns of the table (solid) and the path
# columns (dashed) against the distance from the edge; 1 is an average
# pixel.
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
for p, colour in zip(paddings, ("C0", "C1"), strict=True):
    ax.plot(ring_means[p], "o-", color=colour, label=f"{p}: gradient")
    ax.plot(
        ring_means[f"{p} paths"],
        "--",
        color=colour,
        label=f"{p}: paths",
    )
ax.axhline(1, color="grey", linewidth=0.8)
ax.set_xlabel("distance from the edge (pixels)")
ax.set_ylabel("relative to the mean pixel")
ax.legend(fontsize="small", ncols=2)
plt.show()

# %%
# Both models' scores answer less to the outermost ring than to an
# average pixel: the photographs are centred, their border mostly
# background, which likely gave the models little to learn there (a
# reading; the page does not test it). But on the three outer rings the
# ``valid`` model's score answers less than the ``same`` model's, each
# relative to its own mean, as the path counts would lead one to expect:
# in ``valid`` those pixels have few paths, and the trained weights do
# not make up for it.
# The page checks both:
for d in range(3):
    assert ring_means["valid"][d] < ring_means["same"][d], "valid less"
assert max(ring_means[p][0] for p in paddings) < 1, "border below mean"

# %%
# A garment drawn near the edge
# -----------------------------
# The gradients above were taken on centred garments, whose outer pixels
# are mostly black. To see what the border does to a garment that
# reaches it, move the first 1,000 test images (the first, not chosen)
# 4 pixels right with :func:`cnnviz.shift_images`: many garments then
# cover part of the two rightmost columns. Take those garment pixels
# (brighter than 0.1) and compare how much the score answers to them
# after the shift, on the edge, with how much it answered to the same
# pixels before, 4 pixels further in; each gradient as a multiple of its
# image's mean absolute gradient, and the ratio after / before.
shift = 4
before_images = x_test[:1000]
after_images = cnnviz.shift_images(before_images, 0, shift)
garment = after_images[:, :, -2:, 0] > 0.1 * 255  # (1000, 28, 2)
share = garment.any(axis=(1, 2)).mean()
print(f"{share:.0%} of the images have garment pixels on the edge")


def relative(maps):
    return maps / maps.mean(axis=(1, 2), keepdims=True)


ratio = {}
for p in paddings:
    maps = relative(cnnviz.gradients(models[p], before_images))
    before = maps[:, :, -2 - shift : -shift][garment].mean()
    maps = relative(cnnviz.gradients(models[p], after_images))
    after = maps[:, :, -2:][garment].mean()
    ratio[p] = after / before
    print(
        f"{p:5}: before {before:.2f}, on the edge {after:.2f},", end=" "
    )
    print(f"ratio {ratio[p]:.2f}")

# %%
# Moved onto the edge, the same garment pixels count less in both
# models, and less still in the ``valid`` model, whose border pixels
# reach ``max_pool2`` along a small fraction of the paths they had 4
# pixels further in. To first order (the gradient is a local measure), a
# sleeve or a heel drawn at the edge moves the score less than it did
# further in, and in ``valid`` less still. The ``same`` model
# too reads its outer pixels along fewer paths than its central ones,
# though along many more than ``valid`` does, and through windows that
# also hold the padding, the frame of :doc:`plot_01_a_blank_image`. The
# page checks both comparisons:
assert max(ratio.values()) < 1, "on the edge, garment pixels count less"
assert ratio["valid"] < ratio["same"], "and less in valid than in same"

# %%
# Neither model was shown a garment off centre during training: the
# Fashion-MNIST photographs are centred. What a shift of a few pixels
# does to their answers, the next page measures.

# sphinx_gallery_thumbnail_number = 1
