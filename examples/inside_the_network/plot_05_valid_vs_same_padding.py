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
# covers more of each tile; the ``same`` maps keep the whole outline of the
# sneaker, edges included.
titles = [f"{p} padding" for p in paddings]
first_block = ["conv1", "relu1", "max_pool1"]
cnnviz.plot_side_by_side(outputs, layers=first_block, titles=titles)
plt.show()

# %%
# The second block
# ----------------
# Sixteen filters over the six pooled maps: 8x8 with ``valid`` padding,
# still 14x14 with ``same``.
second_block = ["conv2", "relu2"]
cnnviz.plot_side_by_side(outputs, layers=second_block, titles=titles)
plt.show()

# %%
# What the classifier gets
# ------------------------
# After the second pooling the ``valid`` model has 4x4 maps, the ``same``
# model 7x7; ``flatten`` lines them up into 256 and 784 numbers.
into_classifier = ["max_pool2", "flatten"]
cnnviz.plot_side_by_side(outputs, layers=into_classifier, titles=titles)
plt.show()

# %%
# The classifier
# --------------
# The dense layers ``fc1`` and ``fc2`` and the class probabilities of
# ``op``.
classifier = ["fc1", "fc2", "op"]
cnnviz.plot_side_by_side(outputs, layers=classifier, titles=titles)
plt.show()

# %%
# Shapes and parameters compared
# ------------------------------
# The padding changes no layer's number of filters or units, and so no
# convolution's number of weights. It changes the size of the maps, and with
# it the number of inputs of ``fc1``: 256 with ``valid`` padding, 784 with
# ``same``. Nearly all of the difference in size between the two models is
# in that one layer.
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
# More maps and more parameters do not buy much here: both models end up
# near 90% of the 10,000 test images right. The notebook reports 0.8947 for
# ``valid``. Over five random seeds ``same`` averaged 0.897 and ``valid``
# 0.884, ``same`` ahead for four of the five; the seed alone moves ``valid``
# by up to 1.7 points (see :doc:`/performance`).
for padding in paddings:
    scores = cnnviz.evaluate(models[padding], x_test, y_test)
    predicted = int(np.argmax(outputs[padding]["op"][0]))
    print(
        f"{padding:5}: test accuracy {scores['accuracy']:.4f},",
        f"loss {scores['loss']:.4f};",
        f"image {index} predicted as {cnnviz.CLASS_NAMES[predicted]}",
    )

# %%
# What padding changes at the borders
# -----------------------------------
# A 5x5 kernel with ``valid`` padding is placed only where it fits inside the
# image: its centre never comes closer than 2 pixels to an edge, which is why
# 28 pixels become 24. ``same`` padding surrounds the image with a 2-pixel
# frame of zeros so that the kernel can be centred on every pixel, border
# included.
#
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
# background, so the zeros of the padding look like more background; the
# frame matters where the garment touches the edge, as the sneaker's toe and
# heel do. The figure shows, for every filter, the ``same`` output with the
# region that ``valid`` computes as well left blank: what is left is what
# ``same`` padding adds. Along the top and bottom the frame sees only
# background, so it is flat; at the left and right the sneaker reaches the
# edge, and the filters respond there.
frame_only = same_conv1.copy()
frame_only[2:-2, 2:-2] = np.nan  # drawn blank
cnnviz.plot_feature_maps(
    frame_only,
    ncols=6,
    title="conv1 with the valid weights: the frame that same adds",
)
plt.show()

# %%
# The frame then travels on through the network: after pooling, the
# ``same`` model's 14x14 maps still reach the image's edges, and after the
# second block its 7x7 maps do too, while the ``valid`` model's 4x4 maps
# describe only the middle of the image. For centred objects such as these
# photographs the two do about equally well; padding matters more for images
# whose important details lie near the edges, and for deep networks, where a
# ``valid`` map would shrink by 4 pixels per convolution until nothing is left.

# sphinx_gallery_thumbnail_number = 1
