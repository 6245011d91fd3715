"""The shipped MNIST / Fashion-MNIST domain classifiers (tfgan_suite.metrics.domain)."""
import json
import logging
import re

import numpy as np
import pytest

from tfgan_suite.data import bundled
from tfgan_suite.errors import ConfigError
from tfgan_suite.metrics import domain

MIN_ACCURACY = {"mnist": 0.99, "fashion_mnist": 0.90}


def _to_float(images):
    return images.astype(np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module")
def extractors():
    return {name: domain.DomainExtractor(name) for name in MIN_ACCURACY}


def _record(name):
    path = domain.default_weights_path(name).parent / f"{name}.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(MIN_ACCURACY))
def test_test_split_accuracy_matches_record(extractors, name):
    record = _record(name)
    assert record["dataset"] == name
    assert record["test_accuracy"] >= MIN_ACCURACY[name]
    images, labels, _ = bundled.load_arrays(name, "test")
    assert len(images) == 10000
    out = extractors[name](_to_float(images))
    accuracy = float(np.mean(out["logits"].argmax(axis=1) == labels))
    assert accuracy >= record["test_accuracy"] - 1e-6


def test_attributes_and_output_shapes(extractors):
    ex = extractors["mnist"]
    assert (ex.feature_dim, ex.num_classes, tuple(ex.input_shape)) == (128, 10, (28, 28, 1))
    assert re.fullmatch(r"domain-mnist-[0-9a-f]{12}", ex.id)
    images, _, _ = bundled.load_arrays("mnist", "test")
    out = ex(_to_float(images[:5]))
    assert set(out) == {"features", "logits", "probs"}
    assert out["features"].shape == (5, 128) and out["features"].dtype == np.float32
    assert out["logits"].shape == (5, 10) and out["logits"].dtype == np.float32
    np.testing.assert_allclose(out["probs"].sum(axis=1), 1.0, atol=1e-5)
    assert (out["features"] >= 0).all()  # ReLU layer


def test_ids_differ_between_datasets(extractors):
    assert extractors["mnist"].id != extractors["fashion_mnist"].id
    assert extractors["fashion_mnist"].id.startswith("domain-fashion_mnist-")


def test_outputs_do_not_depend_on_batch_size(extractors):
    import tensorflow as tf
    ex = extractors["fashion_mnist"]
    images, _, _ = bundled.load_arrays("fashion_mnist", "test")
    x = _to_float(images[:200])
    whole = ex(x[:64])
    parts = [ex(tf.constant(x[i:min(i + 7, 64)])) for i in range(0, 64, 7)]
    for key in ("features", "logits", "probs"):
        np.testing.assert_allclose(np.concatenate([p[key] for p in parts]), whole[key],
                                   atol=1e-5, rtol=0)
    # A batch crossing the internal chunk boundary, and single images.
    big = ex(x)
    np.testing.assert_allclose(big["features"][:64], whole["features"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(ex(x[150:151])["logits"][0], big["logits"][150],
                               atol=1e-5, rtol=0)


def test_rgb_and_other_sizes_are_converted_with_one_warning(caplog):
    ex = domain.DomainExtractor("mnist")
    rng = np.random.default_rng(0)
    rgb = rng.uniform(-1, 1, size=(5, 32, 32, 3)).astype(np.float32)
    with caplog.at_level(logging.WARNING):
        out = ex(rgb)
        out2 = ex(rgb[:2])
    assert out["features"].shape == (5, 128)
    assert out["logits"].shape == (5, 10) and out["probs"].shape == (5, 10)
    np.testing.assert_allclose(out2["logits"], out["logits"][:2], atol=1e-5, rtol=0)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and ex.id in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert "RGB" in warnings[0].getMessage() and "32x32" in warnings[0].getMessage()

    # Grey images repeated over 3 channels score like the grey images themselves.
    grey = _to_float(bundled.load_arrays("mnist", "test")[0][:8])
    np.testing.assert_allclose(ex(np.repeat(grey, 3, axis=-1))["probs"],
                               ex(grey)["probs"], atol=1e-3)


def test_missing_weights_raise_config_error(tmp_path):
    missing = tmp_path / "nowhere" / "mnist.weights.h5"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        domain.DomainExtractor("mnist", weights_path=missing)
    with pytest.raises(ConfigError, match="cifar10"):
        domain.DomainExtractor("cifar10")
