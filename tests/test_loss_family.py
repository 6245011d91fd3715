"""The loss family: penalties, clipping, f-divergences, energies, and every model training."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data, losses, penalties
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.base import call_frozen

LOSS_FAMILY = ["wgan", "wgan_gp", "lsgan", "dragan", "fgan", "ebgan", "began", "hinge", "sngan"]


def fixed_batch_losses(m, real, z):
    """(D loss, G loss) of model ``m`` on a fixed batch and noise, both networks
    in training mode, nothing updated."""
    real_batch = {"images": real}
    fake = {"z": z, "images": call_frozen(m.generator, z)}
    real_out = call_frozen(m.discriminator, real)
    fake_out = call_frozen(m.discriminator, fake["images"])
    d_loss, _ = m.discriminator_loss(real_batch, fake, real_out, fake_out)
    g_loss, _ = m.generator_loss(real_batch, fake, fake_out)
    return float(d_loss), float(g_loss)


def _linear_critic(shape, w, b=0.3):
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                               keras.layers.Dense(1)])
    critic.layers[-1].set_weights([w.reshape(-1, 1).astype("float32"), np.array([b], "float32")])
    return critic


@pytest.mark.parametrize("shape", [(3,), (4, 4, 2)])
def test_penalties_of_a_linear_critic_are_exact(shape):
    """D(x) = w.x + b has gradient w everywhere: GP = DRAGAN = (||w|| - 1)^2 and
    R1 = ||w||^2 / 2, whatever the points - only if the norm is taken per sample
    over all non-batch axes (a norm over the batch or per pixel would differ)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=int(np.prod(shape))) * 0.7
    critic = _linear_critic(shape, w)
    real = rng.normal(size=(5, *shape)).astype("float32")
    fake = rng.normal(size=(5, *shape)).astype("float32")
    expected = (np.linalg.norm(w) - 1.0) ** 2
    seed = keras.random.SeedGenerator(1)
    assert float(penalties.gradient_penalty(critic, real, fake, seed=seed)) == pytest.approx(
        expected, rel=1e-5)
    assert float(penalties.dragan_penalty(critic, real, seed=seed)) == pytest.approx(
        expected, rel=1e-5)
    assert float(penalties.r1_penalty(critic, real)) == pytest.approx(
        0.5 * np.linalg.norm(w) ** 2, rel=1e-5)


def test_gradient_penalty_interpolates_per_sample():
    """For D(x) = ||x||^2 / 2, grad = x_hat: the penalty reveals where x_hat is. With
    real = +1 and fake = -1 everywhere, x_hat = (2 eps - 1) * 1 per sample: its
    norm is |2 eps - 1| * sqrt(d), constant over each sample's elements."""
    class Quadratic(keras.Model):
        def call(self, x, training=False):
            return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    d = 4 * 4 * 2
    real, fake = np.ones((2000, 4, 4, 2), "float32"), -np.ones((2000, 4, 4, 2), "float32")
    gp = float(penalties.gradient_penalty(Quadratic(), real, fake,
                                          seed=keras.random.SeedGenerator(0)))
    # s = |2e - 1| ~ U[0, 1]: E[(s sqrt(d) - 1)^2] = d/3 - sqrt(d) + 1
    assert gp == pytest.approx(d / 3 - math.sqrt(d) + 1, rel=0.05)


@pytest.mark.parametrize("name", ["wgan_gp", "dragan"])
@pytest.mark.parametrize("bad, message", [(dict(d_norm="batch"), "cannot use BatchNorm"),
                                          (dict(minibatch_stddev=True), "--minibatch_stddev")])
def test_penalised_critics_refuse_settings_that_couple_samples(name, bad, message):
    tg.build(name, (8, 8, 1), d_filters=4, g_filters=4)  # the defaults are accepted
    with pytest.raises(ConfigError, match=f"--model={name}: .*{message}"):
        tg.build(name, (8, 8, 1), d_filters=4, g_filters=4, **bad)


def test_wgan_clips_every_critic_weight():
    keras.utils.set_random_seed(0)
    m = tg.build("wgan", (16, 16, 1), g_filters=4, d_filters=4, latent_dim=4, seed=0,
                 d_learning_rate=0.05, clip_value=0.01)
    ds = tf.data.Dataset.from_tensors(tf.random.uniform((5 * 8, 16, 16, 1), -1, 1)).repeat()
    m.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
    for v in m.discriminator.trainable_variables:
        assert np.abs(v.numpy()).max() <= 0.01 + 1e-7, v.path
    assert any(np.isclose(np.abs(v.numpy()).max(), 0.01) for v in
               m.discriminator.trainable_variables)  # the bound is reached, not just respected


def _numerical_conjugate(f, t, u=np.geomspace(1e-6, 1e4, 400001)):
    return np.max(u * t - f(u))


F = {
    "kl": lambda u: u * np.log(u),
    "reverse_kl": lambda u: -np.log(u),
    "pearson": lambda u: (u - 1) ** 2,
    "squared_hellinger": lambda u: (np.sqrt(u) - 1) ** 2,
    "js": lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u),
    "gan": lambda u: u * np.log(u) - (u + 1) * np.log(u + 1),
}
T_POINTS = {"kl": [-1.0, 0.0, 1.5], "reverse_kl": [-3.0, -1.0, -0.2],
            "pearson": [-1.5, 0.0, 2.0], "squared_hellinger": [-2.0, 0.0, 0.5],
            "js": [-1.0, 0.0, 0.5], "gan": [-2.0, -0.5, -0.1]}


@pytest.mark.parametrize("name", sorted(losses.DIVERGENCES))
def test_f_star_is_the_convex_conjugate_and_g_f_maps_into_its_domain(name):
    g, f_star = losses.DIVERGENCES[name]
    for t in T_POINTS[name]:
        assert float(f_star(tf.constant(t))) == pytest.approx(
            _numerical_conjugate(F[name], t), abs=2e-3)
    v = tf.constant(np.linspace(-4, 4, 17), tf.float32)
    direct = f_star(g(v)).numpy()
    assert np.all(np.isfinite(direct))
    np.testing.assert_allclose(losses.conjugate_of_activation(name, v).numpy(), direct,
                               rtol=1e-4, atol=1e-5)


def test_fgan_critic_estimates_a_known_kl():
    """Maximising F over a critic on samples of P = N(0, 1), Q = N(1, 1) gives
    KL(P || Q) = 0.5 (the bound is tight at T = 1 + log p/q)."""
    keras.utils.set_random_seed(0)
    critic = keras.Sequential([keras.Input((1,)), keras.layers.Dense(32, activation="tanh"),
                               keras.layers.Dense(1)])
    opt = keras.optimizers.Adam(3e-3)

    @tf.function
    def step(p, q):
        with tf.GradientTape() as tape:
            bound = losses.variational_bound("kl", critic(p), critic(q))
            loss = -bound
        grads = tape.gradient(loss, critic.trainable_variables)
        opt.apply_gradients(zip(grads, critic.trainable_variables))
        return bound

    for i in range(1500):
        step(tf.random.normal((512, 1), seed=i), tf.random.normal((512, 1), 1.0, seed=10**6 + i))
    p, q = tf.random.normal((200000, 1), seed=7), tf.random.normal((200000, 1), 1.0, seed=8)
    assert float(losses.variational_bound("kl", critic(p), critic(q))) == pytest.approx(0.5, abs=0.07)


def test_pulling_away_term():
    assert float(losses.pulling_away_term(tf.eye(4))) == pytest.approx(0.0, abs=1e-7)
    assert float(losses.pulling_away_term(tf.ones((3, 5)))) == pytest.approx(1.0, rel=1e-6)
    codes = tf.constant([[1.0, 0.0], [1.0, 1.0]])  # 45 degrees apart: cos^2 = 1/2
    assert float(losses.pulling_away_term(codes)) == pytest.approx(0.5, rel=1e-6)


def test_began_k_stays_in_unit_interval():
    keras.utils.set_random_seed(0)
    m = tg.build("began", (2,), seed=0, lambda_k=0.5)  # a big lambda_k pushes k to the bounds
    ds = data.load("toy:ring8").dataset(32, seed=0)
    seen = []
    for _ in range(6):
        m.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
        seen.append(float(m.k_t.numpy()))
    assert all(0.0 <= k <= 1.0 for k in seen)
    assert max(seen) > 0.0  # k moved


@pytest.mark.parametrize("name", LOSS_FAMILY + ["gan"])
@pytest.mark.parametrize("shape", [(2,), (16, 16, 1)], ids=["ring8", "image16"])
def test_every_model_trains_and_its_losses_move_as_the_paper_says(name, shape):
    keras.utils.set_random_seed(1)
    small = dict(g_filters=4, d_filters=4) if len(shape) == 3 else {}
    m = tg.build(name, shape, seed=1, latent_dim=4, disc_steps=1, g_learning_rate=1e-3,
                 d_learning_rate=1e-3, **small)
    rng = np.random.default_rng(0)
    if len(shape) == 1:
        real = next(iter(data.load("toy:ring8").dataset(64, seed=0)))
    else:
        real = tf.constant(np.tanh(rng.normal(size=(16, *shape))).astype("float32"))
    ds = tf.data.Dataset.from_tensors(real).repeat()
    logs = m.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[0]) for v in logs.values()), logs

    z = tf.constant(rng.normal(size=(real.shape[0], 4)).astype("float32"))
    step_d, step_g = tf.function(m.discriminator_step), tf.function(m.generator_step)
    d_before, _ = fixed_batch_losses(m, real, z)
    for _ in range(10):
        step_d({"images": real})
    d_after, g_before = fixed_batch_losses(m, real, z)
    for _ in range(10):
        step_g({"images": real})
    _, g_after = fixed_batch_losses(m, real, z)
    assert d_after < d_before, (d_before, d_after)  # D/critic improves its objective
    assert g_after < g_before, (g_before, g_after)  # so does G against the frozen D
