"""Sphinx configuration for the cnnviz site: gallery, API reference, guides.

The build runs offline (no network at build time), with ``-nW``: every
cross-reference must resolve or be listed, with a reason, in
``nitpick_ignore`` below.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import os
import re
import sys
import zlib
from pathlib import Path

# Set before anything imports TensorFlow (the examples run in this process).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# sphinx-gallery runs the examples in joblib's worker processes, which limit NumPy's
# BLAS to cpu_count // parallel threads (one here) unless this is set: an example left
# running alone at the end of a section then did its matrix products on one core. Two
# processes of two BLAS threads each on two cores lose nothing (measured: 96 against
# 82 GFLOP/s each), and the CKA page took 69 s instead of 97 s (2026-12-05).
# A limit the user set (OpenBLAS reads OPENBLAS_, then GOTO_, then OMP_NUM_THREADS) is kept;
# joblib's cpu_count honours the CPU affinity and a container's CPU quota.
if not {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} & set(os.environ):
    from joblib import cpu_count

    os.environ["OPENBLAS_NUM_THREADS"] = str(cpu_count())
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # gallery_hooks, for sphinx-gallery's reset_modules

from gallery_hooks import KERNELS  # from the path above

# The kernels the build's trainings ask for, for the examples too (KERNELS says why).
for key, value in KERNELS.items():
    os.environ.setdefault(key, value)

import cnnviz  # after the environment above

project = "cnnviz"
author = "The cnnviz developers"
copyright = "2026, The cnnviz developers"
release = cnnviz.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_intersphinx",
    "_ext",
    "**.ipynb_checkpoints",
    "sg_execution_times.rst",
    # The gallery's kept outputs on their way in (STAGING_DIR), and what an earlier
    # build of this kind left beside the gallery if it was stopped.
    ".gallery-staging",
    ".auto_examples.*",
]
nitpicky = True

# -- API reference -----------------------------------------------------------

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_xref_param_type = True
# Words of the numpydoc type grammar ("array_like of int, shape (N,), optional").
numpydoc_xref_ignore = {
    "of",
    "or",
    "to",
    "optional",
    "default",
    "shape",
    "N",
    "H",
    "W",
    "C",
    "x",
    "y",
    "units",
    "num_classes",
}
numpydoc_xref_aliases = {
    "SubFigure": "matplotlib.figure.SubFigure",
    "Figure": "matplotlib.figure.Figure",
    "uint8": "numpy.uint8",
    "float32": "numpy.float32",
    "path-like": ":term:`python:path-like object`",
}

# -- Cross-references to other projects, offline --------------------------------
#
# No network at build time, so every inventory is a local file:
# - Python: Debian's ``python3-doc`` ships the full objects.inv (.ci/run installs
#   it); without it the URL is tried, for a machine that is online.
# - NumPy and Matplotlib: no Debian package ships their inventories, so
#   _intersphinx/*.txt lists the few objects these pages name, with their real
#   URLs, and is compiled here into objects.inv files (format: Sphinx inventory v2).

INVENTORY_DIR = HERE / "_build" / "intersphinx"


def _compile_inventory(name: str) -> str:
    """Compress ``_intersphinx/<name>.txt`` (header + plain lines) into an objects.inv."""
    text = (HERE / "_intersphinx" / f"{name}.txt").read_text(encoding="utf-8")
    header, body = [], []
    for line in text.splitlines(keepends=True):
        (header if line.startswith("#") and not body else body).append(line)
    INVENTORY_DIR.mkdir(parents=True, exist_ok=True)
    target = INVENTORY_DIR / f"{name}.inv"
    target.write_bytes("".join(header).encode() + zlib.compress("".join(body).encode()))
    return str(target)


_python_inv = "/usr/share/doc/python3/html/objects.inv"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", (_python_inv, None)),
    "numpy": ("https://numpy.org/doc/stable/", _compile_inventory("numpy")),
    "matplotlib": ("https://matplotlib.org/stable/", _compile_inventory("matplotlib")),
}
intersphinx_timeout = 5

# Keras and TensorFlow publish no Sphinx inventory (keras.io is not built with
# Sphinx), so references to their classes cannot resolve; each is listed here.
nitpick_ignore = [
    ("py:class", "keras.Model"),  # models.lenet5 and others return / take one
    ("py:obj", "keras.Model"),
    ("py:class", "keras.callbacks.History"),  # training.train returns it
    ("py:obj", "keras.callbacks.History"),
    ("py:class", "keras.callbacks.Callback"),  # training.train takes them
    ("py:obj", "keras.callbacks.Callback"),
]

# -- The gallery ---------------------------------------------------------------


# sphinx-gallery runs an example again only when the example's own MD5 changes; what
# else its outputs depend on (the library, the models, the packages, the kernels) is one
# key, and the outputs are kept in the cache directory under it (gallery_outputs.py):
# reused while the key holds, in a fresh clone too, and all run again when it changes.
GALLERY_DIR = HERE / "auto_examples"
EXAMPLES_DIR = HERE.parent / "examples"
# Where kept outputs are copied before they take the gallery's place: beside it, on the
# same file system (a rename moves it), and excluded from what Sphinx reads.
STAGING_DIR = HERE / ".gallery-staging"
FILENAME_PATTERN = r"/plot_"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": FILENAME_PATTERN,
    # One section per folder, each with a README.txt (title and a sentence or two),
    # in this order. A folder with a README.txt missing here stops the build.
    "subsection_order": [
        "../examples/getting_started",
        "../examples/inside_the_network",
        "../examples/explaining_predictions",
        "../examples/channels",
        "../examples/what_padding_does",
    ],
    "within_subsection_order": "FileNameSortKey",  # plot_01_ ... in reading order
    "doc_module": ("cnnviz",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"cnnviz": None},
    "download_all_examples": True,
    "remove_config_comments": True,
    # Two processes: the examples' time is now mostly matplotlib drawing, which uses
    # one core; with two workers a fresh build's examples took 98 s instead of 136 s
    # on the 2-core machine (each example about 10% slower, two at a time).
    "parallel": 2,
    # Every example runs unless _reuse_gallery_outputs finds outputs made as this build's
    # would be.
    "run_stale_examples": True,
    # Matplotlib's defaults and a fresh Keras session before every example.
    "reset_modules": ("matplotlib", "gallery_hooks.clear_keras_session"),
    "min_reported_time": 5,
    # "How the filters formed" animates conv1 over the epochs: frames as PNGs in the
    # page's own JavaScript player (jshtml), no video encoder needed.
    "matplotlib_animations": (True, "jshtml"),
}

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "cnnviz"
html_static_path = ["_static"]
html_css_files = ["cnnviz.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink", "sg_download_links"],
    # No icon links to remote sites: the site is self-contained.
    "icon_links": [],
}
# Without it the theme's script logs "Got invalid theme mode" on a first visit.
html_context = {"default_mode": "auto"}
html_sidebars = {
    "index": [],
    "installation": [],
    "performance": [],
    "refusals": [],
    "architecture": [],
    "explorer": [],
}
html_show_sourcelink = True


def _defining_modules() -> dict[str, str]:
    """Map each public name to its defining module, as ``cnnviz/__init__.pyi`` says."""
    stub = ast.parse(Path(cnnviz.__file__).with_suffix(".pyi").read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name: f"cnnviz.{node.module}"
        for node in stub.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


DEFINED_IN = _defining_modules()


def _constant_docstring(app, what, name, obj, options, lines) -> None:
    """Document a re-exported constant with the ``#:`` comment where it is defined.

    ``cnnviz.PADDINGS`` lives in ``cnnviz.models``; autodoc looks for its comment
    in ``cnnviz/__init__.py`` only and falls back to the docstring of ``tuple``.
    """
    if what != "data" or not name.startswith("cnnviz.") or obj.__doc__ != type(obj).__doc__:
        return
    from sphinx.pycode import ModuleAnalyzer

    attribute = name.rpartition(".")[2]
    if attribute in DEFINED_IN:
        comment = ModuleAnalyzer.for_module(DEFINED_IN[attribute]).find_attr_docs()
        if ("", attribute) in comment:
            lines[:] = list(comment["", attribute])
            return
    lines.clear()  # better no text than the docstring of tuple


# matplotlib's animation player (jshtml) loads Font Awesome 4 from a CDN for its button
# icons; the site is self-contained and works offline, so the link goes and each icon
# becomes a character (each button keeps its title and aria-label).
_REMOTE_ICON_CSS = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">')
_ICONS = {  # characters every font has (DejaVu, the Debian default, included)
    "fa fa-minus": "\u2212",  # slower
    "fa fa-fast-backward": "\u21e4",  # first frame
    "fa fa-step-backward": "\u2039",  # previous frame
    "fa fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa fa-pause": "\u25ae\u25ae",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u203a",  # next frame
    "fa fa-fast-forward": "\u21e5",  # last frame
    "fa fa-plus": "+",  # faster
}


def _animation_without_cdn(app, docname, source) -> None:
    """Make the embedded animations' players self-contained (see _ICONS)."""
    if 'class="animation"' not in source[0]:
        return
    text = _REMOTE_ICON_CSS.sub("", source[0])
    for icon, character in _ICONS.items():
        text = text.replace(f'<i class="{icon}"></i>', character)
    if "font-awesome" in text or '<i class="fa ' in text:
        raise RuntimeError(f"{docname}: the animation player's markup changed; update _ICONS")
    source[0] = text


# The key at the start of the build: outputs are kept only if it still holds at the end.
_GALLERY_KEY: dict[str, str | None] = {}


def _reuse_gallery_outputs(app) -> None:
    """Let sphinx-gallery skip the examples whose outputs were made as this build's would be.

    That is when the gallery's stamp, or a kept gallery, has this build's
    key (once the models are trained); sphinx-gallery then runs only the
    examples whose text changed. Otherwise every example runs (see
    gallery_outputs.prepare for the order of things).
    """
    from gallery_outputs import gallery_key, prepare, store_dir, unstamp
    from sphinx.util import logging
    from sphinx_gallery.utils import get_md5sum

    logger = logging.getLogger(__name__)
    conf = app.config.sphinx_gallery_conf
    try:
        # With plot_gallery off no example runs: the outputs are tidied, not reused.
        key = gallery_key(HERE, EXAMPLES_DIR) if conf["plot_gallery"] else None
        _GALLERY_KEY["start"] = key
        md5 = functools.partial(get_md5sum, mode="t")
        state = prepare(GALLERY_DIR, EXAMPLES_DIR, key, store_dir(), STAGING_DIR, md5)
        conf["run_stale_examples"] = state == "stale"
        if conf["plot_gallery"] and key is None:  # a model not cached: every example runs
            unstamp(GALLERY_DIR)
        if state == "restored":
            logger.info(
                "gallery: reusing the outputs kept in %s, made with this library, these "
                "models and this environment; only examples whose text changed run",
                store_dir() / key,
            )
    except Exception as error:  # noqa: BLE001 - reuse is a shortcut: without it, run everything
        _GALLERY_KEY["start"] = None
        conf["run_stale_examples"] = True
        with contextlib.suppress(OSError):
            unstamp(GALLERY_DIR)
        logger.info(
            "gallery: kept outputs not reused (%s: %s); every example runs",
            type(error).__name__,
            error,
        )


def _forget_failed_examples(app, exception) -> None:
    """Make the examples that failed run next time, even if they are put back as they were."""
    from gallery_outputs import forget_failures

    failing = app.config.sphinx_gallery_conf.get("failing_examples") or {}
    forget_failures(failing, GALLERY_DIR, EXAMPLES_DIR)


def _keep_gallery_outputs(app, exception) -> None:
    """Stamp the gallery with its key and keep a copy, once every example ran or was current."""
    from gallery_outputs import gallery_key, keep, remove_orphans, store_dir, unstamp
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    conf = app.config.sphinx_gallery_conf
    complete = (
        conf["plot_gallery"]
        and conf["filename_pattern"] == FILENAME_PATTERN
        and not conf.get("failing_examples")
    )
    if exception is not None or not complete or not GALLERY_DIR.is_dir():
        return
    try:
        key = gallery_key(HERE, EXAMPLES_DIR)
        if key is None or key != _GALLERY_KEY.get("start"):
            # Something the outputs depend on changed while the examples ran.
            unstamp(GALLERY_DIR)
            logger.info("gallery: the key changed during the build; outputs not kept")
            return
        remove_orphans(GALLERY_DIR, EXAMPLES_DIR)  # whatever this build left, not kept
        keep(key, GALLERY_DIR, store_dir())
    except Exception as error:  # noqa: BLE001 - the site is built; only the copy is missing
        logger.info(
            "gallery: could not keep a copy of the outputs in %s (%s: %s); the next "
            "build in a fresh clone runs every example",
            store_dir(),
            type(error).__name__,
            error,
        )


def setup(app) -> None:
    from explorer_page import write_explorer
    from gallery_hooks import train_gallery_models
    from refusals import write_refusals

    app.connect("builder-inited", write_refusals)

    # Before sphinx-gallery (priority 500) runs the examples.
    app.connect("builder-inited", train_gallery_models, priority=400)
    app.connect("autodoc-process-docstring", _constant_docstring)
    app.connect("source-read", _animation_without_cdn)
    # After the trainings (400), before sphinx-gallery runs the examples (500).
    app.connect("builder-inited", _reuse_gallery_outputs, priority=450)
    # Before sphinx-gallery's summary (500), which raises if an example failed; and after.
    app.connect("build-finished", _forget_failed_examples, priority=450)
    app.connect("build-finished", _keep_gallery_outputs, priority=600)
    # The explorer page (explorer/index.html) from the gallery's two trained models.
    app.connect("build-finished", write_explorer)
