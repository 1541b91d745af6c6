"""
Where LeNet-5 fails: confusion matrix and confident mistakes
============================================================

Accuracy is one number; the confusion matrix says which classes the
mistakes come from. This page draws it for LeNet-5 with ``valid`` and
``same`` padding on all 10,000 test images, reads off the classes the
models confuse, and shows the twelve mistakes each model is most sure
of, with the Grad-CAM map of the class it wrongly predicted.
"""

# %%
# Predictions on the test set
# ---------------------------
# :func:`cnnviz.predict` gives each image's ten class probabilities; the
# prediction is the most probable class. The test set is only measured
# here: nothing on this page is chosen by it.
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
# Rows are the true classes, columns the predicted ones; the diagonal
# holds the right answers, and each row label ends with the class's
# recall. On the left the counts (cells shaded on ``Blues`` from 0 to the
# largest count), on the right each row divided by its 1,000 images
# (shaded from 0 to 1), so a row reads as "of the coats, this fraction
# was called ...".
for p, matrix in matrices.items():
    fig = plt.figure(figsize=(15, 6.5), layout="constrained")
    fig.suptitle(f"{p} padding: 10,000 test images")
    left, right = fig.subfigures(1, 2)
    cnnviz.plot_confusion_matrix(matrix, fig=left)
    cnnviz.plot_confusion_matrix(matrix, normalize="true", fig=right)
    plt.show()

# %%
# The classes they confuse
# ------------------------
# The largest cells off the diagonal, read from the matrices: the upper
# body garments, shirt, T-shirt/top, pullover and coat, which share a
# silhouette at 28x28 and differ in collars, buttons and sleeves that
# take a few pixels.
for p, matrix in matrices.items():
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    print(f"{p} padding, the six largest confusions:")
    for flat in np.argsort(off, axis=None)[::-1][:6]:
        true, pred = np.unravel_index(flat, off.shape)
        print(
            f"  {cnnviz.CLASS_NAMES[true]:>11} called"
            f" {cnnviz.CLASS_NAMES[pred]:<11} {off[true, pred]:4}"
        )
    upper = [0, 2, 4, 6]  # T-shirt/top, pullover, coat, shirt
    inside = off[np.ix_(upper, upper)].sum()
    print(
        f"  among those four classes: {inside} of {off.sum()}"
        f" mistakes ({inside / off.sum():.0%})"
    )

# %%
# The most confident mistakes
# ---------------------------
# :func:`cnnviz.misclassified` orders the wrong predictions by the
# predicted class's probability; here the twelve highest of each model.
# Each tile is titled with the true class and the predicted class with
# its probability, and overlaid with the Grad-CAM map (``relu2``) of the
# *predicted* class: where the model found its wrong evidence. Each map
# is divided by its own maximum, so all tiles share one colour bar from
# 0 to 1 (``magma``).
for p, model in models.items():
    prob = probabilities[p]
    worst = cnnviz.misclassified(y_test, prob, k=12)
    maps = np.zeros((len(x_test), 28, 28), dtype=np.float32)
    maps[worst] = cnnviz.grad_cam(model, x_test[worst])
    fig = plt.figure(figsize=(15, 7), layout="constrained")
    fig.suptitle(f"{p} padding: the twelve most confident mistakes")
    cnnviz.plot_mistakes(
        x_test, y_test, prob, worst, maps=maps, fig=fig
    )
    plt.show()

# %%
# Several of these "mistakes" are hard to call even for a person, and
# some labels in Fashion-MNIST are arguably wrong; a confident mistake is
# where to look first, not proof that the model is broken. The Grad-CAM
# maps are coarse (8x8 or 14x14 cells) and, as the previous page showed,
# a map that passes the sanity checks is still not a proof of what the
# model used.
