"""Time the notebook's way against cnnviz, side by side, in one process.

Run ``nox -s bench`` (quick: training on a fixed 12,800-image subset) or
``nox -s bench -- --full`` (training on all 60,000 images). Every case runs
the baseline and cnnviz in this same process, several times, and prints the
median, the spread (min to max) and the ratio ``baseline / cnnviz``. The
training case validates on the test set after each epoch, as the gallery
does, and times that pass on its own; it also checks that both ways end
with bit-identical weights and history. Its baseline is the notebook's
``fit`` as written (float64 ``x / 255.``, ``np.eye`` labels, one step per
graph call); its cnnviz side is ``cnnviz.train``, which is public
``model.fit`` on float32 arrays with ``steps_per_execution=64``.

``nox -s bench -- --cases attribution`` (not a default case: about 3
minutes) times the five attribution methods on 1,000 test images against
the keras.io way (one image per GradientTape; for occlusion one predict per
occluded image), timed on fewer images (``--baseline-images``) and scaled
per image, and times the randomization check. It uses the cached trained
LeNet-5 when there is one, else an untrained one, and says which.

``nox -s bench -- --cases channels`` (not a default case: a few minutes)
times ``top_patches`` for every channel of conv1, max_pool1, conv2 and
max_pool2 and ``channel_ablation`` of conv2's 16 channels over the 10,000
test images, both paddings, against the straightforward way (one sub-model
and one ``predict`` per layer and channel; one copy of the model with the
filter zeroed and one ``predict`` per channel) and ``maximize_activation`` for
conv2's 16 channels in one batch against one call per channel, and checks
that both give the
same answer. ``--cases memory`` runs the three data-set functions of
``cnnviz.channels`` over the 60,000 training images in a process of their
own, once on the arrays and once on a stream read from the IDX files batch by
batch, and prints each one's peak resident memory.

``nox -s bench -- --cases shifts --repeats 3`` (not a default case: about
15 minutes on 2 cores) times ``shift_accuracy`` on the 10,000 test images
with ``max_shift=6`` (169 shifts), both trained models, against the
straightforward way (for each shift one ``model.predict`` at Keras' default
batch size on ``cnnviz.shift_images``' copy), the two alternating, the
baseline at most 3 times; it checks that both give the same accuracy grid,
up to 3 near-tie images per shift (``SHIFT_TIE_IMAGES``), and probabilities
within 1e-5. It also times ``pixel_paths`` for the four spatial layers (first
call on a model cnnviz has not seen, then warm; the target is under 100 ms),
and ``shift_consistency`` and ``equivariance`` on the test images
(``--shift-images`` and ``--max-shift`` make it smaller).

``nox -s bench -- --accuracy-seeds 0,1,2`` (not part of the default cases:
30 epochs per seed and padding) trains the recipe once per seed and prints
the spread of the test accuracy after 30 epochs.
``nox -s bench -- --padding-seeds 0,1,2,3,4`` (alone) trains the six models of
"Fixing it" (``valid``, ``same``, ``reflect``, ``circular``; ``valid`` and
``same`` with blur pooling) once per seed with the recipe, each in its own
process (``--padding-jobs`` at a time), into the cnnviz cache
(``--cache-dir``), and prints each test accuracy and a table of mean ± sd;
``--padding-epochs 10`` gives the page's comparison point.
``nox -s bench -- --padding-shifts 0,1,2,3,4`` (alone) measures the page's
shift claims on those models at epoch 10 (consistency, accuracy over shifts),
prints their mean ± sd over the seeds and each fix against its twin, seed by
seed.
``nox -s bench -- --gallery-training 6`` (also alone) trains the gallery's models
for 6 epochs in their own processes, once one after the other and once side
by side as the docs build runs them (``trainings_at_once()`` at a time), and
checks that the weights do not change.

Why a script and not asv or pytest-benchmark: the point is a ratio of two
ways measured under the same conditions (same process, same warm caches,
same machine load), plus a correctness check on the same run. asv times
commits against each other in separate processes, and pytest-benchmark
would tie the benchmark to the test runner, which must never assert times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib

matplotlib.use("Agg")
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import cnnviz

ROOT = Path(__file__).resolve().parent.parent
# The notebook's two models, which the gallery trains for 30 epochs and these cases time; the
# padding variants of cnnviz.PADDINGS are not the notebook's.
NOTEBOOK_PADDINGS = ("valid", "same")
ROWS: list[dict] = []


def seconds(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def record(case: str, baseline: list[float], ours: list[float], note: str = "") -> None:
    row = {
        "case": case,
        "baseline_median": statistics.median(baseline),
        "baseline_min": min(baseline),
        "baseline_max": max(baseline),
        "cnnviz_median": statistics.median(ours),
        "cnnviz_min": min(ours),
        "cnnviz_max": max(ours),
        "ratio": statistics.median(baseline) / statistics.median(ours),
        "repeats": (len(baseline), len(ours)),
        "note": note,
    }
    ROWS.append(row)
    print(format_row(row), flush=True)


def fmt(value: float) -> str:
    if value >= 1:
        return f"{value:7.2f} s "
    if value >= 1e-3:
        return f"{value * 1e3:7.2f} ms"
    return f"{value * 1e6:7.1f} us"


def format_row(row: dict) -> str:
    def cell(prefix: str) -> str:
        return (
            f"{fmt(row[prefix + '_median'])} [{fmt(row[prefix + '_min']).strip()}"
            f" .. {fmt(row[prefix + '_max']).strip()}]"
        )

    return (
        f"{row['case']:<48} {cell('baseline'):<36} {cell('cnnviz'):<36} "
        f"{row['ratio']:7.1f}x  {row['note']}"
    )


def header(baseline: str = "notebook way", ours: str = "cnnviz") -> None:
    print(
        f"{'case':<48} {baseline + ': median [min .. max]':<36} "
        f"{ours + ': median [min .. max]':<36} {'ratio':>8}"
    )
    print("-" * 134)


# --- training --------------------------------------------------------------------------------


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch's training and of its validation pass, apart.

    The first epoch includes building the training graph.
    """

    def on_train_begin(self, logs=None):
        self.times: list[float] = []
        self.validation_times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._validation = 0.0

    def on_test_begin(self, logs=None):
        self._test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        self._validation = time.perf_counter() - self._test_start
        self.validation_times.append(self._validation)

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start - self._validation)


def notebook_fit(padding: str, x, y, validation, epochs: int, seed: int):
    """The notebook as written: float64 x / 255., np.eye one-hot, plain compile and fit."""
    keras.utils.set_random_seed(seed)
    model = cnnviz.lenet5(padding)
    x_float = x / 255.0
    y_hot = np.eye(10)[y]
    validation = (validation[0] / 255.0, np.eye(10)[validation[1]])
    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    timer = EpochTimer()
    history = model.fit(
        x_float,
        y_hot,
        batch_size=64,
        epochs=epochs,
        validation_data=validation,
        verbose=0,
        callbacks=[timer],
    )
    return model, timer, history.history


def cnnviz_fit(padding: str, x, y, validation, epochs: int, seed: int):
    """cnnviz.train: public model.fit on float32 arrays, steps_per_execution=64."""
    keras.utils.set_random_seed(seed)
    model = cnnviz.lenet5(padding)
    timer = EpochTimer()
    history = cnnviz.train(
        model,
        x,
        y,
        epochs=epochs,
        seed=seed,
        validation_data=validation,
        verbose=0,
        callbacks=[timer],
    )
    return model, timer, history.history


def bench_training(x, y, validation, epochs: int, label: str) -> list[dict]:
    checks = []
    for padding in NOTEBOOK_PADDINGS:
        base_model, base, base_hist = notebook_fit(padding, x, y, validation, epochs, seed=0)
        our_model, ours, our_hist = cnnviz_fit(padding, x, y, validation, epochs, seed=0)
        identical = all(
            np.array_equal(a, b)
            for a, b in zip(base_model.get_weights(), our_model.get_weights(), strict=True)
        )
        same_history = base_hist == our_hist
        checks.append(
            {
                "padding": padding,
                "identical_weights": identical,
                "identical_history": same_history,
                "baseline_accuracy": base_hist["accuracy"][-1],
                "cnnviz_accuracy": our_hist["accuracy"][-1],
            }
        )
        record(
            f"train: first epoch, {padding} ({label})",
            base.times[:1],
            ours.times[:1],
            "incl. graph build",
        )
        record(
            f"train: one epoch, {padding} ({label})",
            base.times[1:],
            ours.times[1:],
            f"weights {'bit-identical' if identical else 'DIFFER'}",
        )
        record(
            f"validate: {len(validation[0]):,} test images, {padding}",
            base.validation_times[1:],
            ours.validation_times[1:],
            f"history {'bit-identical' if same_history else 'DIFFERS'}",
        )
    return checks


def mean_sd(values: list[float], between: str = " ± ") -> str:
    """The mean, and the sample standard deviation where there are two values or more."""
    text = f"{statistics.mean(values):.4f}"
    if len(values) > 1:
        text += f"{between}{statistics.stdev(values):.4f}"
    return text


def accuracy_spread(x, y, test, seeds: list[int], paddings: list[str]) -> None:
    """Train the recipe (30 epochs) once per seed; print the test accuracy's spread.

    ``cnnviz.train`` gives the notebook's ``fit`` bit for bit (the training
    case checks it), so this is the run-to-run spread of the notebook's recipe.
    """
    for padding in paddings:
        finals = []
        for seed in seeds:
            start = time.perf_counter()
            _, _, history = cnnviz_fit(padding, x, y, test, epochs=30, seed=seed)
            accuracies = history["val_accuracy"]
            finals.append(accuracies[-1])
            best = int(np.argmax(accuracies))
            print(
                f"accuracy {padding} seed {seed}: test accuracy after 30 epochs {finals[-1]:.4f} "
                f"(best {accuracies[best]:.4f} at epoch {best + 1}; "
                f"trained in {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
        print(
            f"accuracy {padding}, {len(seeds)} seeds: mean {mean_sd(finals, ', std ')}, "
            f"min {min(finals):.4f}, max {max(finals):.4f}",
            flush=True,
        )


# --- the padding variants' seed spread -------------------------------------------------------

# The six models of "Fixing it" (examples/what_padding_does/plot_05), by their names in the
# docs build's GALLERY_MODELS (docs/_ext/gallery_hooks.py), which also trains them.
PADDING_VARIANTS = ("valid", "same", "reflect", "circular", "valid-blur", "same-blur")


def cpu_facts() -> str:
    """The CPU's model name and the vector extensions TensorFlow's kernels pick from."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
    found = [flag for flag in wanted if flag in flags] or ["none of " + ", ".join(wanted)]
    # Unset, TensorFlow turns its oneDNN kernels on or off by the CPU's extensions.
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "unset")
    return (
        f"CPU {name}: {', '.join(found)}; TF_ENABLE_ONEDNN_OPTS {onednn}, ONEDNN_MAX_CPU_ISA {isa}; "
        f"{onednn_state()}"
    )


def onednn_state() -> str:
    """Whether TensorFlow, imported with this environment, says its oneDNN kernels are on.

    TensorFlow has no public call for it, but logs "oneDNN custom operations are on"
    when it imports with them on; a fresh process, with that log level, is asked.
    """
    import subprocess

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    found = subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if "oneDNN custom operations are on" in found.stderr:
        return "TensorFlow says its oneDNN kernels are on"
    return "TensorFlow does not say its oneDNN kernels are on (Eigen's kernels run)"


def train_apart(name: str, **settings) -> None:
    """Train gallery model `name` as the docs build does, in a process of its own; exit if it fails.

    `settings` go to the build's ``start_trainer`` (``docs/_ext/gallery_hooks.py``):
    ``epochs``, ``seed``, ``cache_dir``.
    """
    from gallery_hooks import start_trainer  # the callers put docs/_ext on the path

    process = start_trainer(name, **settings)
    output = process.communicate()[0]
    if process.returncode != 0:
        sys.exit(f"training {name} ({settings}) failed:\n{output[-4000:]}")


def padding_seeds(seeds: list[int], epochs: int, jobs: int, cache_dir: str | None) -> None:
    """Train the six models of "Fixing it" once per seed; print each accuracy and the spread.

    Every training is the docs build's (``start_trainer``: ``cnnviz.trained_lenet5``,
    the notebook's recipe, in a process of its own), `jobs` at a time, into
    `cache_dir` (by default the user's cache, so seed 0 at the gallery's 10
    epochs fills the gallery's entries and nothing cached is trained again).
    The table gives the test accuracy after `epochs` epochs: mean and sample
    standard deviation over the seeds, and the range.
    """
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from gallery_hooks import GALLERY_MODELS

    runs = [(name, seed) for seed in seeds for name in PADDING_VARIANTS]
    print(f"padding variants: {len(runs)} trainings of {epochs} epochs, {jobs} at a time")
    start = time.perf_counter()

    def one(run: tuple[str, int]) -> None:
        name, seed = run
        began = time.perf_counter()
        train_apart(name, epochs=epochs, seed=seed, cache_dir=cache_dir)
        print(
            f"padding {name} seed {seed}: trained or loaded in {time.perf_counter() - began:.0f} s",
            flush=True,
        )

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        list(pool.map(one, runs))
    print(f"padding variants: all trained or loaded in {time.perf_counter() - start:.0f} s")
    accuracies = {}
    for name, seed in runs:  # from the cache, one after the other in this process
        settings = {**GALLERY_MODELS[name], "epochs": epochs, "seed": seed}
        _, history = cnnviz.trained_lenet5(**settings, cache_dir=cache_dir, verbose=0)
        accuracies[name, seed] = history["val_accuracy"][-1]
        print(
            f"padding {name} seed {seed}: test accuracy after {epochs} epochs "
            f"{accuracies[name, seed]:.4f}"
        )
    print(f"| model | test accuracy after {epochs} epochs, {len(seeds)} seeds | min | max |")
    print("|---|---|---|---|")
    for name in PADDING_VARIANTS:
        finals = [accuracies[name, seed] for seed in seeds]
        print(f"| {name} | {mean_sd(finals)} | {min(finals):.4f} | {max(finals):.4f} |", flush=True)


def padding_shifts(seeds: list[int], cache_dir: str | None, test) -> None:
    """Measure "Fixing it"'s shift claims on the six models of every seed, at epoch 10.

    The models come from the cache: ``--padding-seeds S --padding-epochs 10`` trains
    them, and an entry of 30 epochs serves too, at its epoch 10 (the same bits); a
    model in neither is trained here. As the page: consistency for ``m`` = 1, 2 and 4
    on the first 1,000 test images, and the accuracy over the 80 shifts of up to 4
    pixels that move the image, on the first 500. Prints the mean and sd over the
    seeds, then each fix against its twin seed by seed: the mean difference, its
    paired t and the smallest difference.
    """
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from gallery_hooks import GALLERY_MODELS

    images, labels = test[0][:1000], test[1][:1000]

    def model_at_ten(name: str, seed: int) -> keras.Model:
        ten = {**GALLERY_MODELS[name], "epochs": 10, "seed": seed}
        thirty = {**ten, "epochs": 30}
        if (
            not cnnviz.cache_path(**ten, cache_dir=cache_dir).exists()
            and cnnviz.cache_path(**thirty, cache_dir=cache_dir).exists()
        ):
            return cnnviz.trained_lenet5(**thirty, epoch=10, cache_dir=cache_dir, verbose=0)[0]
        return cnnviz.trained_lenet5(**ten, cache_dir=cache_dir, verbose=0)[0]

    columns = ("m=1", "m=2", "m=4", "shifts 1-4")
    found: dict[tuple[str, int], list[float]] = {}
    for seed in seeds:
        for name in PADDING_VARIANTS:
            model = model_at_ten(name, seed)
            row = [
                cnnviz.shift_consistency(model, images, max_shift=m)["consistency"]
                for m in (1, 2, 4)
            ]
            grid = cnnviz.shift_accuracy(model, images[:500], labels[:500], max_shift=4)
            offsets = np.abs(grid["shifts"])
            row.append(float(grid["accuracy"][np.maximum.outer(offsets, offsets) > 0].mean()))
            found[name, seed] = row
            print(f"padding shifts {name} seed {seed}: " + ", ".join(f"{v:.3f}" for v in row))
    print(f"| model | {' | '.join(columns)} |  ({len(seeds)} seeds, mean ± sd)")
    print("|---" * (len(columns) + 1) + "|")
    for name in PADDING_VARIANTS:
        cells = [mean_sd([found[name, seed][j] for seed in seeds]) for j in range(len(columns))]
        print(f"| {name} | {' | '.join(cells)} |")
    for fix, twin in (
        ("valid-blur", "valid"),
        ("same-blur", "same"),
        ("reflect", "same"),
        ("circular", "same"),
    ):
        cells = []
        for j, column in enumerate(columns):
            diff = [found[fix, seed][j] - found[twin, seed][j] for seed in seeds]
            t = (
                statistics.mean(diff) / (statistics.stdev(diff) / len(diff) ** 0.5)
                if len(diff) > 1 and statistics.stdev(diff) > 0
                else float("nan")
            )
            cells.append(f"{column} {statistics.mean(diff):+.3f} (t {t:.1f}, min {min(diff):+.3f})")
        print(f"{fix} - {twin}: " + "; ".join(cells))


# --- the docs build's training ----------------------------------------------------------------


def weights_sha256(model: keras.Model) -> str:
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def gallery_training(epochs: int, repeats: int) -> bool:
    """Time the docs build's training of its models: one after the other, or side by side.

    The docs build trains the models of ``GALLERY_MODELS`` side by side, one
    process each, ``trainings_at_once()`` at a time (``docs/_ext/gallery_hooks.py``),
    here every one for `epochs` epochs. Each repeat runs both ways, into fresh
    cache directories, and times from the start of the first process to the
    end of the last. The weights of every run are compared: they must not
    depend on what ran beside them.
    """
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from gallery_hooks import GALLERY_MODELS, trainings_at_once

    at_once = trainings_at_once()
    print(
        "docs-build training: one process after the other against side by side, "
        f"{at_once} at a time as the build runs them"
    )
    header("one after the other", f"{at_once} side by side")
    times: dict[bool, list[float]] = {False: [], True: []}
    digests: set[tuple[str, ...]] = set()
    for _ in range(repeats):
        for together in (False, True):
            with tempfile.TemporaryDirectory() as cache:
                start = time.perf_counter()
                if together:  # as the build: when a slot frees, the next model starts

                    def train(name: str, cache: str = cache) -> None:
                        train_apart(name, epochs=epochs, cache_dir=cache)

                    with ThreadPoolExecutor(at_once) as pool:
                        list(pool.map(train, GALLERY_MODELS))
                else:
                    for name in GALLERY_MODELS:
                        train_apart(name, epochs=epochs, cache_dir=cache)
                times[together].append(time.perf_counter() - start)
                digests.add(
                    tuple(
                        weights_sha256(
                            cnnviz.trained_lenet5(
                                **{**settings, "epochs": epochs}, cache_dir=cache
                            )[0]
                        )
                        for settings in GALLERY_MODELS.values()
                    )
                )
    identical = len(digests) == 1
    record(
        f"docs-build training: {' + '.join(GALLERY_MODELS)}, {epochs} epoch(s)",
        times[False],
        times[True],
        f"weights {'bit-identical' if identical else 'DIFFER'}",
    )
    return identical


# --- activations -----------------------------------------------------------------------------


def notebook_layer_outputs(model: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    """The notebook's way: one sub-model and one predict per layer."""
    outputs = {}
    for layer in model.layers[1:]:
        sub_model = keras.Model(inputs=model.inputs, outputs=layer.output)
        outputs[layer.name] = sub_model.predict(images, verbose=0)
    return outputs


def bench_activations(x: np.ndarray, repeats: int) -> None:
    for padding in NOTEBOOK_PADDINGS:
        model = cnnviz.lenet5(padding)
        for n in (1, 256):
            images = cnnviz.scale_images(x[41 : 41 + n])
            start = time.perf_counter()
            first = cnnviz.layer_outputs(model, images)
            first_call = time.perf_counter() - start
            expected = notebook_layer_outputs(model, images)
            for name, value in expected.items():
                np.testing.assert_allclose(first[name], value, rtol=1e-5, atol=1e-6)
            base = seconds(lambda m=model, i=images: notebook_layer_outputs(m, i), repeats)
            ours = seconds(lambda m=model, i=images: cnnviz.layer_outputs(m, i), repeats * 10)
            record(
                f"all layer outputs, {n} image{'s' if n > 1 else ''}, {padding}",
                base,
                ours,
                f"warm; first call {fmt(first_call).strip()}",
            )


# --- plotting --------------------------------------------------------------------------------


def notebook_visualize_layer_output(output: np.ndarray) -> None:
    """The notebook's visualize_layer_output: pyplot state machine, one subplot per channel."""
    channels = output.shape[-1]
    rows = int(np.ceil(channels / 4))
    plt.figure(figsize=(8, 2 * rows))
    for i in range(channels):
        plt.subplot(rows, 4, i + 1)
        plt.imshow(output[0, :, :, i], cmap="gray")
        plt.title(f"Channel: {i}")
        plt.axis("off")
    plt.tight_layout()


def render_and_close(fig) -> None:
    fig.canvas.draw()
    plt.close(fig)


def bench_plotting(x: np.ndarray, repeats: int) -> None:
    model = cnnviz.lenet5("valid")
    outputs = cnnviz.layer_outputs(
        model, x[41], layers=["conv1", "max_pool1", "conv2", "max_pool2"]
    )

    def baseline(output: np.ndarray) -> None:
        notebook_visualize_layer_output(output)
        render_and_close(plt.gcf())

    for name, output in outputs.items():
        base = seconds(lambda o=output: baseline(o), repeats)
        ours = seconds(lambda o=output: render_and_close(cnnviz.plot_feature_maps(o)), repeats)
        record(f"plot_feature_maps {name} {output.shape[1:]}", base, ours, "drawn to Agg")


# --- data ------------------------------------------------------------------------------------


def keras_style_load(source) -> tuple:
    """What Keras' ``fashion_mnist.load_data`` does with the four files, without its download.

    Decompress and parse, no checksums, no channel axis. (Calling Keras' own function
    offline would mean patching its private ``keras.src`` module.)
    """
    import gzip

    def read(name: str, offset: int) -> np.ndarray:
        with gzip.open(source / name, "rb") as stream:
            return np.frombuffer(stream.read(), np.uint8, offset=offset)

    x_train = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y_train = read("train-labels-idx1-ubyte.gz", 8)
    x_test = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y_test = read("t10k-labels-idx1-ubyte.gz", 8)
    return (x_train, y_train), (x_test, y_test)


# A first load in a process of its own: cnnviz keeps what it parsed for the rest of a process.
_COLD_LOAD = """
import sys, time
import cnnviz
start = time.perf_counter()
cnnviz.load_fashion_mnist(sys.argv[1])
print(time.perf_counter() - start)
"""


def bench_data(repeats: int) -> None:
    import subprocess

    source = cnnviz.find_fashion_mnist()
    base = seconds(lambda: keras_style_load(source), repeats)
    cold = [
        float(
            subprocess.run(
                [sys.executable, "-c", _COLD_LOAD, str(source)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            ).stdout.split()[-1]
        )
        for _ in range(repeats)
    ]
    record("load_fashion_mnist, cold (a new process)", base, cold, "verifies SHA-256")
    record(
        "load_fashion_mnist, warm (same process)",
        base,
        seconds(lambda: cnnviz.load_fashion_mnist(source), repeats),
        "parsed once",
    )


# --- attribution -----------------------------------------------------------------------------


def keras_io_gradients(model: keras.Model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """keras.io's saliency way: one image, one GradientTape."""
    maps = []
    for image, label in zip(x, target, strict=True):
        batch = tf.convert_to_tensor(image[np.newaxis])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            score = model(batch, training=False)[:, label]
        maps.append(np.abs(tape.gradient(score, batch).numpy()).max(axis=-1)[0])
    return np.stack(maps)


def keras_io_path_gradients(model, x, target, make_path) -> np.ndarray:
    """keras.io's integrated-gradients way: per image, one tape over that image's path batch."""
    maps = []
    for image, label in zip(x, target, strict=True):
        batch = tf.convert_to_tensor(make_path(image))
        with tf.GradientTape() as tape:
            tape.watch(batch)
            score = model(batch, training=False)[:, label]
        maps.append(tape.gradient(score, batch).numpy().mean(axis=0))
    return np.stack(maps)


def keras_io_grad_cam(model: keras.Model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """keras.io's Grad-CAM way: a sub-model of the given model, one image and one tape at a time."""
    # keras.io's make_gradcam_heatmap builds this sub-model on every call; built once here.
    grad_model = keras.Model(model.inputs[0], [model.get_layer("relu2").output, model.output])
    maps = []
    for image, label in zip(x, target, strict=True):
        with tf.GradientTape() as tape:
            feature, preds = grad_model(image[np.newaxis], training=False)
            score = preds[:, label]
        weights = tf.reduce_mean(tape.gradient(score, feature), axis=(0, 1, 2))
        maps.append(tf.nn.relu(feature[0] @ weights[..., tf.newaxis])[..., 0].numpy())
    return np.stack(maps)


def keras_io_occlusion(model, x, target, window: int = 4, stride: int = 2) -> np.ndarray:
    """The tutorials' occlusion: one predict call per occluded image."""
    size = x.shape[1]
    maps = np.zeros(x.shape[:3], np.float32)
    for n, (image, label) in enumerate(zip(x, target, strict=True)):
        before = model.predict(image[np.newaxis], verbose=0)[0, label]
        for top in range(0, size - window + 1, stride):
            for left in range(0, size - window + 1, stride):
                hidden = image.copy()
                hidden[top : top + window, left : left + window] = 0
                after = model.predict(hidden[np.newaxis], verbose=0)[0, label]
                maps[n, top : top + window, left : left + window] += before - after
    return maps


def bench_attribution(x: np.ndarray, n: int, baseline_n: int, repeats: int) -> None:
    path = cnnviz.cache_path("valid")
    if path.exists():
        model, kind = cnnviz.trained_lenet5("valid")[0], "trained lenet5 (valid) from the cache"
    else:
        model, kind = cnnviz.lenet5("valid"), "UNTRAINED lenet5 (valid): no cached model"
    print(f"attribution: {kind}; cnnviz on {n} images, the keras.io way timed per image")
    images = cnnviz.scale_images(x[:n])
    target = cnnviz.predict(model, images).argmax(axis=1)
    rng = np.random.default_rng(0)

    def noisy(image):
        sigma = 0.15 * (image.max() - image.min())
        return image + rng.standard_normal((50, *image.shape), dtype=np.float32) * sigma

    def path(image):
        return (np.arange(64, dtype=np.float32)[:, None, None, None] + 0.5) / 64 * image

    # Occlusion's baseline makes 170 predict calls per image, so it gets fewer images.
    cases = [
        ("gradients", cnnviz.gradients, keras_io_gradients, baseline_n),
        (
            "smoothgrad",
            cnnviz.smoothgrad,
            lambda m, i, t: keras_io_path_gradients(m, i, t, noisy),
            baseline_n,
        ),
        (
            "integrated_gradients",
            cnnviz.integrated_gradients,
            lambda m, i, t: keras_io_path_gradients(m, i, t, path),
            baseline_n,
        ),
        ("grad_cam", cnnviz.grad_cam, keras_io_grad_cam, baseline_n),
        ("occlusion", cnnviz.occlusion, keras_io_occlusion, max(1, baseline_n // 25)),
    ]
    for name, ours_fn, base_fn, k in cases:
        ours_fn(model, images[:8], target[:8])  # warm: builds the flat graph
        base_fn(model, images[:1], target[:1])
        base = seconds(lambda f=base_fn, k=k: f(model, images[:k], target[:k]), repeats)
        # Per-image time of the baseline, scaled to the same number of images.
        base = [t * n / k for t in base]
        ours = seconds(lambda f=ours_fn: f(model, images, target), repeats)
        record(
            f"{name}, {n} images",
            base,
            ours,
            f"baseline timed on {k} images, scaled to {n}",
        )
    for method in ("gradients", "grad_cam"):
        times = seconds(
            lambda m=method: cnnviz.randomization_check(model, images[:100], m), repeats
        )
        print(
            f"randomization_check {method}, 100 images, 5 layers: median {fmt(statistics.median(times)).strip()} "
            f"[{fmt(min(times)).strip()} .. {fmt(max(times)).strip()}]",
            flush=True,
        )


# --- channels --------------------------------------------------------------------------------

CHANNEL_LAYERS = ("conv1", "max_pool1", "conv2", "max_pool2")


def benchmark_model(padding: str) -> tuple[keras.Model, str]:
    """The cached trained LeNet-5 when there is one, else an untrained one (and say which)."""
    if cnnviz.cache_path(padding).exists():
        return cnnviz.trained_lenet5(padding)[0], f"trained lenet5 ({padding}) from the cache"
    return cnnviz.lenet5(padding), f"UNTRAINED lenet5 ({padding}): no cached model"


def straightforward_top_patches(model, x, layer: str, k: int = 9) -> np.ndarray:
    """One sub-model and one predict per channel; each image's maximum, the k largest."""
    output = model.get_layer(layer).output
    indices = []
    for channel in range(output.shape[-1]):
        sub_model = keras.Model(model.inputs, output[..., channel])
        maps = sub_model.predict(x, batch_size=512, verbose=0)
        best = maps.reshape(len(x), -1).max(axis=1)
        indices.append(np.argsort(-best, kind="stable")[:k])
    return np.stack(indices)


def straightforward_ablation(model, x, y, layer: str) -> np.ndarray:
    """One copy of the model per channel, the channel's filter and bias zeroed, one predict each."""
    accuracies = []
    for channel in range(model.get_layer(layer).output.shape[-1]):
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        kernel, bias = copy.get_layer(layer).get_weights()
        kernel[..., channel], bias[channel] = 0, 0  # followed by a ReLU: the channel is off
        copy.get_layer(layer).set_weights([kernel, bias])
        predicted = copy.predict(x, batch_size=512, verbose=0).argmax(axis=1)
        accuracies.append(np.mean(predicted == y))
    return np.array(accuracies)


def bench_channels(test: tuple[np.ndarray, np.ndarray], n: int, repeats: int) -> None:
    x, y = cnnviz.scale_images(test[0][:n]), test[1][:n]
    baseline_repeats = max(1, repeats // 2)
    for padding in NOTEBOOK_PADDINGS:
        model, kind = benchmark_model(padding)
        print(
            f"channels: {kind}; {n:,} test images; the left column is the straightforward way "
            "(one sub-model and one predict per layer and channel)",
            flush=True,
        )

        def ours(model=model):
            return [cnnviz.top_patches(model, x, layer) for layer in CHANNEL_LAYERS]

        def base(model=model):
            return [straightforward_top_patches(model, x, layer) for layer in CHANNEL_LAYERS]

        same = all(
            np.array_equal(a["index"], b) for a, b in zip(ours(), base(), strict=True)
        )  # also warms both
        record(
            f"top_patches, 4 layers, 44 channels, {padding}",
            seconds(base, baseline_repeats),
            seconds(ours, repeats),
            f"top-9 indices {'identical' if same else 'DIFFER'}",
        )
        result = cnnviz.channel_ablation(model, x, y, "conv2")
        expected = straightforward_ablation(model, x, y, "conv2")
        same = np.array_equal(result["accuracy"], expected)
        record(
            f"channel_ablation conv2, 16 channels, {padding}",
            seconds(lambda m=model: straightforward_ablation(m, x, y, "conv2"), baseline_repeats),
            seconds(lambda m=model: cnnviz.channel_ablation(m, x, y, "conv2"), repeats),
            f"accuracies {'identical' if same else 'DIFFER'}",
        )
        # Every channel of conv2 at its centre unit: one call per channel against one batch.
        centre = tuple((size - 1) // 2 for size in model.get_layer("conv2").output.shape[1:3])

        def one_by_one(m=model, centre=centre):
            return np.stack(
                [cnnviz.maximize_activation(m, "conv2", c, position=centre) for c in range(16)]
            )

        def batched(m=model, centre=centre):
            return cnnviz.maximize_activation(m, "conv2", list(range(16)), position=centre)

        gap = float(np.abs(one_by_one() - batched()).max())  # also warms both
        record(
            f"maximize_activation conv2, 16 channels, 256 steps, {padding}",
            seconds(one_by_one, baseline_repeats),
            seconds(batched, repeats),
            f"images agree to {gap:.1e}",
        )


# --- shifts ----------------------------------------------------------------------------------


def straightforward_shift_accuracy(model, x, y, max_shift: int) -> dict[str, np.ndarray]:
    """One ``predict`` per shift (Keras' default batch size) on ``cnnviz.shift_images``' copy."""
    side = 2 * max_shift + 1
    right = np.zeros((side, side), dtype=np.int64)
    probability = np.zeros((side, side))
    rows = np.arange(len(y))
    for i, dy in enumerate(range(-max_shift, max_shift + 1)):
        for j, dx in enumerate(range(-max_shift, max_shift + 1)):
            p = model.predict(cnnviz.shift_images(x, dy, dx), verbose=0)
            right[i, j] = np.sum(p.argmax(axis=1) == y)
            probability[i, j] = np.mean(p[rows, y], dtype=np.float64)
    return {"right": right, "probability": probability}


def summary(times: list[float]) -> str:
    return (
        f"median {fmt(statistics.median(times)).strip()} "
        f"[{fmt(min(times)).strip()} .. {fmt(max(times)).strip()}]"
    )


#: Near ties: the two ways run different batch shapes, whose sums round differently, so an
#: image whose two best classes are within a rounding error may change class. Allowed per shift.
SHIFT_TIE_IMAGES = 3


def bench_shifts(test: tuple[np.ndarray, np.ndarray], n: int, max_shift: int, repeats: int) -> bool:
    """shift_accuracy against one predict per shift; pixel_paths; consistency and equivariance.

    Baseline and cnnviz repeats alternate (the baseline at most 3 times: 169 predicts
    of 10,000 images take over a minute), so both see the same machine load. The
    correctness check compares the last repeat of each.
    """
    x_uint8, y = test[0][:n], test[1][:n]
    x = cnnviz.scale_images(x_uint8)  # scaled once, outside the timing
    shifts = (2 * max_shift + 1) ** 2
    baseline_repeats = min(repeats, 3)
    ok = True
    for padding in NOTEBOOK_PADDINGS:
        model, kind = benchmark_model(padding)
        print(
            f"shifts: {kind}; {n:,} test images, max_shift={max_shift} ({shifts} shifts); the "
            "left column is one model.predict per shift (batch size 32) on shift_images' copy",
            flush=True,
        )
        # Warm both ways: Keras' predict function and cnnviz's compiled step.
        straightforward_shift_accuracy(model, x[:64], y[:64], 1)
        cnnviz.shift_accuracy(model, x_uint8[:64], y[:64], max_shift=1)
        base_times, our_times = [], []
        for r in range(repeats):
            if r < baseline_repeats:
                start = time.perf_counter()
                expected = straightforward_shift_accuracy(model, x, y, max_shift)
                base_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = cnnviz.shift_accuracy(model, x_uint8, y, max_shift=max_shift)
            our_times.append(time.perf_counter() - start)
        right = np.rint(result["accuracy"] * result["count"]).astype(np.int64)
        images_apart = np.abs(right - expected["right"])
        gap = float(np.abs(result["probability"] - expected["probability"]).max())
        same = images_apart.max() <= SHIFT_TIE_IMAGES and gap <= 1e-5
        ok &= bool(same)
        record(
            f"shift_accuracy, {n:,} images, {shifts} shifts, {padding}",
            base_times,
            our_times,
            f"{'agree' if same else 'DIFFER'}: accuracy <= {images_apart.max()} image(s) apart "
            f"on {np.count_nonzero(images_apart)} shift(s) (tolerance {SHIFT_TIE_IMAGES}), "
            f"probability {gap:.1e} (tolerance 1e-5)",
        )

        for layer in CHANNEL_LAYERS:
            start = time.perf_counter()
            cnnviz.pixel_paths(cnnviz.lenet5(padding), layer)  # a model cnnviz has not seen
            first = time.perf_counter() - start
            times = seconds(lambda m=model, layer=layer: cnnviz.pixel_paths(m, layer), 10 * repeats)
            print(
                f"  pixel_paths {layer}, {padding}: {summary(times)} over {len(times)} calls; "
                f"first call on a new model {fmt(first).strip()} (target: under 100 ms)",
                flush=True,
            )
        times = seconds(
            lambda m=model: cnnviz.shift_consistency(m, x_uint8, max_shift=max_shift), repeats
        )
        consistency = cnnviz.shift_consistency(model, x_uint8, max_shift=max_shift)
        print(
            f"  shift_consistency, {n:,} images, max_shift={max_shift}, {padding}: "
            f"{summary(times)} (consistency {consistency['consistency']:.4f})",
            flush=True,
        )
        times = seconds(lambda m=model: cnnviz.equivariance(m, x_uint8), repeats)
        measured = cnnviz.equivariance(model, x_uint8)
        similarity = ", ".join(
            f"{name} {value:.4f}"
            for name, value in zip(measured["layers"], measured["similarity"], strict=True)
        )
        print(
            f"  equivariance, {n:,} images, {padding}: {summary(times)} ({similarity})",
            flush=True,
        )
    return ok


# --- comparing representations (issue 25) ---------------------------------------------------


def straightforward_layer_similarity(model_a, model_b, x) -> np.ndarray:
    """Every layer's outputs for all images at once, then cnnviz.cka for every pair of layers."""
    outs_a = cnnviz.layer_outputs(model_a, x)
    outs_b = cnnviz.layer_outputs(model_b, x)
    return np.array([[cnnviz.cka(a, b) for b in outs_b.values()] for a in outs_a.values()])


_PEAK_CKA = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import cnnviz

def peak():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])

n = int(sys.argv[1])
a, b = (cnnviz.trained_lenet5(p, epoch=10, verbose=0)[0] for p in ("valid", "same"))
(x, _), _ = cnnviz.load_fashion_mnist()

def stream(batch=500):
    for start in range(0, n, batch):
        yield x[start : min(start + batch, n)]

cnnviz.layer_similarity(a, b, x[:64])  # warm: the sub-models and the sums' first allocation
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = peak()
start = time.perf_counter()
cnnviz.layer_similarity(a, b, stream())
print(before, peak(), time.perf_counter() - start)
"""


def bench_compare(
    test: tuple[np.ndarray, np.ndarray], n: int, baseline_n: int, repeats: int
) -> None:
    """layer_similarity of every layer of valid and same, against whole activations and cka."""

    a, b = (cnnviz.trained_lenet5(p, epoch=10, verbose=0)[0] for p in NOTEBOOK_PADDINGS)
    x = test[0]
    print(
        "compare: valid against same at epoch 10, all 10 x 10 layers; the left column is the "
        "straightforward way (every layer's outputs for all images, then cka per pair)",
        flush=True,
    )
    small = x[:baseline_n]
    ours = cnnviz.layer_similarity(a, b, small)["cka"]  # also warms
    theirs = straightforward_layer_similarity(a, b, small)
    gap = float(np.abs(ours - theirs).max())
    record(
        f"layer_similarity, {baseline_n:,} test images",
        seconds(lambda: straightforward_layer_similarity(a, b, small), repeats),
        seconds(lambda: cnnviz.layer_similarity(a, b, small), repeats),
        f"CKA agrees to {gap:.1e}",
    )
    times = seconds(lambda: cnnviz.layer_similarity(a, b, x[:n]), repeats)
    print(f"  layer_similarity, {n:,} test images: {summary(times)} (target: 20 s)", flush=True)
    print("  peak memory (VmHWM, own process each): a stream of 500-image batches")
    for count in (2_000, 10_000, 60_000):
        print(f"  {count:>6,} images: {peak_run(_PEAK_CKA, str(count))}", flush=True)


_PEAK = """
import gzip, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import cnnviz

def peak():
    # VmHWM: this process's peak resident memory (ru_maxrss would also count the parent's,
    # which Linux carries over fork and exec).
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])

mode, padding, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = cnnviz.trained_lenet5(padding)[0] if cnnviz.cache_path(padding).exists() else cnnviz.lenet5(padding)
source = cnnviz.find_fashion_mnist()

def stream(batch=512):
    # Read the IDX files batch by batch: at no time more than one batch of images in memory.
    with gzip.open(source / "train-images-idx3-ubyte.gz") as images, \\
         gzip.open(source / "train-labels-idx1-ubyte.gz") as labels:
        images.read(16), labels.read(8)
        for start in range(0, n, batch):
            chunk = images.read(min(batch, n - start) * 784)
            x = np.frombuffer(chunk, np.uint8).reshape(-1, 28, 28, 1)
            yield x, np.frombuffer(labels.read(len(x)), np.uint8).astype(np.int64)

# Warm: build every sub-model on a few images, so that the growth below is the data's.
few = next(stream(64))
cnnviz.top_patches(model, [few], "conv2", k=1)
cnnviz.class_mean_activations(model, [few], None, "relu2")
cnnviz.channel_ablation(model, [few], None, "conv2")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # reset VmHWM to the current resident memory
before = peak()
start = time.perf_counter()
if mode == "arrays":
    (x, y), _ = cnnviz.load_fashion_mnist()
    x, y = x[:n], y[:n]
    run = lambda f, *a, **k: f(model, x, *a, **k)
    labelled = lambda f, *a, **k: f(model, x, y, *a, **k)
else:
    run = lambda f, *a, **k: f(model, stream(), *a, **k)
    labelled = lambda f, *a, **k: f(model, stream(), None, *a, **k)
run(cnnviz.top_patches, "conv2")
labelled(cnnviz.class_mean_activations, "relu2")
labelled(cnnviz.channel_ablation, "conv2")
print(before, peak(), time.perf_counter() - start)
"""


def peak_memory(padding: str = "valid") -> None:
    """Peak resident memory of top_patches, class means and ablation over 60,000 images, both ways."""
    print(
        "peak memory (VmHWM, own process each, Linux): top_patches conv2 + class_mean_activations "
        f"relu2 + channel_ablation conv2 over the training images, {padding}"
    )
    for mode, n in (("arrays", 60_000), ("stream", 10_000), ("stream", 60_000)):
        print(f"  {mode:<7} {n:>6,} images: {peak_run(_PEAK, mode, padding, str(n))}", flush=True)


def peak_run(script: str, *arguments: str) -> str:
    """Run a peak-memory script in a process of its own; say its peak and what its pass added.

    The script prints the peak resident memory (kB) after warming, at the end, and the
    pass's seconds.
    """
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    before, after, elapsed = result.stdout.split()[-3:]
    return (
        f"peak {int(after) / 1024:7.1f} MB, the pass added "
        f"{(int(after) - int(before)) / 1024:6.1f} MB over the warmed model(s) "
        f"({int(before) / 1024:.1f} MB); {float(elapsed):.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train on all 60,000 images")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per case (default 5)")
    parser.add_argument(
        "--cases",
        help="comma-separated subset of: training, activations, plotting, data, attribution, "
        "channels, memory, shifts, compare (default: all but attribution, channels, memory, "
        "shifts and compare, "
        "or none with --accuracy-seeds or --gallery-training)",
    )
    parser.add_argument(
        "--attribution-images",
        type=int,
        default=1000,
        help="test images per attribution method (default 1000)",
    )
    parser.add_argument(
        "--baseline-images",
        type=int,
        default=50,
        help="images the keras.io way is timed on, scaled per image (default 50; occlusion 1/25)",
    )
    parser.add_argument(
        "--channel-images",
        type=int,
        default=10_000,
        help="test images for the channels case (default 10000)",
    )
    parser.add_argument(
        "--shift-images",
        type=int,
        default=10_000,
        help="test images for the shifts case (default 10000)",
    )
    parser.add_argument(
        "--max-shift",
        type=int,
        default=6,
        help="the shifts case's max_shift: (2m + 1)^2 shifts (default 6: 169)",
    )
    parser.add_argument(
        "--accuracy-seeds",
        help="comma-separated seeds: train 30 epochs per seed and padding, print the accuracies",
    )
    parser.add_argument(
        "--accuracy-paddings",
        default=",".join(NOTEBOOK_PADDINGS),
        help="paddings for --accuracy-seeds (default: valid,same)",
    )
    parser.add_argument(
        "--gallery-training",
        type=int,
        metavar="EPOCHS",
        help="train both models for EPOCHS epochs in their own processes, one after the other "
        "and side by side (as the docs build does); runs alone",
    )
    parser.add_argument(
        "--padding-seeds",
        help="comma-separated seeds: train the six models of 'Fixing it' (four paddings, two "
        "with blur pooling) once per seed and print the accuracy table; runs alone",
    )
    parser.add_argument(
        "--padding-shifts",
        help="comma-separated seeds: measure the shift claims of 'Fixing it' (consistency, "
        "accuracy over shifts) on the six models of each seed at epoch 10; runs alone",
    )
    parser.add_argument(
        "--padding-epochs",
        type=int,
        default=30,
        help="epochs for --padding-seeds (default 30, the recipe's)",
    )
    parser.add_argument(
        "--padding-jobs",
        type=int,
        default=1,
        help="trainings side by side for --padding-seeds, one process each (default 1)",
    )
    parser.add_argument(
        "--cache-dir",
        help="cnnviz cache for --padding-seeds and --padding-shifts (default: the user's, "
        "as trained_lenet5's)",
    )
    parser.add_argument(
        "--compare-images",
        type=int,
        default=10_000,
        help="test images for the compare case's layer_similarity (default 10000)",
    )
    parser.add_argument(
        "--compare-baseline-images",
        type=int,
        default=1000,
        help="test images both ways are timed on in the compare case (default 1000)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.cases is None:
        alone = (
            args.accuracy_seeds
            or args.gallery_training
            or args.padding_seeds
            or args.padding_shifts
        )
        args.cases = "" if alone else "training,activations,plotting,data"
    cases = set(args.cases.split(",")) - {""}

    print(
        f"cnnviz {cnnviz.__version__}, Keras {keras.__version__}, TensorFlow {tf.__version__}, "
        f"NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(cpu_facts())
    (x_train, y_train), test = cnnviz.load_fashion_mnist()
    if cases:
        header()
    checks = []
    if "training" in cases:
        n = len(x_train) if args.full else 12_800
        label = "60,000 images" if args.full else "12,800-image subset"
        # Epochs: one to build the graph, then `repeats` timed ones.
        checks = bench_training(x_train[:n], y_train[:n], test, args.repeats + 1, label)
    if "activations" in cases:
        bench_activations(x_train, args.repeats)
    if "plotting" in cases:
        bench_plotting(x_train, args.repeats)
    if "data" in cases:
        bench_data(args.repeats)
    if "attribution" in cases:
        bench_attribution(test[0], args.attribution_images, args.baseline_images, args.repeats)
    if "channels" in cases:
        bench_channels(test, args.channel_images, args.repeats)
    if "memory" in cases:
        peak_memory()
    if "compare" in cases:
        bench_compare(test, args.compare_images, args.compare_baseline_images, args.repeats)
    ok = True
    if "shifts" in cases:
        ok &= bench_shifts(test, args.shift_images, args.max_shift, args.repeats)
    if args.accuracy_seeds:
        seeds = [int(seed) for seed in args.accuracy_seeds.split(",")]
        paddings = args.accuracy_paddings.split(",")
        accuracy_spread(x_train, y_train, test, seeds, paddings)
    if args.padding_seeds:
        seeds = [int(seed) for seed in args.padding_seeds.split(",")]
        padding_seeds(seeds, args.padding_epochs, args.padding_jobs, args.cache_dir)
    if args.padding_shifts:
        seeds = [int(seed) for seed in args.padding_shifts.split(",")]
        padding_shifts(seeds, args.cache_dir, test)
    if args.gallery_training:  # last: it prints a header of its own
        ok &= gallery_training(args.gallery_training, args.repeats)

    for check in checks:
        same = check["identical_weights"] and check["identical_history"]
        ok &= same
        print(
            f"check {check['padding']}: weights and history after the same epochs "
            f"{'bit-identical' if same else 'DIFFER'} (train accuracy notebook "
            f"{check['baseline_accuracy']:.4f}, cnnviz {check['cnnviz_accuracy']:.4f})"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": ROWS, "checks": checks}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
