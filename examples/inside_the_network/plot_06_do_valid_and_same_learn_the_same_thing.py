"""
Do valid and same learn the same thing?
=======================================

The side-by-side page shows the two models' feature maps next to each
other, and has to warn that channel k of one and channel k of the other
are separately trained filters. This page compares what the two
networks *represent*, whatever their channels' order, with the
standard tools for it:

- **Centred kernel alignment** (CKA; Kornblith et al., "Similarity of
  Neural Network Representations Revisited", ICML 2019,
  `arXiv:1905.00414 <https://arxiv.org/abs/1905.00414>`_) compares two
  layers through their activations on the same images: with X and Y the
  (images x units) activations, each column less its mean,
  ``CKA = ||XᵀY||² / (||XᵀX|| ||YᵀY||)``. It is 1 when one layer's
  activations are a rotation, a scaling of all units by one factor, or
  a shift of the other's (so channel order does not matter; scaling
  units by different factors does), and near 0 when they share nothing;
  the two layers may have any numbers of units.
- **Matched channels** (Li et al., "Convergent Learning", ICLR 2016,
  `arXiv:1511.07543 <https://arxiv.org/abs/1511.07543>`_): each channel of
  one layer is paired with one channel of the other so that the paired
  activations correlate most, over all images and positions.
"""

# %%
# Three models at epoch 10
# ------------------------
# A similarity means little alone: two trainings of the *same* network
# that differ only in their random seed do not learn identical layers
# either. So ``valid`` (seed 0) is compared with ``same`` (seed 0) and,
# as the baseline, with ``valid`` trained from seed 1. The seed models'
# cache entries keep their weights after every epoch, so the two seed-0
# models are taken at epoch 10, and the seed-1 model is trained for 10
# epochs (in the docs build): all three at the same point of the
# notebook's recipe. The layers are compared on test images (all 10,000
# for the matrices), and nothing is chosen by them; channels are matched
# on training images.
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnviz

(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
valid, _ = cnnviz.trained_lenet5("valid", epoch=10, verbose=0)
same, _ = cnnviz.trained_lenet5("same", epoch=10, verbose=0)
valid_seed1, _ = cnnviz.trained_lenet5(
    "valid", seed=1, epochs=10, verbose=0
)

# %%
# Every layer against every layer
# -------------------------------
# :func:`cnnviz.layer_similarity` computes the CKA of every layer of one
# model with every layer of the other over a whole data set, reading the
# images once in blocks and adding up the sums that CKA needs, so the
# result is CKA on all 10,000 images' activations (not a mean over
# batches, which would be biased). Colours run from 0 to 1 in both
# panels.
start = time.perf_counter()
across = cnnviz.layer_similarity(valid, same, x_test)
seconds = time.perf_counter() - start
seeds = cnnviz.layer_similarity(valid, valid_seed1, x_test)
print(
    f"valid against same, 10 x 10 layers, 10,000 images: {seconds:.0f} s"
)

fig = plt.figure(figsize=(15, 6.2), layout="constrained")
left, right = fig.subfigures(1, 2)
cnnviz.plot_similarity(
    across,
    labels=("valid", "same"),
    title="valid against same (both seed 0, epoch 10)",
    fig=left,
)
cnnviz.plot_similarity(
    seeds,
    labels=("valid, seed 0", "valid, seed 1"),
    title="The baseline: valid against valid from another seed",
    fig=right,
)
plt.show()

# %%
# Read the diagonal first: each layer against its namesake.
layers = across["layers_a"]
print(f"{'layer':10} {'valid/same':>10} {'valid/valid':>11}")
for i, name in enumerate(layers):
    print(
        f"{name:10} {across['cka'][i, i]:10.3f} {seeds['cka'][i, i]:11.3f}"
    )
diagonal = dict(zip(layers, np.diag(across["cka"]), strict=True))
baseline = dict(zip(layers, np.diag(seeds["cka"]), strict=True))

# %%
# The first block (``conv1``, ``relu1``, ``max_pool1``) of the two
# paddings is nearly the same representation, CKA 0.95 or more. Part of
# that is shared history: from one seed, the two models start with the
# same ``conv1``, ``conv2``, ``fc2`` and ``op`` weights (only ``fc1``,
# which reads 256 values in one and 784 in the other, starts apart; the
# code checks it on their epoch-0 weights), which the seed-1 baseline
# does not share. The second block is where the two models part:
# ``conv2`` and ``relu2`` of ``valid`` and ``same`` are *less* alike
# than those of two seeds of ``valid``, although the seed-0 pair started
# from the same ``conv2`` kernels. That is not padding alone: the two
# models also differ in ``fc1`` (its input, 256 against 784 values, and
# its start), and every
# gradient that reaches ``conv2`` comes through ``fc1``. Nor is all of
# it the filters: the maps differ in size (8x8 against 14x14), and
# ``same``'s border units have no counterpart in ``valid``; the matched
# channels below pair the maps' centres. The output layer ``op`` is
# above 0.9 in both comparisons: the class probabilities of the two rise
# and fall together over the test images. CKA does not say that they
# predict the same class; how often they do is printed below. These
# statements hold for the models of seeds 0 to 4 as well (each ``valid``
# seed against ``same`` of that seed, and ``valid`` of the next seed),
# checked when this page was written; the page asserts them for the
# models it shows.
start_valid, _ = cnnviz.trained_lenet5("valid", epoch=0, verbose=0)
start_same, _ = cnnviz.trained_lenet5("same", epoch=0, verbose=0)
for name in ("conv1", "conv2", "fc1", "fc2", "op"):
    alike = all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(
            start_valid.get_layer(name).get_weights(),
            start_same.get_layer(name).get_weights(),
            strict=True,
        )
    )
    assert alike == (name != "fc1"), name
assert all(
    diagonal[name] >= 0.95 for name in ("conv1", "relu1", "max_pool1")
)
assert all(
    diagonal[name] < baseline[name] for name in ("conv2", "relu2")
)
assert diagonal["op"] > 0.9
assert baseline["op"] > 0.9
agree = np.mean(
    cnnviz.predict(valid, x_test).argmax(axis=1)
    == cnnviz.predict(same, x_test).argmax(axis=1)
)
print(
    f"valid and same predict the same class for {agree:.1%} of the test images"
)

# %%
# Off the diagonal: of all of ``same``'s layers, ``valid``'s ``fc2`` and
# ``op`` are most like ``same``'s own ``fc2`` and ``op``. (``valid``'s
# ``fc1`` is closest to ``same``'s ``fc1`` and ``fc2``, ahead of the
# rest by a few hundredths, as its row printed below shows: for one of
# the five seeds checked, it is most like ``fc2``.)
for name in ("fc2", "op"):
    row = across["cka"][layers.index(name)]
    print(
        f"valid {name:4}: most like same {layers[int(np.argmax(row))]}"
    )
    assert layers[int(np.argmax(row))] == name
row = across["cka"][layers.index("fc1")]
print(
    "valid fc1 against same's layers: "
    + ", ".join(
        f"{name} {v:.2f}" for name, v in zip(layers, row, strict=True)
    )
)
assert {layers[i] for i in np.argsort(row)[-2:]} == {"fc1", "fc2"}

# %%
# How representations settle during training
# ------------------------------------------
# The seed models' cache entries keep the weights after every one of
# their 30 epochs, so each layer can be compared with *itself at the
# end*: the CKA of each epoch's model with the epoch-30 model, layer by
# layer (the first 2,000 test images; epoch 0 is the random start). To
# keep the plot readable, ``flatten`` (the values of ``max_pool2``, so the
# same CKA) and the two ReLUs are left out.
settling_layers = [
    "conv1",
    "max_pool1",
    "conv2",
    "max_pool2",
    "fc1",
    "fc2",
    "op",
]
epochs = [0, 1, 2, 3, 5, 10, 20, 30]
settling = {}
for padding in ("valid", "same"):
    final, _ = cnnviz.trained_lenet5(padding, verbose=0)
    rows = []
    for epoch in epochs:
        model, _ = cnnviz.trained_lenet5(
            padding, epoch=epoch, verbose=0
        )
        result = cnnviz.layer_similarity(
            model,
            final,
            x_test[:2000],
            layers_a=settling_layers,
            layers_b=settling_layers,
        )
        rows.append(np.diag(result["cka"]))
    settling[padding] = np.array(rows)  # (epochs, layers)

fig, axes = plt.subplots(
    1, 2, figsize=(11, 4.2), sharey=True, layout="constrained"
)
for ax, (padding, values) in zip(axes, settling.items(), strict=True):
    for j, name in enumerate(settling_layers):
        style = "--" if name.startswith("fc") or name == "op" else "-"
        ax.plot(
            epochs, values[:, j], style, marker="o", ms=3, label=name
        )
    ax.set(
        title=f"{padding}: each layer against itself at epoch 30",
        xlabel="epoch",
        ylim=(0, 1.02),
    )
axes[0].set_ylabel("linear CKA")
axes[1].legend(loc="lower right", fontsize="small")
plt.show()

# %%
# Read the curves from where they start. At epoch 0, the random start,
# ``conv1`` and ``max_pool1`` are already at 0.75 or more with their
# final selves, and ``fc1`` and ``fc2`` (dense layers dashed) below 0.5:
# a first convolution's maps keep much of the image's own structure
# whatever its kernels, so CKA rates the first block high from the
# start, and its curves say little about learning. What epoch 1 adds is
# clearer as a share of the way left to 1, (CKA at epoch 1 - CKA at
# epoch 0) / (1 - CKA at epoch 0): the second block (``conv2``,
# ``max_pool2``) covers more of its way than the hidden dense layers
# ``fc1`` and ``fc2`` do of theirs: for these two models, the features
# of the second block settle before the hidden layers that read them.
# The output layer ``op`` does not follow that order: it covers as much
# of its way in epoch 1 as the second block, or more (its CKA follows
# the class probabilities, which the first epoch already gets mostly
# right). These are the curves of one seed of each model.
for padding, values in settling.items():
    start, first = values[epochs.index(0)], values[epochs.index(1)]
    share = (first - start) / (1 - start)
    second_block, dense = share[2:4].min(), share[4:6].max()
    print(
        f"{padding}: at epoch 0, conv1 {start[0]:.2f}, fc1 {start[4]:.2f}; "
        f"share of the way covered in epoch 1: second block at least "
        f"{second_block:.2f}, fc1 and fc2 at most {dense:.2f}, "
        f"op {share[6]:.2f}"
    )
    assert start[:2].min() >= 0.75
    assert start[4:6].max() < 0.5
    assert second_block > dense
    assert share[6] >= second_block  # op: not behind the second block

# %%
# Which channel is which
# ----------------------
# :func:`cnnviz.match_channels` pairs the six ``conv1`` channels of the
# seed-0 ``valid`` model (30 epochs) with those of the seed-0 ``same`` model by
# the correlation of their activations, here over the first 5,000
# *training* images (the ``same`` maps are larger, 28x28 against 24x24:
# units are paired around the centre, so that each pair looks at the same
# pixels). Each channel is drawn as its kernel.
valid_30, _ = cnnviz.trained_lenet5("valid", verbose=0)
same_30, _ = cnnviz.trained_lenet5("same", verbose=0)
pictures = x_train[:5000]
conv1 = cnnviz.match_channels(
    valid_30, same_30, pictures, "conv1", "conv1"
)
kernels = [
    cnnviz.kernels(model, "conv1")[..., 0, :].transpose(2, 0, 1)
    for model in (valid_30, same_30)
]
cnnviz.plot_matched_channels(
    conv1,
    *kernels,
    labels=("valid", "same"),
    title="conv1: matched channels, their kernels",
)
plt.show()

# %%
# Every ``conv1`` channel is matched with its namesake: shared history
# again (the same starting kernels), kept through 30 epochs. The
# correlations say how far each pair drifted apart. The pairing is one
# to one and always finds a partner: a pair whose correlation is low
# (below 0.5) is one only for want of a better match.
for (a, b), r in zip(conv1["pairs"], conv1["correlation"], strict=True):
    print(f"valid conv1 channel {a} <-> same channel {b}: r = {r:.2f}")
assert (conv1["pairs"][:, 0] == conv1["pairs"][:, 1]).all()

# %%
# The 16 ``conv2`` channels, each drawn as the patch of a training image
# that excites it most (among its nine strongest, the first whose
# receptive field, 14x14 pixels, lies wholly inside the image), grey from
# the patch's least to its largest pixel:


def strongest_patches(model, layer, images):
    found = cnnviz.top_patches(model, images, layer, k=9)
    (height, width), _ = cnnviz.receptive_field(model, layer)
    patches = []
    for boxes, indices in zip(
        found["box"], found["index"], strict=True
    ):
        whole = [
            (box, i)
            for box, i in zip(boxes, indices, strict=True)
            if (box[2] - box[0], box[3] - box[1]) == (height, width)
        ]
        (top, left, bottom, right), i = (
            whole[0] if whole else (boxes[0], indices[0])
        )
        patch = np.zeros((height, width))
        patch[: bottom - top, : right - left] = images[
            i, top:bottom, left:right, 0
        ]
        patches.append(patch)
    return np.stack(patches)


conv2 = cnnviz.match_channels(
    valid_30, same_30, pictures, "conv2", "conv2"
)
cnnviz.plot_matched_channels(
    conv2,
    strongest_patches(valid_30, "conv2", pictures),
    strongest_patches(same_30, "conv2", pictures),
    labels=("valid", "same"),
    title="conv2: matched channels, their strongest patches",
)
plt.show()

namesakes = int((conv2["pairs"][:, 0] == conv2["pairs"][:, 1]).sum())
print(
    f"conv2: {namesakes} of 16 channels matched with their namesake; "
    f"correlations {conv2['correlation'].min():.2f} to {conv2['correlation'].max():.2f}"
)

# %%
# Fewer ``conv2`` channels keep their namesake, and their correlations
# are lower than ``conv1``'s: the second block is where the two
# networks part, as its CKA at epoch 10 said, and still at epoch 30.
assert namesakes < len(conv2["pairs"])
assert np.median(conv2["correlation"]) < np.median(conv1["correlation"])

# %%
# Biased or debiased?
# -------------------
# CKA's plain estimate is biased upwards when the images are few against
# the number of units (Nguyen, Raghu and Kornblith, ICLR 2021,
# `arXiv:2010.15327 <https://arxiv.org/abs/2010.15327>`_): even unrelated
# activations score well above 0. ``debiased=True`` uses the unbiased
# estimator of the underlying statistic. Below, :func:`cnnviz.cka` on the
# first N test images, for ``relu1`` (3,456 and 4,704 units) and ``fc1``
# (120 units), of ``valid`` against ``same``; and, as activations that
# share nothing, the same layers with ``same``'s images put in a random
# order, so that each ``valid`` activation is paired with another
# image's.
rng = np.random.default_rng(0)
print(
    f"{'N':>6}  {'relu1':>15}  {'fc1':>15}  {'relu1, unrelated':>17}  {'fc1, unrelated':>15}"
)
small = {}
for n in (20, 50, 100, 500, 2000):
    a = cnnviz.layer_outputs(valid, x_test[:n], ["relu1", "fc1"])
    b = cnnviz.layer_outputs(same, x_test[:n], ["relu1", "fc1"])
    shuffled = rng.permutation(n)
    row = []
    for name, order in (
        ("relu1", None),
        ("fc1", None),
        ("relu1", shuffled),
        ("fc1", shuffled),
    ):
        other = b[name] if order is None else b[name][order]
        row.append(
            (
                cnnviz.cka(a[name], other),
                cnnviz.cka(a[name], other, debiased=True),
            )
        )
    small[n] = row
    print(
        f"{n:6,}  "
        + "  ".join(
            f"{plain:6.3f} / {fair:6.3f}" for plain, fair in row
        )
    )

# %%
# Each cell is plain / debiased. For the real pairs the two agree from a
# few hundred images on (within 0.01 at N = 500; ``relu1`` on all 10,000
# images is on the diagonal of the first matrix above). For unrelated
# activations the plain estimate at N = 20 is far from 0, while the
# debiased one stays within 0.1 of 0 at every N. The bias is not set by
# the raw number of units: ``relu1``, with thousands, agrees within 0.01
# at N = 500, as ``fc1`` with 120 does; what counts is how many
# directions the activations really spread over. So: on tens of images,
# use ``debiased=True``; with thousands, as in the matrices above, both
# give the same answer.
for n, row in small.items():
    assert all(abs(fair) < 0.1 for _, fair in row[2:]), n
    if n >= 500:
        assert all(
            abs(plain - fair) < 0.01 for plain, fair in row[:2]
        ), n
assert small[20][2][0] > 0.25

# %%
# What this says
# --------------
# - ``valid`` and ``same`` learn nearly the same first block (CKA at
#   least 0.95, from the same starting kernels), and their output layers
#   vary alike (CKA above 0.9, as for two seeds of one network).
# - They part in the second block: ``conv2`` and ``relu2`` of the two
#   paddings are less alike than those of two seeds of ``valid``, and
#   fewer ``conv2`` channels find a close partner.
# - Training settles the second block's features before the hidden
#   dense layers ``fc1`` and ``fc2`` (one seed of each model); the first
#   block's CKA is high from the random start on.
# - On a few images, trust debiased CKA; on thousands, either.
