"""Evaluation end to end: extractors, cached reference statistics, the CLI, --eval_every."""
import json
import os
import re

import numpy as np
import pytest

from conftest import run_cli
from tfgan_suite.errors import ConfigError
from tfgan_suite.metrics import evaluation
import tfgan_suite

pytestmark = [pytest.mark.cli, pytest.mark.slow]


class CountingExtractor:
    """A cheap stand-in extractor: fixed random projection of the pixels."""

    def __init__(self, dim=8, seed=0):
        self.id = f"test-projection-{dim}-{seed}"
        self.proj = None
        self.calls = 0
        self.dim, self.seed = dim, seed

    def __call__(self, images):
        x = np.asarray(images, np.float64).reshape(len(images), -1)
        if self.proj is None:
            self.proj = np.random.default_rng(self.seed).normal(size=(x.shape[1], self.dim))
        self.calls += 1
        f = x @ self.proj / np.sqrt(x.shape[1])
        p = np.exp(f - f.max(1, keepdims=True))
        return {"features": f.astype(np.float32), "probs": p / p.sum(1, keepdims=True)}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A DCGAN trained for 2 steps on bundled MNIST, via the CLI."""
    run = tmp_path_factory.mktemp("eval") / "run"
    tfgan_suite.run("train", "--model=dcgan", "--dataset=bundled:mnist", "--batch_size=8",
                    "--g_filters=4", "--d_filters=4", "--latent_dim=4", "--train_steps=2",
                    "--save_every=2", "--sample_every=0", "--nojit_compile", f"--model_dir={run}")
    return run


def test_reference_statistics_are_cached_and_reused(tiny_run, tmp_path):
    import tfgan_suite
    from tfgan_suite import data
    model = tfgan_suite.load_model(str(tiny_run))
    source = data.load("bundled:mnist", split="test")
    ex = CountingExtractor()
    first = evaluation.evaluate(model, source, ex, ["fid", "kid", "is", "pr"], num_samples=60,
                                batch_size=25, stats_dir=str(tmp_path), split="test",
                                kid_subset_size=30)
    calls = ex.calls
    second = evaluation.evaluate(model, source, ex, ["fid", "kid", "is", "pr"], num_samples=60,
                                 batch_size=25, stats_dir=str(tmp_path), split="test",
                                 kid_subset_size=30)
    assert ex.calls - calls == 3  # only the 60 generated images: 25 + 25 + 10
    assert len(os.listdir(tmp_path)) == 1
    assert first.pop("images_per_second") > 0 and second.pop("images_per_second") > 0
    assert first == second  # same seed, same samples, same cached real statistics
    assert first["fid"]["value"] > 0 and first["num_fake"] == 60 and first["step"] == 2
    assert first["is"]["value"] >= 1.0 and first["is"]["value"] <= 8.0
    assert 0.0 <= first["precision"]["value"] <= 1.0


def test_bad_evaluation_inputs(tiny_run, tmp_path):
    import tfgan_suite
    from tfgan_suite import data
    model = tfgan_suite.load_model(str(tiny_run))
    source = data.load("bundled:mnist", split="test")
    with pytest.raises(ConfigError, match="at least 2"):
        evaluation.evaluate(model, source, CountingExtractor(), ["fid"], num_samples=1,
                            stats_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="only 10000"):
        evaluation.evaluate(model, source, CountingExtractor(), ["fid"], num_samples=20000,
                            batch_size=5000, stats_dir=str(tmp_path), split="test")
    with pytest.raises(ConfigError, match="unknown"):
        evaluation.evaluate(model, source, CountingExtractor(), ["fid", "lpips"],
                            stats_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="--inception_weights=/no/such.h5"):
        evaluation.make_extractor("inception", "cifar10", "/no/such.h5")
    with pytest.raises(ConfigError, match="MNIST and Fashion-MNIST only"):
        evaluation.make_extractor("domain", "cifar10")


def test_inception_extractor_plumbing_with_random_weights():
    """Random weights (nothing may download here): checks shapes, grey->RGB, resize to 299
    and that features do not depend on the batch size. Not a number to report."""
    from tfgan_suite.metrics.inception import InceptionExtractor
    ex = InceptionExtractor(weights=None)
    assert ex.id == "inception_v3-random"
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    together = ex(images)
    apart = [ex(images[i:i + 1]) for i in range(3)]
    assert together["features"].shape == (3, 2048) and together["probs"].shape == (3, 1000)
    np.testing.assert_allclose(together["features"],
                               np.concatenate([a["features"] for a in apart]), atol=1e-5)
    np.testing.assert_allclose(together["probs"].sum(1), 1.0, rtol=1e-5)


def test_domain_extractor_sharded_over_two_replicas_matches_one_device(tiny_run, tmp_path):
    """7 images over 2 replicas: padded to 8, 4 per replica (each replica traces
    the forward pass on its shard), put back in order: one device's features."""
    import tensorflow as tf

    from tfgan_suite import data, distribute
    from tfgan_suite.metrics.domain import DomainExtractor
    ex = DomainExtractor("mnist")
    images = np.random.default_rng(0).uniform(-1, 1, (7, 28, 28, 1)).astype("float32")
    strategy = distribute.make_strategy("mirrored", cpu_replicas=2)
    assert evaluation.sharded(ex, None) is ex
    assert evaluation.sharded(ex, tf.distribute.get_strategy()) is ex  # one replica
    assert evaluation.sharded(CountingExtractor(), strategy).__class__ is CountingExtractor
    split = evaluation.sharded(ex, strategy)
    assert split.id == ex.id and split.num_classes == 10
    assert evaluation.sharded(split, strategy) is split  # not wrapped twice
    seen = []
    forward = ex.forward
    ex.forward = lambda x: seen.append((tuple(x.shape), tf.get_static_value(
        tf.distribute.get_replica_context().replica_id_in_sync_group))) or forward(x)
    got, want = split(images), ex(images)
    assert sorted(seen) == [((4, 28, 28, 1), 0), ((4, 28, 28, 1), 1)]  # a shard per replica
    for key in ("features", "logits", "probs"):
        assert got[key].shape == want[key].shape
        np.testing.assert_allclose(got[key], want[key], atol=1e-5)
    # evaluate() with the strategy: the same numbers as on one device
    model = tfgan_suite.load_model(str(tiny_run))
    source = data.load("bundled:mnist", split="test")
    args = (model, source, ex, ["fid", "is"], 30, 10)
    one = evaluation.evaluate(*args, stats_dir=str(tmp_path))
    two = evaluation.evaluate(*args, stats_dir=str(tmp_path), strategy=strategy)
    for key in ("fid", "is"):
        np.testing.assert_allclose(two[key]["value"], one[key]["value"], rtol=1e-4)


def test_evaluate_cli_writes_metrics_json(tiny_run, tmp_path):
    # sharded over two logical CPUs, as over two GPUs
    r = run_cli("evaluate", f"--model_dir={tiny_run}", "--num_samples=200",
                "--metrics=fid,kid,is,pr", "--split=test", f"--stats_dir={tmp_path}",
                "--strategy=mirrored", "--cpu_replicas=2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"step 2, \d+ images/s", r.stdout), r.stdout
    result = json.loads((tiny_run / "metrics.json").read_text())
    assert result["extractor"].startswith("domain-mnist-")
    assert result["num_fake"] == 200 and result["num_real"] == 200
    for key in ("fid", "kid", "is", "precision", "recall"):
        assert key in result and np.isfinite(result[key]["value"])
    assert "std" in result["kid"] and "std" in result["is"]
    assert "fid" in r.stdout and result["extractor"] in r.stdout
    # An untrained generator is far from MNIST for the MNIST classifier.
    assert result["fid"]["value"] > 10


def test_eval_every_keeps_the_best_checkpoint(flags_parsed, tmp_path):
    from tfgan_suite import train
    flags_parsed(["--model=dcgan", "--dataset=bundled:mnist", "--batch_size=8",
                  "--g_filters=4", "--d_filters=4", "--latent_dim=4", "--train_steps=4",
                  "--eval_every=2", "--eval_num_samples=50", "--sample_every=0",
                  "--nojit_compile", "--verbose=0", f"--stats_dir={tmp_path / 'stats'}",
                  f"--model_dir={tmp_path / 'run'}"])
    train.train()
    best = tmp_path / "run" / "best"
    assert any(f.endswith(".index") for f in os.listdir(best))
    info = json.loads((best / "best.json").read_text())
    assert info["step"] in (2, 4) and info["num_fake"] == 50
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(tmp_path / "run"), size_guidance={"tensors": 0})
    acc.Reload()
    assert [e.step for e in acc.Tensors("eval/fid")] == [2, 4]


def _stand_in_inception_graph(path):
    """A small graph with the 2015 Inception graph's tensor names and shapes
    (ExpandDims:0 [1, H, W, 3] in [0, 255] -> resize 299 -> pool_3:0 [1, 1, 1, 2048],
    softmax/weights [2048, 1008]): the real file cannot be downloaded here."""
    import tensorflow as tf
    w_proj = np.random.default_rng(0).normal(size=(3, 2048)).astype("float32")
    w_soft = np.random.default_rng(1).normal(size=(2048, 1008)).astype("float32") * 0.01

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)])
    def graph(x):
        x = tf.identity(x, name="ExpandDims")
        x = tf.image.resize(x, (299, 299)) / 128.0 - 1.0
        pool = tf.reshape(tf.reduce_mean(x, (1, 2)) @ w_proj, (1, 1, 1, 2048))
        pool = tf.identity(pool, name="pool_3")
        weights = tf.constant(w_soft, name="softmax/weights")
        return pool, weights

    graph_def = graph.get_concrete_function().graph.as_graph_def()
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    return w_proj, w_soft


def test_inception_graph_extractor_with_a_stand_in_graph(tmp_path):
    from tfgan_suite.metrics.inception import InceptionGraphExtractor
    path = str(tmp_path / "classify_image_graph_def.pb")
    w_proj, w_soft = _stand_in_inception_graph(path)
    ex = InceptionGraphExtractor(path)
    assert ex.id.startswith("inception_2015_graph-")
    images = np.random.default_rng(2).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    out = ex(images)
    # Reference: the same computation in NumPy (grey tiled to RGB, [0, 255] in).
    rgb = np.repeat((images + 1) * 127.5, 3, axis=-1)
    feats = (rgb / 128.0 - 1.0).mean((1, 2)) @ w_proj  # resizing a mean-preserving op
    np.testing.assert_allclose(out["features"], feats, rtol=2e-3, atol=2e-3)
    logits = out["features"] @ w_soft
    probs = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(out["probs"], probs / probs.sum(1, keepdims=True), rtol=1e-4,
                               atol=1e-6)
    with pytest.raises(ConfigError, match="no such file"):
        InceptionGraphExtractor(str(tmp_path / "missing.pb"))
