"""
CNN feature maps with same padding: every layer of LeNet-5
==========================================================

The same LeNet-5 as in the previous examples, but with ``same`` padding:
the convolutions pad their input with zeros so that the feature maps keep
the size of the image. This page works out the shapes (28 → 28 → 14 → 14 →
7), trains the model with the notebook's recipe and draws training image 41
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
# ``same`` padding adds zeros around the input, 2 pixels on each side for a
# 5x5 kernel, so that the kernel can be centred on every pixel: a stride-1
# convolution keeps the size. A pooling with stride 2 gives
# ``ceil(size / stride)`` outputs. :func:`cnnviz.output_size` computes both:
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
    print(f"{name:9}  ceil({size:2} / {stride}) = {new:2}")
    # The model agrees:
    assert model.get_layer(name).output.shape[1] == new
    size = new

# %%
# The maps stay larger: 7x7x16 after ``max_pool2`` instead of 4x4x16, so
# ``flatten`` hands 7 x 7 x 16 = 784 numbers to ``fc1`` instead of 256. The
# convolutions have as many weights as before (a kernel's size does not
# depend on the image's), but ``fc1`` needs 784 x 120 + 120 = 94,200 parameters
# instead of 30,840, which is why this model has 107,786 parameters rather
# than 44,426.

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
cnnviz.plot_history(
    history,
    validation_label="test",
    title="LeNet-5 (same padding) on Fashion-MNIST",
)
plt.show()

# %%
# Test accuracy
# -------------
(x_train, y_train), (x_test, y_test) = cnnviz.load_fashion_mnist()
scores = cnnviz.evaluate(model, x_test, y_test)
print(
    f"test accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f}"
)

best = int(np.argmax(history["val_accuracy"]))
accuracy = history["val_accuracy"][best]
print(f"best while training: {accuracy:.4f} (epoch {best + 1})")

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
# The first convolution block: conv1, relu1, max_pool1
# ----------------------------------------------------
# :func:`cnnviz.plot_layer_outputs` computes the requested layers in one
# forward pass and draws one figure per layer. ``conv1`` keeps the 28x28
# size of the image; its outermost 2 pixels were computed with the kernel
# partly over the zero padding. ``relu1`` zeroes the negative values (the
# notebook skipped the ReLUs for this model); ``max_pool1`` halves the maps to 14x14.
cnnviz.plot_layer_outputs(
    model, image, layers=["conv1", "relu1", "max_pool1"]
)
plt.show()

# %%
# The second convolution block: conv2, relu2, max_pool2
# -----------------------------------------------------
# Sixteen filters over the six pooled maps, still 14x14 thanks to the
# padding, then the ReLU and a pooling to 7x7.
cnnviz.plot_layer_outputs(
    model, image, layers=["conv2", "relu2", "max_pool2"]
)
plt.show()

# %%
# The classifier: flatten, fc1, fc2 and the probabilities
# -------------------------------------------------------
# ``flatten`` lines the 7x7x16 maps up into 784 numbers; the dense layers
# ``fc1`` (120 units) and ``fc2`` (84 units) combine them, each strip showing
# one value per unit. The softmax of the output layer ``op`` gives one
# probability per class.
classifier = ["flatten", "fc1", "fc2", "op"]
cnnviz.plot_layer_outputs(model, image, layers=classifier)
plt.show()

outputs = cnnviz.layer_outputs(model, image, layers=["op"])
probabilities = outputs["op"][0]
predicted = int(np.argmax(probabilities))
print(
    f"predicted: {cnnviz.CLASS_NAMES[predicted]}",
    f"({probabilities[predicted]:.3f});",
    f"true class: {cnnviz.CLASS_NAMES[y_train[index]]}",
)

# sphinx_gallery_thumbnail_number = 3
