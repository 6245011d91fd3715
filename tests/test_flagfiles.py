"""Every flagfile in flags/ parses and names a valid model configuration."""
import glob
import os

import pytest

from conftest import REPO

FLAGFILES = sorted(glob.glob(os.path.join(REPO, "flags", "*.cfg")))


def test_there_are_flagfiles_for_the_papers_and_quick_runs():
    names = {os.path.basename(f) for f in FLAGFILES}
    assert {"gan_mnist.cfg", "gan_gaussian1d.cfg", "dcgan_mnist.cfg", "dcgan_celeba64.cfg",
            "dcgan_mnist_quick.cfg", "gan_mnist_quick.cfg"} <= names


@pytest.mark.parametrize("path", FLAGFILES, ids=os.path.basename)
def test_flagfile_resolves(flags_parsed, path, monkeypatch):
    from tfgan_suite import registry, train
    monkeypatch.chdir(REPO)  # nested --flagfile paths are relative to the repository
    flags = flags_parsed([f"--flagfile={path}"])
    spec = registry.get(flags.model)
    kind = "vector" if (flags.dataset or "").startswith("toy:") else "image"
    hp = registry.resolve_hparams(spec.name, train.hparam_overrides(spec.defaults), kind)
    assert hp["latent_dim"] >= 1
    assert flags.model_dir and flags.model_dir.startswith("runs/")
