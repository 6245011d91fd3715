"""The colab/ notebooks: each runs top to bottom (steps shrunk by TFGAN_NOTEBOOK_QUICK=1)
and produces what it declares in its metadata (``tfgan_expect``: files and printed
lines); they are stored without outputs and open the way Colab users need."""
import glob
import os
import re

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted(glob.glob(os.path.join(REPO, "colab", "*.ipynb")))
nbformat = pytest.importorskip("nbformat")


def _read(path):
    return nbformat.read(path, as_version=4)


def test_there_is_a_notebook_per_topic_of_the_issue():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    for stem in ("01_quickstart", "02_mode_collapse", "03_image_to_image", "04_conditional",
                 "05_super_resolution", "06_export_and_serve"):
        assert f"{stem}.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_stored_without_outputs_and_opens_as_colab_needs(path):
    nb = _read(path)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{os.path.basename(path)}: stored with outputs"
    first, setup = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and "What this teaches" in first.source
    badge = f"colab.research.google.com/github/tfgan-suite/tfgan_suite/blob/main/colab/" \
            f"{os.path.basename(path)}"
    assert badge in first.source
    assert "google.colab" in setup.source and "pip" in setup.source
    expect = nb.metadata["tfgan_expect"]
    assert expect["files"] and expect["printed"]
    # The README links it with the same badge.
    with open(os.path.join(REPO, "README.md")) as f:
        assert badge in f.read(), f"README has no Colab badge for {os.path.basename(path)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nb = _read(path)
    monkeypatch.setenv("TFGAN_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    printed = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out
            if out.output_type == "stream":
                printed.append(out.text)
            elif "text/plain" in out.get("data", {}):
                printed.append(out.data["text/plain"])
    text = "".join(printed)
    expect = nb.metadata["tfgan_expect"]
    for pattern in expect["files"]:
        assert glob.glob(str(tmp_path / pattern)), f"missing {pattern}\n{text[-3000:]}"
    for pattern in expect["printed"]:
        assert re.search(pattern, text), f"no output matches {pattern!r}\n{text[-3000:]}"
    images = sum(1 for c in nb.cells for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert images >= 1, "the notebook showed no picture"
