"""Hooks of the gallery build: models trained up front, and a clean Keras session per example.

``train_gallery_models`` runs once before sphinx-gallery (see ``setup`` in
conf.py); ``clear_keras_session`` runs before every example (``reset_modules``).
Run as a script (``python gallery_hooks.py NAME``, a name of
:data:`GALLERY_MODELS`), this file is one of the training processes that
``train_gallery_models`` starts; the benchmark starts them too (``nox -s
bench -- --gallery-training 6``).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import threading
import time

# The models the examples load, by name: the arguments of cnnviz.trained_lenet5 that give each.
GALLERY_MODELS: dict[str, dict] = {
    "valid": {"padding": "valid"},
    "same": {"padding": "same"},
    # The data randomization page (explaining_predictions/plot_04): LeNet-5 trained on
    # permuted labels, compared with the valid model at the same epoch, 10.
    "valid-permuted": {"padding": "valid", "labels": "permuted", "epochs": 10},
    # "Fixing it" (what_padding_does/plot_05): the padding variants and blur pooling, compared
    # with the seed's two models at the same epoch, 10 (which the seed models' entries keep).
    "reflect": {"padding": "reflect", "epochs": 10},
    "circular": {"padding": "circular", "epochs": 10},
    "valid-blur": {"padding": "valid", "pooling": "blur", "epochs": 10},
    "same-blur": {"padding": "same", "pooling": "blur", "epochs": 10},
    # "Do valid and same learn the same thing?" (inside_the_network/plot_06): the baseline
    # of two trainings that differ only in their seed, at the epoch the cache keeps of valid.
    "valid-seed1": {"padding": "valid", "seed": 1, "epochs": 10},
}
# TensorFlow's oneDNN kernels, asked for unless the caller chose (docs/conf.py asks the same
# of the examples' processes). TensorFlow turns them on by itself only on CPUs with AVX-512
# VNNI or BF16, AVX-VNNI or AMX, and runs Eigen's kernels elsewhere: where it turns them on,
# asking changes nothing, not a bit of a trained model; capped at AVX2 (as on CPUs without
# AVX-512), oneDNN trained LeNet-5 2x (valid) to 4x (same) faster than Eigen's kernels here
# (docs/performance.rst, "Speed and reproducibility").
KERNELS = {"TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1")}

# The models of the site's explorer (explorer_page.py): the two paddings of the notebook,
# shown first, and the padding section's fixes, loaded when a reader shows them.
EXPLORER_MODELS = ("valid", "same", "reflect", "circular", "valid-blur", "same-blur")


def start_trainer(
    name: str, *, epochs: int | None = None, seed: int | None = None, cache_dir=None
) -> subprocess.Popen:
    """Start a process that trains the gallery model `name` into the cache.

    Its standard output (Keras' per-epoch lines) is a text pipe. `epochs`
    (by default the model's in :data:`GALLERY_MODELS`, else
    ``trained_lenet5``'s), `seed` and `cache_dir` (``trained_lenet5``'s)
    may be set for every model alike, as the benchmark does.
    """
    command = [sys.executable, __file__, name]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    if seed is not None:
        command += ["--seed", str(seed)]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **KERNELS, "PYTHONUNBUFFERED": "1"},  # progress as it comes
    )


def trainings_at_once() -> int:
    """How many gallery trainings run side by side: one per core, and at least two."""
    return max(2, os.cpu_count() or 1)


def train_gallery_models(app) -> None:
    """Train the gallery's models that are not cached yet, in parallel processes.

    The examples run one after another and each would train its model when
    it first calls :func:`cnnviz.trained_lenet5`. The small convolutions of
    LeNet-5 leave the two cores partly idle, so two trainings side by side
    can finish sooner than one after the other (``nox -s bench --
    --gallery-training 6`` times both ways); more than one per core only
    makes them fight for the cores, so at most ``max(2, os.cpu_count())``
    run at once, the others waiting for a free slot. Each process has TensorFlow's
    default threads, as a reader's own process has, so the weights are the
    ones ``trained_lenet5`` computes anywhere else on this machine, bit for
    bit: the cache entry is theirs. The examples then load the models from
    the cache. The log gives each model's time, from the start of its own
    process to its end, when it started, and the time of the whole.
    """
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    import cnnviz

    logger = logging.getLogger(__name__)
    missing = [
        name
        for name, settings in GALLERY_MODELS.items()
        if not cnnviz.cache_path(**settings).is_dir()
    ]
    if not missing:
        return
    at_once = trainings_at_once()
    logger.info(
        "training %s for the gallery, %d at a time (cached afterwards)",
        ", ".join(missing),
        at_once,
    )
    start = time.monotonic()
    slots = threading.Semaphore(at_once)
    outputs: dict[str, list[str]] = {name: [] for name in missing}
    codes: dict[str, int] = {}

    def relay(name: str) -> None:
        with slots:
            began = time.monotonic()
            process = start_trainer(name)
            for line in process.stdout:
                outputs[name].append(line)
                if line.startswith("Epoch ") or " loss: " in line:  # per epoch, not TF's chatter
                    logger.info("[%s] %s", name, line.rstrip())
            codes[name] = process.wait()
        logger.info(
            "[%s] trained in %.0f s (started %.0f s after the first)",
            name,
            time.monotonic() - began,
            began - start,
        )

    readers = [threading.Thread(target=relay, args=(name,)) for name in missing]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    logger.info("trained %s in %.0f s", ", ".join(missing), time.monotonic() - start)
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        details = "\n".join(
            f"--- {name} (exit {code}) ---\n{''.join(outputs[name][-40:])}"
            for name, code in failed.items()
        )
        raise ExtensionError(f"training the gallery's models failed:\n{details}")


def clear_keras_session(gallery_conf, fname, when=None) -> None:
    """Start every example with a fresh Keras session, as a new Python process would.

    Models, layer-name counters and graphs of the previous example are dropped,
    so an example's output does not depend on which examples ran before it.
    Keras is not imported just for this: an example that never used it has
    nothing to clear.
    """
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.backend.clear_session()
    gc.collect()


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train one gallery model into the cache.")
    parser.add_argument("name", choices=tuple(GALLERY_MODELS))
    parser.add_argument("--epochs", type=int, help="default: the model's in GALLERY_MODELS")
    parser.add_argument("--seed", type=int, help="default: trained_lenet5's")
    parser.add_argument("--cache-dir")
    args = parser.parse_args(argv)
    import cnnviz

    settings = dict(GALLERY_MODELS[args.name])
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.seed is not None:
        settings["seed"] = args.seed
    cnnviz.trained_lenet5(cache_dir=args.cache_dir, verbose=2, **settings)


if __name__ == "__main__":
    _main()
