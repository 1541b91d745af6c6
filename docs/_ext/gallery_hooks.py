"""Hooks of the gallery build: models trained up front, and a clean Keras session per example.

``train_gallery_models`` runs once before sphinx-gallery (see ``setup`` in
conf.py); ``clear_keras_session`` runs before every example (``reset_modules``).
Run as a script (``python gallery_hooks.py PADDING``), this file is one of
the training processes that ``train_gallery_models`` starts; the benchmark
starts them too (``nox -s bench -- --gallery-training 6``).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import threading
import time

# The models the examples load with cnnviz.trained_lenet5(padding), default settings.
GALLERY_MODELS = ("valid", "same")


def start_trainer(padding: str, *, epochs: int | None = None, cache_dir=None) -> subprocess.Popen:
    """Start a process that trains ``cnnviz.trained_lenet5(padding)`` into the cache.

    Its standard output (Keras' per-epoch lines) is a text pipe. `epochs` and
    `cache_dir` default to ``trained_lenet5``'s.
    """
    command = [sys.executable, __file__, padding]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # progress as it comes
    )


def train_gallery_models(app) -> None:
    """Train the gallery's models that are not cached yet, in parallel processes.

    The examples run one after another and each would train its model when
    it first calls :func:`cnnviz.trained_lenet5`. The small convolutions of
    LeNet-5 leave the two cores partly idle, so two trainings side by side
    can finish sooner than one after the other (``nox -s bench --
    --gallery-training 6`` times both ways). Each process has TensorFlow's
    default threads, as a reader's own process has, so the weights are the
    ones ``trained_lenet5`` computes anywhere else on this machine, bit for
    bit: the cache entry is theirs. The examples then load the models from
    the cache.
    """
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    import cnnviz

    logger = logging.getLogger(__name__)
    missing = [padding for padding in GALLERY_MODELS if not cnnviz.cache_path(padding).is_dir()]
    if not missing:
        return
    logger.info("training %s in parallel for the gallery (cached afterwards)", ", ".join(missing))
    start = time.monotonic()
    processes = {padding: start_trainer(padding) for padding in missing}
    outputs: dict[str, list[str]] = {padding: [] for padding in missing}

    def relay(padding: str) -> None:
        for line in processes[padding].stdout:
            outputs[padding].append(line)
            if line.startswith("Epoch ") or " loss: " in line:  # per epoch, not TF's chatter
                logger.info("[%s] %s", padding, line.rstrip())

    readers = [threading.Thread(target=relay, args=(padding,)) for padding in missing]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    failed = {padding: process.wait() for padding, process in processes.items()}
    logger.info("trained %s in %.0f s", ", ".join(missing), time.monotonic() - start)
    failed = {padding: code for padding, code in failed.items() if code != 0}
    if failed:
        details = "\n".join(
            f"--- {padding} (exit {code}) ---\n{''.join(outputs[padding][-40:])}"
            for padding, code in failed.items()
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
    parser.add_argument("padding", choices=GALLERY_MODELS)
    parser.add_argument("--epochs", type=int, help="default: trained_lenet5's")
    parser.add_argument("--cache-dir")
    args = parser.parse_args(argv)
    import cnnviz

    options = {} if args.epochs is None else {"epochs": args.epochs}
    cnnviz.trained_lenet5(args.padding, cache_dir=args.cache_dir, verbose=2, **options)


if __name__ == "__main__":
    _main()
