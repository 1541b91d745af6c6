"""Developer tasks: ``nox -s tests``, ``nox -s docs``, ``nox -s site``, ``nox -s lint``.

Each session installs the project (not an editable copy) and one PEP 735
dependency group from ``pyproject.toml`` into its own virtual environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
# uv makes the TensorFlow install seconds instead of a minute; plain virtualenv works too.
nox.options.default_venv_backend = "uv|virtualenv"
# Keep environments between runs: a warm docs build must not reinstall TensorFlow.
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests", "docs"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
# TensorFlow's C++ start-up chatter is not ours to show.
ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}


def install(session: nox.Session, group: str) -> None:
    """Install the project itself (rebuilt from this tree every time) and one dependency group."""
    uv = []
    if session.venv_backend == "uv":
        # pip always rebuilds a local project; uv caches it unless told otherwise.
        uv += ["--reinstall-package", "cnnviz"]
        # pip compiles bytecode at install, uv does not. Where PYTHONDONTWRITEBYTECODE is
        # set (it was on the machine this was measured on), every process would then
        # compile TensorFlow's modules anew: importing Keras took 12 s instead of 4 s, in
        # each of the docs build's three processes and in every notebook the site runs.
        uv += ["--compile-bytecode"]
    session.install(*uv, ".", *nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite and the docstring examples against the installed package."""
    install(session, "test")
    # The whole suite and the docstring examples; `nox -s tests -- tests/test_data.py`
    # (any existing path, with or without ::test) runs just what it names.
    named = any(Path(arg.split("::")[0]).exists() for arg in session.posargs)
    everything = [
        "--doctest-modules",
        "--pyargs",
        "cnnviz",
        "tests",
        # The built site's browser and notebook tests run in the site session.
        "--ignore=tests/site",
    ]
    session.run("pytest", *([] if named else everything), *session.posargs, env=ENV)


# The kernel families TensorFlow picks on other x86-64 CPUs than this one: Eigen's, its
# default where the CPU has no AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX; and oneDNN's
# without FMA. Each rounds differently from the others, so a test that claims exact
# equality where the computation is not exact by construction fails here too.
KERNELS = {
    "eigen": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn-avx": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX"},
}
# The tests whose numbers come from TensorFlow's kernels.
KERNEL_TESTS = [
    f"tests/test_{name}.py"
    for name in (
        "activations",
        "attribution",
        "batches",
        "channels",
        "evaluation",
        "explorer",
        "graph",
        "training",
    )
]


@nox.session(default=False)
def kernels(session: nox.Session) -> None:
    """Run the tests that compute with TensorFlow under the kernels of other x86-64 CPUs."""
    install(session, "test")
    for name, env in KERNELS.items():
        session.log(f"kernels: {name} ({env})")
        session.run("pytest", "-q", *KERNEL_TESTS, *session.posargs, env={**ENV, **env})


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML site and gallery into docs/_build/html (``-- --serve`` to serve it)."""
    install(session, "docs")
    build = ROOT / "docs" / "_build"
    serve = "--serve" in session.posargs
    args = [a for a in session.posargs if a != "--serve"]
    session.run(
        "sphinx-build",
        "-b",
        "html",
        "-nW",
        "--keep-going",
        # A fresh environment every time: an incremental one can keep what an earlier
        # (failed) build read. The examples' outputs are still reused; sphinx-gallery
        # decides that by itself (see docs/conf.py).
        "-E",
        "docs",
        str(build / "html"),
        *args,
        env=ENV,
    )
    if serve:
        session.log("Serving docs/_build/html on http://127.0.0.1:8000 (Ctrl-C to stop)")
        session.run(
            "python", "-m", "http.server", "-b", "127.0.0.1", "-d", str(build / "html"), "8000"
        )


@nox.session(default=False)
def site(session: nox.Session) -> None:
    """Test the site that ``nox -s docs`` built: headless Chromium, links, and every notebook."""
    install(session, "site")
    session.run(
        "pytest",
        "tests/site",
        "-m",
        "site",
        *session.posargs,
        # Fail, rather than skip, when the site has not been built.
        env={**ENV, "CNNVIZ_SITE_REQUIRED": "1"},
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time the notebook's way against cnnviz (``-- --full`` trains on all 60,000 images)."""
    install(session, "test")
    session.run("python", "benchmarks/bench.py", *session.posargs, env=ENV)


@nox.session(name="bench_explorer", default=False)
def bench_explorer(session: nox.Session) -> None:
    """Time the explorer page in headless Chromium: forward pass, pointer to redraw, weight."""
    install(session, "site")
    session.run("python", "benchmarks/explorer.py", *session.posargs, env=ENV)


@nox.session(default=False)
def clean(session: nox.Session) -> None:
    """Remove generated docs (the trained-model cache is kept; see the docs)."""
    for path in (
        "docs/_build",
        "docs/auto_examples",
        "docs/generated",
        "docs/sg_execution_times.rst",
        "docs/.gallery-staging",
    ):
        target = ROOT / path
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
