"""
What excites a channel? Activation maximization for LeNet-5
===========================================================

The top patches of the previous page are the real images a channel
likes best. Activation maximization asks the network instead: starting
from noise, change the input image step by step, by gradient ascent,
to make one unit of the channel as strong as it can. This page does
it for every channel of ``conv1`` and ``conv2`` of both trained models,
shows what the regularisation that keeps the images readable costs, and
compares the result with the strongest real training image.
"""

# %%
# How the images are made
# -----------------------
# :func:`cnnviz.maximize_activation` keeps the image in the model's
# input range (pixels from 0 to 1) and, for a list of channels, runs one
# ascent for all of them as a batch. With ``position`` it maximises the
# unit at that position (here the centre of the layer's output) rather
# than the channel's mean over all positions: the unit only sees its
# receptive field, so we show each image cut to that box, in grey from 0
# (black) to 1 (white), as the data are drawn.
#
# Why one unit and not the mean? ``conv1`` is linear in the image, so
# the mean of its output over all positions is best served by a flat
# image: all white if the kernel's weights sum to more than zero, all
# black if less (except near the border, which fewer of the weights
# cover). That says nothing about the pattern; one unit does.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

(x_train, _), _ = cnnviz.load_fashion_mnist()
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}


def centre(model, layer):
    height, width = model.get_layer(layer).output.shape[1:3]
    return (height - 1) // 2, (width - 1) // 2


def crops(model, layer, images):
    """Each image cut to the centre unit's receptive box, stacked as tiles."""
    top, left, bottom, right = cnnviz.receptive_box(
        model, layer, *centre(model, layer)
    )
    return np.moveaxis(images[:, top:bottom, left:right, 0], 0, -1)


def best_inputs(model, layer, **options):
    """The best input of every channel's centre unit: one batched ascent."""
    channels = list(range(model.get_layer(layer).output.shape[-1]))
    return cnnviz.maximize_activation(
        model,
        layer,
        channels,
        position=centre(model, layer),
        learning_rate=0.1,
        **options,
    )


def show(model, layer, images, title):
    """The images cut to the centre unit's box, on the data's grey scale."""
    cnnviz.plot_feature_maps(
        crops(model, layer, images),
        ncols=min(len(images), 8),
        vmin=0,
        vmax=1,
        scale="layer",
        title=title,
    )
    plt.show()


# %%
# conv1: the kernel's sign pattern
# --------------------------------
# A ``conv1`` unit sees 5x5 pixels and computes a dot product with its
# kernel plus a bias, linear in the pixels, so the strongest answer it
# can get from pixels in [0, 1] is white where the kernel's weight is
# positive and black where it is negative: the kernel's sign pattern,
# not its values. With every aid of the ascent off (no shift, no blur,
# no penalty) that is where the ascent goes, and all the way: its Adam
# steps move every pixel at the same pace whatever its weight, so a
# pixel under a small weight ends as white (or black) as one under a
# large weight. (The L2 penalty alone would give the kernel's values
# scaled by ``n / (2 l2)``, ``n`` the image's 784 pixels, and clipped
# to the range, black where a weight is negative; the docstring of
# :func:`cnnviz.maximize_activation` works it out. At the default
# ``l2=0.02`` that factor is about 20,000, which clips every weight
# but the tiniest to black or white: the sign pattern again. The
# kernels' values would show only with ``l2`` in the hundreds; here the
# kernels themselves are drawn instead.) Each kernel is drawn on one
# blue-white-red scale per model (white is 0, red positive, the limits
# the largest weight's size, as the colour bar beside the model's
# kernels shows); under it, the unit's best input, in grey from 0
# (black) to 1 (white).
conv1 = {
    p: best_inputs(model, "conv1", jitter=0, blur=0, l2=0, tv=0)
    for p, model in models.items()
}
fig, axes = plt.subplots(
    4, 6, figsize=(12.2, 8.8), layout="constrained"
)
for k, (p, model) in enumerate(models.items()):
    kernel = cnnviz.kernels(model, "conv1")[:, :, 0, :]
    limit = np.abs(kernel).max()
    best = crops(model, "conv1", conv1[p])
    for c in range(6):
        tile = axes[2 * k, c].imshow(
            kernel[..., c], cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        axes[2 * k + 1, c].imshow(
            best[..., c], cmap="gray", vmin=0, vmax=1
        )
        axes[2 * k, c].set_title(f"channel {c}")
    fig.colorbar(tile, ax=axes[2 * k, :], label=f"{p}: weight")
    axes[2 * k, 0].set_ylabel(f"{p}: kernel")
    axes[2 * k + 1, 0].set_ylabel(f"{p}: best input")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(
    "conv1: each kernel and the 5x5 input its centre unit likes best"
)
plt.show()

# %%
# The page checks it: for every channel of both models, the best input
# is white (above 0.5) exactly where the kernel is positive.
for p, model in models.items():
    signs = cnnviz.kernels(model, "conv1")[:, :, 0, :] > 0
    assert ((crops(model, "conv1", conv1[p]) > 0.5) == signs).all(), p

# %%
# conv2: shapes of 14x14 pixels
# -----------------------------
# A ``conv2`` unit sees 14x14 pixels through ``conv1``, its ReLU and
# the pooling, so its best input is no longer a copy of its weights. The
# images below are regularised: a slight blur after each step, a small
# penalty on pixel noise and on brightness, a random shift of one pixel
# before each step (Olah et al., 2017, "Feature Visualization",
# Distill). At 14x14 pixels and with these aids, what comes out are soft
# strokes and blobs, bright where light pixels raise the unit: a map of
# what the unit prefers, to be read beside the channel's top patches on
# the previous page, not a picture of a garment. Some channels' images
# are dim. How dim an image is need not follow the unit's strength on
# real images (compare the table at the end, which prints each unit's
# strongest answer to a real image and each image's mean pixel): a dim
# image reads as "the regularised ascent found little for this unit",
# not as "a weak unit". Nor are these the inputs the units like best:
# for every channel of both models, the strongest training image gives
# the unit more than its regularised image does (the table at the end).
conv2 = {p: best_inputs(model, "conv2") for p, model in models.items()}
show(
    models["valid"],
    "conv2",
    conv2["valid"],
    "conv2, valid padding: a regularised 14x14 input for each channel",
)

# %%
show(
    models["same"],
    "conv2",
    conv2["same"],
    "conv2, same padding: a regularised 14x14 input for each channel",
)

# %%
# What the regularisation costs
# -----------------------------
# The same ascent for the ``valid`` model without blur and without the
# penalties (only the one-pixel shift kept) reaches higher activations,
# with images of hard black and white specks that no garment looks
# like: the network answers to them, but they explain little. The
# readable images above are a compromise, and the numbers below say how
# much of the channel's strength they give up; the page checks that
# every channel's free image beats its regularised one.
free = best_inputs(models["valid"], "conv2", blur=0, l2=0, tv=0)
show(
    models["valid"],
    "conv2",
    free,
    "conv2, valid padding, without regularisation",
)

# %%
# Stronger than any real image?
# -----------------------------
# For each channel of ``conv2`` at its centre unit: the activation for
# the regularised image, for the free one, and the largest over the
# 60,000 training images at the same unit (and the regularised image's
# mean pixel in the box: how bright it is). Above the training images
# means the ascent found an input the channel likes more than any of
# the garments it was trained on: it shows the channel's preference,
# not an image it ever meets.
for p, model in models.items():
    row, col = centre(model, "conv2")
    made = {"regularised": conv2[p]}
    if p == "valid":
        made["free"] = free
    best = [  # 10,000 images at a time, to keep the memory small
        cnnviz.layer_outputs(model, x_train[i : i + 10000], ["conv2"])[
            "conv2"
        ][:, row, col, :].max(axis=0)
        for i in range(0, len(x_train), 10000)
    ]
    columns = {"best training": np.max(best, axis=0)}
    for name, images in made.items():
        out = cnnviz.layer_outputs(model, images, ["conv2"])["conv2"]
        columns[name] = out[np.arange(16), row, col, np.arange(16)]
    print(f"{p} padding, conv2 unit ({row}, {col})")
    brightness = crops(model, "conv2", conv2[p]).mean(axis=(0, 1))
    print(
        "  channel "
        + "".join(f"{name:>14}" for name in columns)
        + "    mean pixel"
    )
    for c in range(16):
        print(
            f"  {c:7} "
            + "".join(f"{v[c]:14.1f}" for v in columns.values())
            + f"{brightness[c]:14.2f}"
        )
    for name in made:
        above = int((columns[name] > columns["best training"]).sum())
        print(
            f"  {name}: above the best training image "
            f"for {above} of 16 channels"
        )
    # The claim of the conv2 section: the best training image gives more.
    below = columns["regularised"] < columns["best training"]
    assert below.all(), f"{p}: a regularised image is as strong as any"
    if "free" in columns:  # the claim of the section above
        free_wins = columns["free"] > columns["regularised"]
        assert free_wins.all(), (
            "a free image is weaker than a regularised one"
        )
