"""
Fashion-MNIST: load and explore the dataset
===========================================

Fashion-MNIST is the dataset every tutorial of this gallery trains on: small
grayscale photos of clothing in ten classes. This page shows where the data
comes from, how :func:`cnnviz.load_fashion_mnist` finds and checks it, what
the arrays look like, and a few of the images, including training image 41,
the sneaker that later pages send through every layer of LeNet-5.
"""

# %%
# Where the data comes from
# -------------------------
# `Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ was
# published by Zalando Research (Xiao, Rasul and Vollgraf, 2017) as a drop-in
# replacement for the MNIST digits: the same 28x28 pixels, the same split of
# 60,000 training and 10,000 test images, the same four IDX files, but
# pictures of clothing, which are harder to tell apart than digits.
#
# :func:`cnnviz.find_fashion_mnist` returns the directory the four files are
# read from. It looks, in this order, in the ``data_dir`` argument, the
# ``CNNVIZ_DATA_DIR`` environment variable, the Keras cache
# (``~/.keras/datasets/fashion-mnist``) and ``/usr/share/datasets/fashion-mnist``
# (the Debian package ``dataset-fashion-mnist``), and downloads the files only
# if none of these has them.
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

print(cnnviz.find_fashion_mnist())

# %%
# Load the images and labels
# --------------------------
# :func:`cnnviz.load_fashion_mnist` checks every file against the SHA-256 of
# its content and returns the arrays that
# ``keras.datasets.fashion_mnist.load_data()`` would, plus a channel axis, so
# that the images can go straight into a convolutional network: ``uint8``
# pixels from 0 (black) to 255 (white) and ``uint8`` labels from 0 to 9.
(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()

for name, array in [
    ("x_train", x_train),
    ("y_train", y_train),
    ("x_test", x_test),
    ("y_test", y_test),
]:
    print(f"{name:8} shape {array.shape!s:18} dtype {array.dtype}")

# %%
# The ten classes
# ---------------
# A label is an index into :data:`cnnviz.CLASS_NAMES`.
for label, name in enumerate(cnnviz.CLASS_NAMES):
    print(label, name)

# %%
# Training images 40 to 47
# ------------------------
# The notebook this gallery follows drew training images 40 to 47 with their
# class names; :func:`cnnviz.plot_images` draws that grid. Image 41, the
# second one, is the sneaker that the next pages follow through the network.
fig = cnnviz.plot_images(x_train[40:48], y_train[40:48])
fig.suptitle("Fashion-MNIST training images 40 to 47")
plt.show()

label = y_train[41]
print(
    f"Training image 41: {cnnviz.CLASS_NAMES[label]} (label {label})."
)

# %%
# One image of each class
# -----------------------
# The first training image of every class shows what the network has to
# tell apart: shirts, T-shirts, pullovers and coats look alike at 28x28 pixels.
first = [int(np.flatnonzero(y_train == c)[0]) for c in range(10)]
fig = cnnviz.plot_images(x_train[first], y_train[first], ncols=5)
fig.suptitle("The first training image of each class")
plt.show()

# %%
# Images per class
# ----------------
# The classes are balanced: 6,000 training and 1,000 test images each, so a
# model that guessed at random would be right 10% of the time.
train_counts = np.bincount(y_train, minlength=10)
test_counts = np.bincount(y_test, minlength=10)
print(f"{'class':12} {'training':>9} {'test':>6}")
for name, n_train, n_test in zip(
    cnnviz.CLASS_NAMES, train_counts, test_counts, strict=True
):
    print(f"{name:12} {n_train:9,} {n_test:6,}")
print(f"{'total':12} {train_counts.sum():9,} {test_counts.sum():6,}")

# %%
# How well people do
# ------------------
# Chance is the floor; people give a yardstick. The benchmark table of the
# `Fashion-MNIST README
# <https://github.com/zalandoresearch/fashion-mnist#benchmark>`_ lists a
# human accuracy of 0.835: crowd-sourced workers with no fashion expertise
# labelled 1,000 randomly sampled test images, three labels per image, the
# majority label counting. The LeNet-5 models of the next pages are
# measured against it: the pages that train them print their accuracy on
# the 10,000 test images and check that it is above this yardstick.

# %%
# Pixel values
# ------------
# The pixels are stored as bytes. Networks train better on small numbers, so
# :func:`cnnviz.scale_images` maps them to float32 in [0, 1]; the training and
# layer-output functions of cnnviz do this for you when they get ``uint8``
# images.
raw = x_train[41]
scaled = cnnviz.scale_images(raw)
print(f"image 41: {raw.dtype} from {raw.min()} to {raw.max()}")
print(f"scaled:   {scaled.dtype} from {scaled.min()} to {scaled.max()}")

# sphinx_gallery_thumbnail_number = 1
