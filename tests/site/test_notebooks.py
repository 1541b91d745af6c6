"""The gallery's downloads run as they are: each ``.ipynb`` in a real Jupyter kernel, each ``.py``.

They run against the trained-model cache that ``nox -s docs`` filled (so
nothing trains here), each in an empty temporary working directory, as a
reader's download would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[2]
# One folder per gallery section: "getting_started/plot_01_fashion_mnist", the
# page's path below auto_examples without suffix.
EXAMPLES = sorted(
    example.relative_to(ROOT / "examples").with_suffix("").as_posix()
    for example in (ROOT / "examples").glob("*/plot_*.py")
)
# Loading data and both cached models, and drawing every layer, takes well under this.
CELL_TIMEOUT = 600


def download(site_dir: Path, example: str, suffix: str) -> Path:
    """The file a reader downloads from the example's page (``suffix``: ``.py``, ``.ipynb``).

    Read from the page's link: ``_downloads`` may also hold files of earlier
    builds, from before an example moved to another section.
    """
    page = site_dir / "auto_examples" / f"{example}.html"
    name = re.escape(example.rpartition("/")[2] + suffix)
    links = set(re.findall(rf'href="((?:\.\./)*_downloads/[0-9a-f]+/{name})"', page.read_text()))
    assert len(links) == 1, f"{page} should link one {suffix} download; links {links}"
    found = (page.parent / links.pop()).resolve()
    assert found.is_file(), f"{page} links a download that is missing: {found}"
    return found


@pytest.fixture(scope="module")
def trained_models(site_dir: Path) -> None:
    """The gallery's models are in the cache; otherwise the notebooks would train for minutes."""
    check = (
        "import cnnviz; print(*(p for p in ('valid', 'same') if not cnnviz.cache_path(p).is_dir()))"
    )
    missing = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not missing, f"no cached model for {missing}: run `nox -s docs` first"


@pytest.mark.parametrize("example", EXAMPLES)
def test_notebook_runs_in_a_jupyter_kernel(
    site_dir, trained_models, min_figures, tmp_path, monkeypatch, example
):
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient (nox -s site)")
    nbformat = pytest.importorskip("nbformat", reason="needs nbformat (nox -s site)")
    notebook = nbformat.read(download(site_dir, example, ".ipynb"), as_version=4)
    # A reader's Jupyter draws inline; the Agg backend of the docs build would
    # turn every plt.show() into a warning instead.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert not errors, errors
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    expected = min_figures[example.rpartition("/")[2]]
    assert len(images) >= expected, (
        f"{example}.ipynb drew {len(images)} figures; expected at least {expected}"
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_script_runs(site_dir, trained_models, tmp_path, example):
    script = download(site_dir, example, ".py")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=CELL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{example}.py failed:\n{result.stdout}\n{result.stderr}"
