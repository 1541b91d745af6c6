"""
Where LeNet-5 fails: confusion matrix and its worst mistakes
============================================================

Accuracy is one number; the confusion matrix says which classes the
mistakes come from. This page draws it for LeNet-5 with ``valid`` and
``same`` padding on all 10,000 test images, computes which pairs of
classes the models confuse most, and shows the twelve mistakes of each
model that gave the true class the lowest probability, with the Grad-CAM
map of the class it wrongly predicted.
"""

# %%
# Predictions on the test set
# ---------------------------
# :func:`cnnviz.predict` gives each image's ten class probabilities; the
# prediction is the most probable class. This page is evaluation: it
# measures the models on the test set and shows the test set's own
# mistakes, and nothing on it (no image, setting or threshold of this or
# another page) is tuned or chosen from those results.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

_, (x_test, y_test) = cnnviz.load_fashion_mnist()
models = {
    p: cnnviz.trained_lenet5(p, verbose=0)[0] for p in ("valid", "same")
}
probabilities = {
    p: cnnviz.predict(m, x_test) for p, m in models.items()
}
matrices = {}
for p, prob in probabilities.items():
    matrices[p] = cnnviz.confusion_matrix(
        y_test, prob.argmax(axis=1), num_classes=10
    )
    accuracy = np.trace(matrices[p]) / len(y_test)
    print(f"{p:5}: accuracy {accuracy:.2%} on {len(y_test):,} images")

# %%
# The confusion matrices
# ----------------------
# Rows are the true classes, columns the predicted ones; each row label
# ends with the class's recall (the diagonal cell over the row). The
# right answers on the diagonal are so many more than any confusion that
# on one scale every other cell would look white, so
# ``diagonal="mask"`` draws the diagonal in grey, off the scale (its
# counts still written in it), and shades the other cells on ``Blues``
# from 0 to the largest confusion. Each class has 1,000 test images, so
# a count of 10 is 1% of its row. First ``valid`` padding:
cnnviz.plot_confusion_matrix(matrices["valid"], diagonal="mask")
plt.show()

# %%
# Then ``same`` padding, on a scale of its own (its colour bar says to
# which count):
cnnviz.plot_confusion_matrix(matrices["same"], diagonal="mask")
plt.show()

# %%
# The classes they confuse
# ------------------------
# Counting both directions of each pair of classes (in brackets: the
# first class called the second, plus the second called the first), the
# page prints the most confused pairs and two groups: the upper body
# garments (T-shirt/top, pullover, coat, shirt), which share a
# silhouette at 28x28 and differ in collars, buttons and sleeves that
# take a few pixels, and the footwear (sandal, sneaker, ankle boot).
# Most of all mistakes fall among the four upper body classes, the most
# confused pair is two of them, and a shoe that is misclassified is
# mostly called another kind of shoe (in more than two of three
# footwear mistakes); the page checks these claims.
names = cnnviz.CLASS_NAMES
upper = [0, 2, 4, 6]  # T-shirt/top, pullover, coat, shirt
footwear = [5, 7, 9]  # sandal, sneaker, ankle boot
for p, matrix in matrices.items():
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    pairs = np.triu(off + off.T)  # each pair once, both directions
    ranked = np.argsort(pairs, axis=None, kind="stable")[::-1]
    print(f"{p} padding, the six most confused pairs:")
    for a, b in zip(
        *np.unravel_index(ranked[:6], pairs.shape), strict=True
    ):
        print(
            f"  {names[a]:>11} / {names[b]:<11} {pairs[a, b]:4}"
            f" ({off[a, b]} + {off[b, a]})"
        )
    inside = off[np.ix_(upper, upper)].sum()
    print(
        f"  among the four upper body classes: {inside} of {off.sum()}"
        f" mistakes ({inside / off.sum():.0%})"
    )
    shoes = off[footwear].sum()
    shoes_inside = off[np.ix_(footwear, footwear)].sum()
    print(
        f"  footwear called another footwear class: {shoes_inside} of"
        f" {shoes} footwear mistakes ({shoes_inside / shoes:.0%})"
    )
    for a, b in sorted(
        [(5, 7), (5, 9), (7, 9)], key=lambda ab: -pairs[ab]
    ):
        print(f"    {names[a]} / {names[b]}: {pairs[a, b]}")
    top_a, top_b = np.unravel_index(ranked[0], pairs.shape)
    assert inside > off.sum() / 2, "most mistakes are among upper body"
    assert {top_a, top_b} <= set(upper), "top pair is upper body"
    assert shoes_inside > 2 / 3 * shoes, "a shoe is called another shoe"

# %%
# The worst mistakes
# ------------------
# Which mistakes to show? Ranking them by the predicted class's
# probability, the model's confidence, ranks little: on many of them it
# rounds to 1.000 (the page prints how many; the twelve most confident
# of each model all do, as the page checks). The probability the model
# left for the *true* class keeps varying over many orders of
# magnitude, so the tiles below
# are the twelve mistakes of each model with the lowest true-class
# probability (the largest ``-log p`` of the true class, the loss the
# model was trained to reduce). Each tile is titled with the true class
# and its probability, and the predicted class and its probability, and
# overlaid with the Grad-CAM map (``relu2``) of the *predicted* class:
# where the model found its wrong evidence. Each map is divided by its
# own maximum, so all tiles share one colour bar from 0 to 1
# (``magma``). On the ``valid`` model, colour in a frame or corner
# outside the garment is the edge cells' values copied outwards (see
# the Grad-CAM section of :doc:`plot_01_where_lenet5_looks`), not
# evidence found there.
worst = {}
for p, prob in probabilities.items():
    wrong = np.flatnonzero(prob.argmax(axis=1) != y_test)
    true_p = prob[wrong, y_test[wrong]]
    worst[p] = wrong[np.argsort(true_p, kind="stable")[:12]]
    confident = (prob[wrong].max(axis=1) >= 0.9995).sum()
    print(
        f"{p:5}: {len(wrong)} mistakes, {confident} with the predicted"
        f" class's probability at 1.000 (to 3 decimals); the twelve shown"
        f" give the true class {true_p.min():.1e} to"
        f" {np.sort(true_p)[11]:.1e}"
    )
    assert confident >= 12, "the twelve most confident all round to 1"


def show_mistakes(p):
    """Draw one model's worst mistakes with the predicted class's map."""
    maps = np.zeros((len(x_test), 28, 28), dtype=np.float32)
    maps[worst[p]] = cnnviz.grad_cam(models[p], x_test[worst[p]])
    fig = plt.figure(figsize=(11, 9.5), layout="constrained")
    fig.suptitle(
        f"{p} padding: the twelve lowest true-class probabilities"
    )
    cnnviz.plot_mistakes(
        x_test,
        y_test,
        probabilities[p],
        worst[p],
        maps=maps,
        fig=fig.subfigures(1, 1),
    )
    plt.show()


show_mistakes("valid")

# %%
# And those of the ``same`` model:
show_mistakes("same")

# %%
# Several of these mistakes are hard to call even for a person, and
# some labels in Fashion-MNIST are arguably wrong; a mistake the model
# is sure of is where to look first, not proof that the model is broken.
# The Grad-CAM maps are coarse (8x8 or 14x14 cells) and, as the previous
# page showed, a map that passes the sanity checks is still not a proof
# of what the model used.
