"""
Does a CNN know where something is?
===================================

A convolution is shift equivariant: move the image and its feature maps
move with it. Follow it with a global maximum over each map and the
position seems gone: the largest response is the same wherever it lies.
Kayhan and van Gemert, "On Translation Invariance in CNNs: Convolutional
Layers can Exploit Absolute Spatial Location" (CVPR 2020,
`arXiv:2003.07064 <https://arxiv.org/abs/2003.07064>`_), showed that
this is not so near the border of the image: there a pixel meets only
some of the kernel's weights, and networks learn to use that to tell
where something is. Their remedy is *full* convolution, which applies
every kernel weight to every pixel.

This page repeats their location-only experiment at a scale that trains
in seconds: tiny networks of one convolution, global max pooling and a
dense layer, with
``valid``, ``same`` and full convolution, learn to tell two classes apart
that differ only in where a pattern lies.
"""

# %%
# The paper's experiment, and this one
# ------------------------------------
# The paper's first experiment places an identical image patch at the top left
# (one class) or at the bottom right (the other) of a black image, and a
# network with global max pooling is trained to say which. The authors'
# code (`CNNs-Without-Borders <https://github.com/oskyhn/CNNs-Without-Borders>`_)
# trains for it a single 5x5 filter (zero-padded ``same`` convolution,
# ReLU, global max pooling) on two such images of a chess rook. A larger
# version puts each ImageNet image once in the top-left and once in the
# bottom-right corner of a black canvas, for ResNet-18, BagNet-33 and
# DenseNet-121 with global max pooling, and then moves the images away
# from the edge with wider black borders. The paper compares ``valid``
# (V-Conv), ``same`` (S-Conv) and full convolution (F-Conv), which pads
# k - 1 zeros on each side of the input of a k x k kernel, and proposes
# the last one.
#
# Here, at a much smaller scale: black 16x16 images, each with one 3x3
# pattern of random grey levels (uniform in [0, 1)) somewhere in the
# top-left quadrant (class 0) or the bottom-right quadrant (class 1).
# Every pattern is used twice, once in each class, and its second copy
# sits at the mirrored position, as far from the bottom and right edges
# as the first is from the top and left ones: the two classes have the
# same content at the same distances from the nearest edge, and differ
# only in which corner it is near. The generator is NumPy's
# ``default_rng``, seed 0 for the 1,000 training images and seed 1 for
# the 2,000 test images.
import keras
import matplotlib.pyplot as plt
import numpy as np

SIZE, PATCH, KERNEL = 16, 3, 5
HALF = SIZE // 2
classes = ("top-left", "bottom-right")


def location_data(pairs, seed):
    """Pairs of images, one per class, with the same random pattern."""
    rng = np.random.default_rng(seed)
    patterns = rng.uniform(size=(pairs, PATCH, PATCH))
    # Top-left pixel of each pattern, anywhere inside its quadrant.
    rows, cols = rng.integers(0, HALF - PATCH + 1, size=(2, pairs))
    images = np.zeros((2, pairs, SIZE, SIZE), "float32")
    mirror = SIZE - PATCH  # the same distance from the far edges
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        images[0, i, r : r + PATCH, c : c + PATCH] = patterns[i]
        r, c = mirror - r, mirror - c
        images[1, i, r : r + PATCH, c : c + PATCH] = patterns[i]
    labels = np.repeat([0, 1], pairs)
    # Pixels between the pattern and the nearest edge, for both copies.
    distance = np.tile(np.minimum(rows, cols), 2)
    return images.reshape(-1, SIZE, SIZE, 1), labels, distance


x_train, y_train, _ = location_data(500, seed=0)
x_test, y_test, distance = location_data(1000, seed=1)
pairs = len(x_test) // 2
print(f"training images {x_train.shape}, test images {x_test.shape}")
print("test images per distance from the edge:", np.bincount(distance))

# %%
# Four training pairs: the top row is class 0, the bottom row class 1,
# each column one pattern. Grey levels on one scale for all images, from
# 0 (black) to 1 (white); the dotted lines mark the quadrants.
fig, axes = plt.subplots(2, 4, figsize=(7, 3.8), layout="constrained")
for column in range(4):
    for row in range(2):
        ax = axes[row, column]
        image = x_train[row * len(x_train) // 2 + column, :, :, 0]
        shown = ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.axhline(HALF - 0.5, color="tab:blue", ls=":", lw=1)
        ax.axvline(HALF - 0.5, color="tab:blue", ls=":", lw=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, column].set_title(f"pattern {column}")
for row in range(2):
    axes[row, 0].set_ylabel(f"class {row}\n{classes[row]}")
fig.colorbar(shown, ax=axes, shrink=0.8, label="grey level")
plt.show()

# %%
# Three ways to pad, one small network
# ------------------------------------
# Each network is one convolution of eight 5x5 filters with a ReLU, a
# global maximum over each of the eight maps, and a dense layer that
# turns the eight maxima into two class scores (the logits, the inputs of
# the softmax). Only the padding differs:
#
# * ``valid``: no padding; a 5x5 window is placed only where it fits,
#   so the 16x16 image gives 12x12 maps.
# * ``same``: 2 zeros on each side, so the maps stay 16x16.
# * full: 4 zeros (k - 1) on each side with
#   ``keras.layers.ZeroPadding2D``, then a ``valid`` convolution: the
#   maps grow to 20x20, one unit for every window that overlaps the image.
paddings = ("valid", "same", "full")


def network(padding):
    inputs = keras.Input((SIZE, SIZE, 1))
    x = inputs
    if padding == "full":
        x = keras.layers.ZeroPadding2D(KERNEL - 1)(x)
    mode = "same" if padding == "same" else "valid"
    conv = keras.layers.Conv2D(
        8, KERNEL, padding=mode, activation="relu"
    )
    x = conv(x)
    x = keras.layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


for padding in paddings:
    maps = network(padding).layers[-3].output.shape
    print(f"{padding:5}: maps {maps}")

# %%
# How many units see each pixel
# -----------------------------
# A convolution unit sees a 5x5 window; each pixel is seen by as many
# units as there are windows that contain it, each through a different
# kernel weight. The figure counts them (:doc:`plot_02_which_pixels_count`
# counts them for LeNet-5 with :func:`cnnviz.pixel_paths`).
# With ``valid`` padding a corner pixel is in one window and meets only
# one of the 25 kernel weights; a pixel 4 or more pixels from every edge
# meets all 25.
# ``same`` padding lifts the corner to 9; full convolution gives every
# pixel all 25. Colours on one scale for the three, from 0 to 25.


def units_per_pixel(padding):
    pad = {"valid": 0, "same": (KERNEL - 1) // 2, "full": KERNEL - 1}
    starts = np.arange(-pad[padding], SIZE + pad[padding] - KERNEL + 1)
    pixel = np.arange(SIZE)
    first, last = starts[:, None], starts[:, None] + KERNEL - 1
    per_axis = ((first <= pixel) & (pixel <= last)).sum(axis=0)
    return np.outer(per_axis, per_axis)


fig, axes = plt.subplots(1, 3, figsize=(8, 3), layout="constrained")
for ax, padding in zip(axes, paddings, strict=True):
    counts = units_per_pixel(padding)
    shown = ax.imshow(counts, cmap="viridis", vmin=0, vmax=25)
    ax.set_title(padding)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(shown, ax=axes, label="units that see the pixel")
plt.show()

# %%
# The *border band* of a padding is the rows (and columns) along the edge
# whose pixels meet fewer than all 25 kernel weights: 4 pixels wide for
# ``valid``, 2 for ``same``, none for full convolution.
column = {p: units_per_pixel(p)[:HALF, HALF] for p in paddings}
band = {p: int(np.sum(column[p] < 25)) for p in paddings}
print("border band, pixels:", band)

# %%
# Training five seeds of each
# ---------------------------
# Each network is trained with Adam (learning rate 0.05) on the cross
# entropy of its class scores, 2 epochs of batches of 50, from five
# seeds (``keras.utils.set_random_seed`` sets the initial weights
# and the order of the batches). The kernels have the same shapes for the
# three paddings, so for one seed the three networks start from the same
# weights (the page checks it for seed 0).
#
# Keras compiles a training step once per model, which costs more here
# than a whole training run; so each padding gets one compiled model,
# and for each seed its weights are replaced by those of a newly built
# network and its optimizer's state is set back to the start: each seed
# starts where a new model would (its initial weights, a fresh
# optimizer), only faster.
#
# The test set is the second set of pairs. Besides the accuracy, the page
# keeps, for each network, the largest difference between the class
# scores of the two copies of a pattern whose distance from the nearest
# edge is at least the padding's border band.
kernels = []
for padding in paddings:
    keras.utils.set_random_seed(0)
    kernels.append(network(padding).get_weights()[0])
same_start = all(np.array_equal(kernels[0], k) for k in kernels)
assert same_start, "one seed, the same initial kernels for all three"

seeds = range(5)
correct = {}  # padding -> (seeds, test images) right or wrong
far_gap = {}  # padding -> per seed, largest score difference far out
for padding in paddings:
    model = network(padding)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True
        ),
        steps_per_execution=20,
    )
    model.optimizer.build(model.trainable_variables)
    fresh = [(v, v.numpy()) for v in model.optimizer.variables]
    correct[padding], far_gap[padding] = [], []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model.set_weights(network(padding).get_weights())
        for variable, value in fresh:
            variable.assign(value)
        model.fit(x_train, y_train, batch_size=50, epochs=2, verbose=0)
        scores = keras.ops.convert_to_numpy(model(x_test))
        correct[padding].append(scores.argmax(axis=1) == y_test)
        gap = np.abs(scores[:pairs] - scores[pairs:]).max(axis=1)
        far_gap[padding].append(
            gap[distance[:pairs] >= band[padding]].max()
        )
    correct[padding] = np.array(correct[padding])

# %%
# Accuracy per padding
# --------------------
# Test accuracy of each network, and its mean and sample standard
# deviation over the five seeds.
accuracy = {p: correct[p].mean(axis=1) for p in paddings}
print(f"{'padding':8} {'mean':>6} {'sd':>6}   seeds 0 to 4")
for p in paddings:
    each = " ".join(f"{a:.3f}" for a in accuracy[p])
    mean, sd = accuracy[p].mean(), accuracy[p].std(ddof=1)
    print(f"{p:8} {mean:6.3f} {sd:6.3f}   {each}")

fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
means = [accuracy[p].mean() for p in paddings]
sds = [accuracy[p].std(ddof=1) for p in paddings]
ax.bar(paddings, means, yerr=sds, capsize=5, color="tab:blue")
ax.axhline(0.5, color="black", ls="--", lw=1, label="chance (0.5)")
ax.set_ylim(0, 1)
ax.set_ylabel("test accuracy (0 to 1)")
ax.set_title("Where is the pattern? Mean ± sd over 5 seeds")
ax.legend(loc="upper right")
plt.show()

# %%
# The ``valid`` and ``same`` networks tell the corners apart above
# chance on every seed, and ``valid`` does better than ``same`` on every
# seed. The full-convolution networks are at chance: every one of them
# gives both copies of a pattern the same class scores, up to rounding,
# so it gets one image of each pair right and the other wrong. The page
# checks these claims:
valid, same, full = (accuracy[p] for p in paddings)
assert np.all(valid > 0.55), "valid above chance on every seed"
assert np.all(same > 0.55), "same above chance on every seed"
assert np.all(valid > same), "valid above same on every seed"
assert np.all(np.abs(full - 0.5) < 0.01), "full at chance"
print("full: largest score difference in a pair", max(far_gap["full"]))
assert max(far_gap["full"]) < 1e-4, "full: the same scores for a pair"

# %%
# Accuracy by distance from the edge
# ----------------------------------
# The test pairs grouped by the number of black pixels between the
# pattern and the nearest edge (0: it touches the edge), with the
# accuracy of each group as mean ± sd over the seeds, on a scale from 0
# to 1.
fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
steps = np.arange(distance.max() + 1)
for offset, p in zip((-0.1, 0, 0.1), paddings, strict=True):
    by_distance = np.array(
        [correct[p][:, distance == d].mean(axis=1) for d in steps]
    )
    ax.errorbar(
        steps + offset,
        by_distance.mean(axis=1),
        yerr=by_distance.std(axis=1, ddof=1),
        marker="o",
        capsize=3,
        label=f"{p} (band {band[p]})",
    )
ax.axhline(0.5, color="black", ls="--", lw=1, label="chance (0.5)")
ax.set_ylim(0, 1.05)
ax.set_title("By distance from the edge, mean ± sd over 5 seeds")
ax.set_xlabel("pixels between the pattern and the nearest edge")
ax.set_ylabel("test accuracy (0 to 1)")
ax.legend(loc="lower left")
plt.show()

# %%
# Right at the edge (distance 0), the ``valid`` and ``same`` networks
# get most pairs right on every seed (the page checks more than 0.6);
# farther in, their accuracy falls, and from the width of their border
# band on it is chance, one image of each pair right. That is not
# learned, it is the arithmetic of the convolution: once the pattern
# is at least the band's width from every edge, every unit that sees a
# pattern pixel exists, the map holds the same set of values wherever
# the pattern is (moved along with it), and the global maximum is the
# same. The page checks that, for every network, the two copies of each
# pattern at or beyond the band get the same class scores up to rounding:
for p in ("valid", "same"):
    at_edge = correct[p][:, distance == 0].mean(axis=1)
    assert np.all(at_edge > 0.6), f"{p}: most right at the edge"
for p in paddings:
    largest = max(far_gap[p])
    print(f"{p:5}: largest score difference beyond the band {largest}")
    assert largest < 1e-4, f"{p}: position ignored beyond the band"

# %%
# Why the border gives the position away
# --------------------------------------
# Near an edge, a ``valid`` or ``same`` map lacks some of the units that
# would see the pattern: those whose window would hang over the edge
# (``valid`` leaves them out, ``same`` keeps only those with their centre
# on the image). A pattern at the top-left edge therefore misses the
# responses of its top and left pixels to the bottom and right kernel
# weights, one at the bottom-right edge the mirror ones. A filter whose
# strongest response comes through the weights that are missing in one
# corner has a lower maximum there: after global max pooling, that is
# position. ``valid`` leaves out more units than ``same``, so its band is
# wider and it tells more of the pairs apart.
#
# Note that the zeros of ``same`` padding do not show this network an
# edge: they look exactly like the black background. In a deeper network
# they can: the background of a feature map is then the ReLU of a bias,
# which need not be zero, and the zeros around it draw a frame (the
# blank image of :doc:`plot_01_a_blank_image` shows such a frame in
# LeNet-5). That is a second route to position, and deeper
# full-convolution networks with biases have it too, since the zeros they
# add in later layers surround such a background; the authors' code for
# the rook and for their comparison of the three convolutions uses
# convolutions without bias. The band also widens with every layer, as
# the receptive field grows, so in a deep network the border can be felt
# far from the edge; the paper's ImageNet experiment with wider black
# borders measures how far.
#
# Full convolution removes the band: every pixel meets every kernel
# weight, the map contains every response to the pattern wherever it is,
# and with stride 1 the global maximum cannot depend on the position.
# This agrees with the paper's account: near the border, ``valid`` and
# ``same`` convolution leave some pixels out of some kernel positions,
# which lets a network encode absolute location, and full
# convolution, which applies every weight to every pixel, removes that.
# This page does not test the paper's other claims (on data efficiency,
# larger networks and strided layers).

# sphinx_gallery_thumbnail_number = 4
