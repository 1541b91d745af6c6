"""
CNN feature maps with same padding: every layer of LeNet-5
==========================================================

The same LeNet-5 as in the previous examples, but with ``same`` padding:
the convolutions pad their input with zeros so that their feature maps
keep the size of their input (28x28 for ``conv1``, 14x14 for ``conv2``).
This page works out the shapes and the padding (28 → 28 → 14 → 14 → 7),
trains the model with the notebook's recipe and draws training image 41
through every layer, the ReLUs included.
"""

# %%
# The architecture
# ----------------
# :func:`cnnviz.lenet5` with ``padding="same"`` applies the padding to both
# convolutions and both poolings. The layers and their names are those of the
# ``valid`` model; the shapes and the parameter counts are not (Keras'
# ``summary`` lists them; ``None`` stands for the batch axis).
import matplotlib.pyplot as plt
import numpy as np

import cnnviz

model = cnnviz.lenet5("same")
model.summary(line_length=72)

# %%
# The shape arithmetic: 28 → 28 → 14 → 14 → 7
# -------------------------------------------
# With ``same`` padding a layer of stride ``s`` gives ``ceil(n / s)``
# outputs from ``n`` inputs, and TensorFlow pads just enough for that:
# ``max((ceil(n / s) - 1) * s + k - n, 0)`` pixels in all for a window of
# ``k``, the smaller half before (top, left), the larger after (bottom,
# right). For a 5x5 convolution with stride 1 that is 4: 2 on each side, so
# the kernel can be centred on every pixel. For the 2x2 poolings with stride
# 2 on 28 and 14 pixels, both even, it is 0: they pad nothing here.
# :func:`cnnviz.same_padding` computes the rule.
steps = [
    ("conv1", 5, 1),
    ("max_pool1", 2, 2),
    ("conv2", 5, 1),
    ("max_pool2", 2, 2),
]
size = 28
for name, kernel, stride in steps:
    new = cnnviz.output_size(
        size, kernel, stride=stride, padding="same"
    )
    before, after = cnnviz.same_padding(size, kernel, stride)
    print(
        f"{name:9}  ceil({size:2} / {stride}) = {new:2},",
        f"padding {before} before, {after} after",
    )
    # The model agrees:
    assert model.get_layer(name).output.shape[1] == new
    size = new

# %%
# Had a 2x2 pooling with stride 2 met an odd size, say 7, it would give
# ``ceil(7 / 2) = 4`` outputs and pad ``(4 - 1) * 2 + 2 - 7 = 1``: one row
# and one column, both at the bottom and right. A 2x2 window has no centre
# pixel, so there is nothing to centre; and max-pooling ignores padded
# cells rather than counting them as zeros, so the last window keeps the
# largest of its real values.
#
# The maps stay larger: 7x7x16 after ``max_pool2`` instead of 4x4x16, so
# ``flatten`` hands 7 x 7 x 16 = 784 numbers to ``fc1`` instead of 256. The
# convolutions have as many weights as before (a kernel's size does not
# depend on the image's), but ``fc1`` needs 784 x 120 + 120 = 94,200
# parameters instead of 30,840, which is why this model has 107,786
# parameters rather than 44,426.

# %%
# Training with the notebook's recipe
# -----------------------------------
# As for ``valid``, :func:`cnnviz.trained_lenet5` trains once (Adam, learning
# rate 0.001, batches of 64, 30 epochs) and loads the model from its cache
# afterwards. Pass ``verbose=2`` to see one line per epoch while it trains.
model, history = cnnviz.trained_lenet5("same", verbose=0)

# %%
# Loss and accuracy per epoch
# ---------------------------
# As on the ``valid`` page, the test curves are for monitoring only. They
# tell the same story: the training loss keeps falling, and ends lower
# than the ``valid`` model's (it also has more than twice the
# parameters, most of them in ``fc1``); the test loss reaches its lowest
# value well before the last epoch, then rises, while the test accuracy
# stops improving (it moves by a point or so, and ends lower): more
# confident answers, not more right ones. Choosing when
# to stop would again take a validation split held out of the training
# images; the notebook's 30 epochs are kept.
cnnviz.plot_history(
    history,
    validation_label="test (monitoring only)",
    title="LeNet-5 (same padding) on Fashion-MNIST",
)
plt.show()

# %%
# The page checks that story on the history, as the training page does:
loss = np.array(history["loss"])
test_loss = np.array(history["val_loss"])
test_accuracy = np.array(history["val_accuracy"])
last = len(loss) - 1  # indices: epoch = index + 1
low = int(np.argmin(test_loss))
moved = np.abs(test_accuracy[low:] - test_accuracy[low]).max()
for i in (low, last):
    print(
        f"epoch {i + 1}: loss {loss[i]:.4f}, test loss {test_loss[i]:.4f},",
        f"test accuracy {test_accuracy[i]:.4f}",
    )
print(f"test accuracy from epoch {low + 1} on: within {moved:.4f}")
assert low < last - 10, "the test loss is lowest well before the end"
assert test_loss[-1] > 1.25 * test_loss[low], "the test loss rises"
assert loss[-1] < 0.75 * loss[low], "the training loss keeps falling"
assert moved < 0.02, (
    "the test accuracy moves little while the loss rises"
)
assert test_accuracy[-1] < test_accuracy[low], "and ends lower"
valid_loss = cnnviz.trained_lenet5("valid", verbose=0)[1]["loss"][-1]
print(f"training loss after epoch {last + 1}: valid {valid_loss:.4f}")
assert loss[-1] < valid_loss, "training loss lower than valid's"

# %%
# Test accuracy
# -------------
# Measured once, after the 30th epoch, on the 10,000 test images; like the
# ``valid`` model's, it is above the human accuracy of 0.835 (see
# :doc:`../getting_started/plot_01_fashion_mnist`), which the page checks.
(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
scores = cnnviz.evaluate(model, x_test, y_test)
print(
    f"test accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f}"
)
assert scores["accuracy"] > 0.835, "LeNet-5 beats the human accuracy"

# %%
# The image: training image 41, a sneaker
# ---------------------------------------
index = 41
image = x_train[index]
fig = cnnviz.plot_images(
    x_train[index : index + 1], y_train[index : index + 1], ncols=1
)
fig.suptitle(f"Training image {index}")
plt.show()

# %%
# :func:`cnnviz.layer_outputs` computes every layer for this image in one
# forward pass. As on the ``valid`` page, each figure puts a layer on one
# colour scale with one colour bar: convolution outputs red-white-blue with
# white at zero, ReLU and pooling outputs in grey from black at zero.
outputs = cnnviz.layer_outputs(model, image)


def title(name):
    return f"{name} {outputs[name].shape[1:]}"


# %%
# conv1: 28x28, the border computed over padding
# ----------------------------------------------
# ``conv1`` keeps the 28x28 size of the image; its outermost 2 pixels were
# computed with the kernel partly over the zero padding. For this first
# layer the padding's zeros look like more black background: where the
# image is black near the edge (above and below the sneaker) the border
# holds the bias, like the rest of the background; where the sneaker
# reaches the edge, at its toe and heel, the filters respond there.
cnnviz.plot_feature_maps(
    outputs["conv1"],
    ncols=3,
    scale="layer",
    title=title("conv1") + ", one scale, white = 0",
)
plt.show()

# %%
# relu1
# -----
# The negative values set to zero (the notebook did not draw the ReLUs of
# this model; they are drawn here). Grey from 0, one scale.
cnnviz.plot_feature_maps(
    outputs["relu1"],
    ncols=3,
    scale="layer",
    title=title("relu1") + ", one scale from 0",
)
plt.show()

# %%
# max_pool1
# ---------
# Each 2x2 block's largest value: 14x14, with no padding (28 is even).
cnnviz.plot_feature_maps(
    outputs["max_pool1"],
    ncols=3,
    scale="layer",
    title=title("max_pool1") + ", one scale from 0",
)
plt.show()

# %%
# conv2: padding that is not background any more
# ----------------------------------------------
# Sixteen filters over the six pooled maps, still 14x14 thanks to the
# padding. Here the padding's zeros are not always more background:
# after ``conv1`` and its ReLU, the background of a map whose bias is
# positive is that bias, not zero (the biases are printed below; the
# maps of the others are zero there). At the border of such a map
# ``conv2`` sees that level drop to the padding's zeros, a step that is
# not in the image: a false edge.
biases = model.get_layer("conv1").get_weights()[1]
print("conv1 biases:", np.round(biases, 4))
print("positive (a background above zero):", np.flatnonzero(biases > 0))
cnnviz.plot_feature_maps(
    outputs["conv2"],
    scale="layer",
    title=title("conv2") + ", one scale, white = 0",
)
plt.show()

# %%
# relu2
# -----
# The false edge shows here: several maps have faint lit border rows and
# columns along sides where the image is black (the next cell finds which
# channels). Grey from 0, one scale.
cnnviz.plot_feature_maps(
    outputs["relu2"],
    scale="layer",
    title=title("relu2") + ", one scale from 0",
)
plt.show()

# %%
# They come from the padding, not from the sneaker: an all-black image,
# uniform everywhere after ``conv1``, lights border rows and columns in
# several channels, while the inside of each map (2 pixels from the edge
# and more, out of the padding's reach) stays flat. The page finds those
# channels and checks both facts:
black = cnnviz.layer_outputs(model, np.zeros_like(image), ["relu2"])
maps = black["relu2"][0]
edges = [maps[0], maps[-1], maps[:, 0], maps[:, -1]]
border = np.max(edges, axis=(0, 1))
inside = maps[2:-2, 2:-2].max(axis=(0, 1))
lit = np.flatnonzero(border > inside + 0.01)
print("all-black image, relu2 channels lit at the border:", lit)
assert np.ptp(maps[2:-2, 2:-2], axis=(0, 1)).max() < 1e-5, "flat inside"
assert len(lit) >= 3, "several channels light the border"

# %%
# max_pool2
# ---------
# Pooling to 7x7 (14 is even: no padding) carries the lit borders on to
# the classifier. Grey from 0, one scale.
cnnviz.plot_feature_maps(
    outputs["max_pool2"],
    scale="layer",
    title=title("max_pool2") + ", one scale from 0",
)
plt.show()

# %%
# The classifier: fc1, fc2 and the probabilities
# ----------------------------------------------
# ``flatten`` lines the 7x7x16 maps up into 784 numbers, channel fastest
# (position ``(row * 7 + col) * 16 + channel``), so as on the ``valid``
# page it is not drawn: it holds the max_pool2 values above. The dense
# layers ``fc1`` (120 units) and ``fc2`` (84 units) combine them; each
# strip shows one value per unit, grey from 0.
cnnviz.plot_feature_maps(
    outputs["fc1"], scale="layer", title=title("fc1") + ", from 0"
)
plt.show()

# %%
cnnviz.plot_feature_maps(
    outputs["fc2"], scale="layer", title=title("fc2") + ", from 0"
)
plt.show()

# %%
# The softmax of the output layer ``op`` gives one probability per class.
probabilities = outputs["op"][0]
cnnviz.plot_probabilities(probabilities, title=title("op"))
plt.show()

predicted = int(np.argmax(probabilities))
print(
    f"predicted: {cnnviz.CLASS_NAMES[predicted]}",
    f"({probabilities[predicted]:.3f});",
    f"true class: {cnnviz.CLASS_NAMES[y_train[index]]}",
)
assert predicted == y_train[index] == 7, "a sneaker, called a sneaker"
assert probabilities[predicted] > 0.9, "with a probability near 1"

# %%
# This model, too, calls the sneaker a sneaker with a probability near 1
# (the page checks: above 0.9). That is not near-certainty of being right:
# its test loss rose after its lowest value while its test accuracy stayed
# flat, as checked above, the mark of confidence that grew faster than
# accuracy. Such probabilities rank the classes; they are not calibrated
# odds. Whether ``same`` padding gives a more accurate model than
# ``valid``, one run of each cannot tell; the next page compares them.

# sphinx_gallery_thumbnail_number = 4
