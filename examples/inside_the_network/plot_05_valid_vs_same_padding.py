"""
Valid vs same padding in a CNN, side by side
============================================

What does the padding of a convolution change? This page sends the same
image, training image 41 (a sneaker), through the two trained LeNet-5
models of the previous examples and draws their layers next to each other,
then compares their shapes, their parameter counts, their test accuracies
and what happens at the borders of the image.
"""

# %%
# The two trained models
# ----------------------
# Both come from the cache of :func:`cnnviz.trained_lenet5`, trained with the
# same recipe and seed; only the padding differs.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

paddings = ("valid", "same")
models = {p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in paddings}

(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
index = 41
image = x_train[index]
outputs = {p: cnnviz.layer_outputs(models[p], image) for p in paddings}
print(f"training image {index}: {cnnviz.CLASS_NAMES[y_train[index]]}")

# %%
# The first block, side by side
# -----------------------------
# :func:`cnnviz.plot_side_by_side` lines the layers of the two models up by
# name: one row per layer, ``valid`` on the left and ``same`` on the right.
# Each half is drawn by :func:`cnnviz.plot_feature_maps` or
# :func:`cnnviz.plot_probabilities` into a
# :class:`~matplotlib.figure.SubFigure` of one figure; a few layers per
# figure keep the tiles large enough to read. The ``valid`` maps shrink
# faster (24, 12, 8, 4 pixels against 28, 14, 14, 7), so the same pattern
# covers more of each tile; both see the whole sneaker.
#
# Each model's layer has its own colour scale and colour bar
# (``scale="layer"``): red-white-blue with white at zero for the signed
# convolution outputs, grey from 0 for the ReLU and pooling outputs.
titles = [f"{p} padding" for p in paddings]
first_block = ["conv1", "relu1", "max_pool1"]
cnnviz.plot_side_by_side(
    outputs, layers=first_block, titles=titles, scale="layer"
)
plt.show()

# %%
# Channel k here is not channel k there
# -------------------------------------
# Channel k of one model and channel k of the other are separately
# trained filters: nothing in training ties them together, and the two
# columns are to be compared as wholes, not tile against tile. Yet some
# ``conv1`` tiles above may look alike, for a reason that has nothing to do
# with padding: both models were built with
# the same seed, and their kernels have the same shapes, so they started
# from the same random kernels (the page checks this on the weights the
# cache keeps from before training). They drift apart from the first step
# of training, and not through the padding alone: ``fc1`` has another
# shape in each model, so other initial weights, which send other
# gradients back to ``conv1``. The correlation of each trained ``conv1``
# kernel with its namesake shows how far each pair drifted; some stay
# close (the page checks that at least one correlation is above 0.8):
start = [
    cnnviz.trained_lenet5(p, verbose=0, epoch=0)[0]
    .get_layer("conv1")
    .get_weights()[0]
    for p in paddings
]
assert np.array_equal(*start), "the same conv1 kernels at the start"
valid, same = (models[p].get_layer("conv1").kernel for p in paddings)
correlations = [
    np.corrcoef(np.ravel(valid[..., k]), np.ravel(same[..., k]))[0, 1]
    for k in range(6)
]
for k, r in enumerate(correlations):
    print(f"channel {k}: {r:+.2f}")
assert max(correlations) > 0.8, "some conv1 kernels stay close"

# %%
# Which channel of one model does the work of which channel of the other,
# and whether the two networks represent the images alike at all, whatever
# their channels' order, is the question of the next page,
# :doc:`plot_06_do_valid_and_same_learn_the_same_thing`: it pairs the
# channels by the correlation of their activations and compares every
# layer with centred kernel alignment.

# %%
# The second block
# ----------------
# Sixteen filters over the six pooled maps: 8x8 with ``valid`` padding,
# still 14x14 with ``same``. Each model's layer on its own scale, as above.
second_block = ["conv2", "relu2"]
cnnviz.plot_side_by_side(
    outputs, layers=second_block, titles=titles, scale="layer"
)
plt.show()

# %%
# What the classifier gets
# ------------------------
# After the second pooling the ``valid`` model has 4x4 maps, the ``same``
# model 7x7; ``flatten`` lines them up, channel fastest, into 256 and 784
# numbers for ``fc1`` (it is not drawn: in that order the strip reads as
# noise). Grey from 0, each model on its own scale.
into_classifier = ["max_pool2"]
cnnviz.plot_side_by_side(
    outputs, layers=into_classifier, titles=titles, scale="layer"
)
plt.show()

# %%
# The classifier
# --------------
# The dense layers ``fc1`` and ``fc2`` (grey from 0, each strip with its
# colour bar) and the class probabilities of ``op``. Unit k of one model's
# ``fc1`` and unit k of the other's are as unrelated as their channels.
classifier = ["fc1", "fc2", "op"]
cnnviz.plot_side_by_side(
    outputs, layers=classifier, titles=titles, scale="layer"
)
plt.show()

# %%
# Shapes and parameters compared
# ------------------------------
# The padding changes no layer's number of filters or units, and so no
# convolution's number of weights. It changes the size of the maps, and with
# it the number of inputs of ``fc1``: 256 with ``valid`` padding, 784 with
# ``same``. All of the difference in size between the two models is in
# that one layer: 107,786 - 44,426 = 63,360 = 94,200 - 30,840.
print(f"{'':10} {'output shape':^29}  {'parameters':^15}")
print(
    f"{'layer':10} {'valid':>14} {'same':>14}  {'valid':>7} {'same':>7}"
)
for name in outputs["valid"]:
    pair = [models[p].get_layer(name) for p in paddings]
    shapes = [str(layer.output.shape[1:]) for layer in pair]
    params = [layer.count_params() for layer in pair]
    print(f"{name:10} {shapes[0]:>14} {shapes[1]:>14}", end="  ")
    print(f"{params[0]:>7,} {params[1]:>7,}")
totals = [models[p].count_params() for p in paddings]
print(f"{'total':41} {totals[0]:>7,} {totals[1]:>7,}")

# %%
# Test accuracies compared
# ------------------------
# Both models get most of the 10,000 test images right, more than the
# human accuracy of 0.835 (see
# :doc:`../getting_started/plot_01_fashion_mnist`; the page checks it);
# the notebook reports 0.8947 for ``valid``. Which padding is better, one
# run of each cannot say: the seed alone moves a model's accuracy by up to
# about two points. The performance page (:doc:`/performance`) trained five seeds
# of each on an AMD EPYC machine with 2 cores (AVX-512 VNNI) on
# 2026-11-28: ``same`` averaged 0.8968 and ``valid`` 0.8843, ``same``
# ahead on four seeds of the five. A small gain for ``same`` is likely,
# then, but not promised on any one run: the pair printed below, by the
# machine that built this page, may come out either way. What the gain is
# due to, this comparison cannot say either: ``same`` padding also gives
# ``fc1`` three times the inputs (784 against 256) and three times the
# parameters, so padding and classifier size change together. Separating
# them would take, for example, a ``valid`` model with a wider ``fc1``.
for padding in paddings:
    scores = cnnviz.evaluate(models[padding], x_test, y_test)
    predicted = int(np.argmax(outputs[padding]["op"][0]))
    print(
        f"{padding:5}: test accuracy {scores['accuracy']:.4f},",
        f"loss {scores['loss']:.4f};",
        f"image {index} predicted as {cnnviz.CLASS_NAMES[predicted]}",
    )
    assert scores["accuracy"] > 0.835, "above the human accuracy"

# %%
# What padding changes at the borders
# -----------------------------------
# A 5x5 kernel with ``valid`` padding is placed only where it fits inside the
# image: its centre never comes closer than 2 pixels to an edge, which is why
# 28 pixels become 24. ``same`` padding surrounds the image with a 2-pixel
# frame of zeros so that the kernel can be centred on every pixel, border
# included.
#
# ``valid`` padding does not lose the border: every pixel is in some
# window. It weighs the border less. Along each axis, pixel 0 falls in one
# ``conv1`` window (the first), pixel 1 in two, and every pixel from 4 to
# 23 in five. Deeper in, nothing is cut off either: a ``max_pool2`` unit of
# the ``valid`` model sees a 16x16 window of the image (unit m sees pixels
# 4m to 4m + 15), so its four units per axis cover all 28 pixels.
windows = [
    sum(1 for start in range(24) if start <= pixel < start + 5)
    for pixel in range(28)
]
print("conv1 windows covering pixels 0-5:", windows[:6])
print("pixels 4-23 in five windows:", set(windows[4:24]) == {5})

# %%
# To see that this is the only difference, give an untrained ``same`` model
# the ``conv1`` weights of the trained ``valid`` model and compare the two
# ``conv1`` outputs: the inner 24x24 of the ``same`` output is exactly the
# ``valid`` output, and only the 2-pixel frame around it is new.
probe = cnnviz.lenet5("same")
weights = models["valid"].get_layer("conv1").get_weights()
probe.get_layer("conv1").set_weights(weights)
valid_conv1 = outputs["valid"]["conv1"][0]
probe_outputs = cnnviz.layer_outputs(probe, image, layers=["conv1"])
same_conv1 = probe_outputs["conv1"][0]
print(f"valid conv1 {valid_conv1.shape}, same conv1 {same_conv1.shape}")
print(
    "inner 24x24 of same equals valid:",
    np.allclose(same_conv1[2:-2, 2:-2], valid_conv1, atol=1e-5),
)

# %%
# The frame is where the two differ. Fashion-MNIST images have a black
# background, so for ``conv1`` the zeros of the padding look like more
# background; the frame matters where the garment touches the edge, as the
# sneaker's toe and heel do. The figure shows, for every filter, the
# ``same`` output on one scale (white at zero), with the region that
# ``valid`` computes as well marked "not compared" (yellow, outlined):
# what is left is what ``same`` padding adds. Along the top and bottom the
# frame sees only background, so it holds the bias; at the left and right
# the sneaker reaches the edge, and the filters respond there.
frame_only = same_conv1.copy()
frame_only[2:-2, 2:-2] = np.nan  # not compared: yellow, outlined
cnnviz.plot_feature_maps(
    frame_only,
    ncols=3,
    scale="layer",
    title="conv1, valid weights: the frame same adds "
    "(yellow: not compared)",
)
plt.show()

# %%
# Only the first layer's padding looks like background. After ``conv1``
# and its ReLU, the background of a map whose bias is positive is that
# bias, not zero; ``conv2``'s padding is zeros all the same, so at the
# border of such a map it sees a step down to zero that is not in the
# image, a false edge. The ``same`` model's ``relu2`` and ``max_pool2``
# maps above show it as lit border rows and columns; the ``valid`` model
# has no padding to draw it.
#
# Both models see the whole image; they differ in how much weight the
# border gets and in the false edges ``same`` adds. These photographs are
# centred, with most of each garment away from the border; padding matters
# more for images whose important details lie near the edges, and for deep
# networks, where a ``valid`` map would shrink by 4 pixels per 5x5
# convolution until nothing is left.

# sphinx_gallery_thumbnail_number = 1
