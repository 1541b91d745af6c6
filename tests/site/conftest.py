"""Fixtures for the tests of the built site: its directory and an HTTP server on 127.0.0.1.

These tests need ``nox -s docs`` to have built ``docs/_build/html``. ``nox -s site``
sets ``CNNVIZ_SITE_REQUIRED=1`` so that a missing site fails; elsewhere (a plain
``pytest``) the tests skip with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "_build" / "html"

# LeNet-5 has 10 layers after its input (conv1, relu1, max_pool1, conv2, relu2,
# max_pool2, flatten, fc1, fc2, op); the pages that walk through a model draw
# each of them but flatten (its channels-last order reads as noise; the pages
# print that it holds max_pool2's values instead), plus the input image, and
# conv1's kernels on the valid page or the loss/accuracy curves on the
# same-padding page, which also trains its model. Keyed by file name: the
# names are unique across the gallery's sections.
DRAWN_LAYERS = 9
MIN_FIGURES = {
    "plot_01_fashion_mnist": 2,  # images 40-47, one image per class
    "plot_01_lenet5_architecture": 1,  # parameters per layer
    "plot_02_train_lenet5": 1,  # loss and accuracy per epoch
    "plot_03_feature_maps_valid_padding": DRAWN_LAYERS + 2,  # + image, kernels
    "plot_04_lenet5_same_padding": DRAWN_LAYERS + 2,  # + curves, image
    "plot_05_valid_vs_same_padding": 5,  # four side-by-side figures, the border
    "plot_06_do_valid_and_same_learn_the_same_thing": 4,  # CKA matrices, settling, conv1, conv2
    "plot_01_where_lenet5_looks": 6,  # one per method (both models), IG's baselines
    "plot_02_can_we_trust_the_maps": 7,  # five randomization checks, two curve pairs
    "plot_03_where_the_models_fail": 4,  # two confusion matrices, two mistake grids
    "plot_04_data_randomization_test": 5,  # one per method, both models in each
    "plot_01_learned_filters": 4,  # conv1 and conv2 kernels, both paddings
    "plot_02_receptive_fields": 3,  # centre units, corner units, coverage
    "plot_03_channel_microscope": 6,  # 4 channels in full, 2 overviews, class means, 2 ablations
    "plot_04_what_excites_a_channel": 4,  # conv1 and conv2, both paddings
    "plot_05_how_the_filters_formed": 4,  # kernels and maps per padding (+ the animation)
    "plot_01_a_blank_image": 3,  # conv1 and conv2 for zeros and for grey, max_pool2
    "plot_02_which_pixels_count": 3,  # paths, mean gradients, both by distance from the edge
    "plot_03_shifted_garments": 2,  # accuracy over the shifts, equivariance per layer
    "plot_04_does_a_cnn_know_where": 4,  # the data, units per pixel, accuracy, by distance
    "plot_05_fixing_it": 4,  # the paddings drawn, accuracy over the shifts, equivariance x2
}

# Debian's chromium; Playwright drives it and downloads no browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(condition: bool, reason: str) -> None:
    """Fail in ``nox -s site``, skip elsewhere, when a precondition is missing."""
    if condition:
        return
    if os.environ.get("CNNVIZ_SITE_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def site_dir() -> Path:
    require(
        (SITE / "index.html").is_file() and (SITE / "auto_examples" / "index.html").is_file(),
        f"the site is not built in {SITE}: run `nox -s docs` first",
    )
    return SITE


@pytest.fixture(scope="session")
def min_figures() -> dict[str, int]:
    """The figures each example page, and each notebook run, must show at least."""
    return MIN_FIGURES


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown pytest's output


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1, on a free port, from a thread; yield its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1, on a free port, from a thread."""
    with serving(site_dir) as url:
        yield url


@pytest.fixture
def serve() -> Iterator:
    """Serve other folders for one test: ``serve(directory)`` returns the folder's URL."""
    with contextlib.ExitStack() as stack:
        yield lambda directory: stack.enter_context(serving(directory))


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, shared by the tests of one session (each page gets a new context)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (nox -s site)")
    require(CHROMIUM.is_file(), f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
