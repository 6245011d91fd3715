"""Losses against values computed by hand with the textbook formulas."""
import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite import losses


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


REAL = [0.0, 2.0, -0.5]
FAKE = [-1.0, 1.0, 3.0]


def test_minimax_discriminator_loss_matches_formula():
    # -E[log D(x)] - E[log(1 - D(G(z)))]
    expected = (-np.mean([math.log(sigmoid(l)) for l in REAL])
                - np.mean([math.log(1 - sigmoid(l)) for l in FAKE]))
    got = losses.minimax_discriminator_loss(tf.constant(REAL), tf.constant(FAKE))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_label_smoothing_replaces_real_target():
    s = 0.1
    expected = (-np.mean([(1 - s) * math.log(sigmoid(l)) + s * math.log(1 - sigmoid(l))
                          for l in REAL])
                - np.mean([math.log(1 - sigmoid(l)) for l in FAKE]))
    got = losses.minimax_discriminator_loss(tf.constant(REAL), tf.constant(FAKE), 0.1)
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_formulas():
    minimax = np.mean([math.log(1 - sigmoid(l)) for l in FAKE])
    non_sat = -np.mean([math.log(sigmoid(l)) for l in FAKE])
    assert float(losses.minimax_generator_loss(tf.constant(FAKE))) == pytest.approx(minimax, rel=1e-6)
    assert float(losses.non_saturating_generator_loss(tf.constant(FAKE))) == pytest.approx(
        non_sat, rel=1e-6)
    # Known value: at logit 0, D = 1/2, so -log D = log 2.
    assert float(losses.non_saturating_generator_loss(tf.zeros([4, 1]))) == pytest.approx(
        math.log(2.0), rel=1e-6)


def test_losses_are_finite_for_extreme_logits():
    big = tf.constant([-200.0, 200.0])
    for value in (losses.minimax_discriminator_loss(big, big),
                  losses.minimax_generator_loss(big),
                  losses.non_saturating_generator_loss(big)):
        assert np.isfinite(float(value))


def test_non_saturating_keeps_gradient_where_minimax_saturates():
    """When D confidently rejects a fake (logit -10), the minimax loss gives
    (almost) no gradient and the non-saturating loss a gradient of about 1."""
    logit = tf.Variable([-10.0])
    with tf.GradientTape(persistent=True) as tape:
        mm = losses.minimax_generator_loss(logit)
        ns = losses.non_saturating_generator_loss(logit)
    g_mm = float(tape.gradient(mm, logit)[0])
    g_ns = float(tape.gradient(ns, logit)[0])
    assert abs(g_mm) == pytest.approx(sigmoid(-10.0), rel=1e-4)  # ~4.5e-5
    assert abs(g_ns) == pytest.approx(1 - sigmoid(-10.0), rel=1e-4)  # ~1


def test_patch_outputs_are_averaged_over_all_elements():
    logits = tf.constant(np.random.default_rng(0).normal(size=(2, 3, 3, 1)), tf.float32)
    flat = tf.reshape(logits, [-1])
    assert float(losses.non_saturating_generator_loss(logits)) == pytest.approx(
        float(losses.non_saturating_generator_loss(flat)), rel=1e-6)


def test_cycle_and_identity_losses_on_known_tensors():
    x = tf.constant([[[[1.0], [-1.0]]]])
    y = tf.constant([[[[0.5], [0.0]]]])
    assert float(losses.cycle_loss(x, y)) == pytest.approx((0.5 + 1.0) / 2)
    assert float(losses.identity_loss(x, x)) == 0.0
    assert float(losses.identity_loss(x, -x)) == pytest.approx(2.0)
