"""The gallery's downloads run as they are: each ``.ipynb`` in a real Jupyter kernel, each ``.py``.

They run against the trained-model cache that ``nox -s docs`` filled (so
nothing trains here), each in an empty temporary working directory, as a
reader's download would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[2]
# One folder per gallery section; downloads are named after the file alone.
EXAMPLES = sorted((ROOT / "examples").glob("*/plot_*.py"))
# Loading data and both cached models, and drawing every layer, takes well under this.
CELL_TIMEOUT = 600


def download(site_dir: Path, name: str) -> Path:
    """The file a reader downloads from the example's page."""
    found = sorted(site_dir.glob(f"_downloads/*/{name}"))
    assert len(found) == 1, f"expected one download of {name}, found {found}"
    return found[0]


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


@pytest.mark.parametrize("example", [example.stem for example in EXAMPLES])
def test_notebook_runs_in_a_jupyter_kernel(
    site_dir, trained_models, min_figures, tmp_path, monkeypatch, example
):
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient (nox -s site)")
    nbformat = pytest.importorskip("nbformat", reason="needs nbformat (nox -s site)")
    notebook = nbformat.read(download(site_dir, f"{example}.ipynb"), as_version=4)
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
    assert len(images) >= min_figures[example], (
        f"{example}.ipynb drew {len(images)} figures; expected at least {min_figures[example]}"
    )


@pytest.mark.parametrize("example", [example.stem for example in EXAMPLES])
def test_script_runs(site_dir, trained_models, tmp_path, example):
    script = download(site_dir, f"{example}.py")
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
