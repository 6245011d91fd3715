"""Every flagfile in flags/ parses, names only flags its model reads, and its
dataset loads (TFDS through its mock data, missing folders as tiny stand-ins)
and passes the model's data check."""
import glob
import os

import numpy as np
import pytest

from conftest import REPO, write_png

FLAGFILES = sorted(glob.glob(os.path.join(REPO, "flags", "*.cfg")))


def test_there_are_flagfiles_for_the_papers_and_quick_runs():
    names = {os.path.basename(f) for f in FLAGFILES}
    assert {"gan_mnist.cfg", "gan_gaussian1d.cfg", "dcgan_mnist.cfg", "dcgan_celeba64.cfg",
            "dcgan_mnist_quick.cfg", "gan_mnist_quick.cfg", "pix2pix_facades.cfg",
            "pix2pix_maps.cfg", "pix2pix_edges2shoes.cfg", "cyclegan_horse2zebra.cfg",
            "cyclegan_monet2photo.cfg", "simgan_eyes.cfg"} <= names
    from tfgan_suite import registry
    papers = [f for f in FLAGFILES if not f.endswith("_quick.cfg")]
    named = {line.strip().split("=", 1)[1] for f in papers for line in open(f)
             if line.startswith("--model=")}
    assert set(registry.list_models()) <= named  # a paper experiment for every model


def _stand_in(dataset, tmp_path):
    """A folder dataset whose path is not on this machine: two tiny images in
    the documented layout, so the real loader runs."""
    scheme, _, path = dataset.partition(":")
    if scheme not in ("folder", "paired", "unpaired") or os.path.exists(path):
        return dataset
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(0, 256, (20, 20, 3))
        if scheme == "paired":  # A|B side by side, train/ split
            write_png(root / "train" / f"{i}.png", np.concatenate([image, 255 - image], 1))
        elif scheme == "unpaired":
            write_png(root / "trainA" / f"{i}.png", image)
            write_png(root / "trainB" / f"{i}.png", 255 - image)
        else:
            write_png(root / f"{i}.png", image)
    return f"{scheme}:{root}"


@pytest.mark.parametrize("path", FLAGFILES, ids=os.path.basename)
def test_flagfile_loads_its_data_and_passes_the_model_checks(flags_parsed, path, monkeypatch,
                                                             tmp_path):
    import tensorflow_datasets as tfds

    from tfgan_suite import registry, train
    from tfgan_suite.data import tfds_source
    monkeypatch.chdir(REPO)  # nested --flagfile paths are relative to the repository
    flags = flags_parsed([f"--flagfile={path}"])
    assert flags.model_dir and flags.model_dir.startswith("runs/")
    spec = registry.get(flags.model)
    overrides = train.hparam_overrides(spec)  # refuses flags the model does not read
    dataset = _stand_in(flags.dataset or spec.default_dataset, tmp_path)
    options = train.model_data_options(spec, overrides, dataset)
    if tfds_source.is_tfds_name(dataset) and ":" not in dataset:
        monkeypatch.setattr(tfds_source, "can_reach_download_host", lambda timeout=3.0: True)
        options.data_dir = str(tmp_path / "tfds")
        with tfds.testing.mock_data(num_examples=4):
            source = options.load()
    else:
        source = options.load()
    hp = registry.resolve_hparams(spec.name, overrides, source.data_spec)
    assert set(hp) == set(spec.declarations)
