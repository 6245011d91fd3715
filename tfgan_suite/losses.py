"""Adversarial losses as small pure functions.

Every function takes discriminator outputs *as logits* (pre-sigmoid), returns the
mean over all elements (so a PatchGAN map and a single score per sample are
handled alike), and is written with ``softplus`` so it stays finite for any
logit: ``-log(sigmoid(l)) = softplus(-l)`` and ``-log(1 - sigmoid(l)) = softplus(l)``.

Distribution: the functions return the *local* mean. ``GANModel`` divides by the
number of replicas before taking gradients, which turns the per-replica means
into a mean over the global batch (Keras 3 sums gradients over replicas).

Reference: Goodfellow et al., "Generative Adversarial Networks", NeurIPS 2014.
"""
import tensorflow as tf


def _mean(x):
    return tf.reduce_mean(tf.cast(x, tf.float32))


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Discriminator loss of the minimax game (Goodfellow et al. 2014, eq. 1).

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]
            = E[softplus(-l_real)] + E[softplus(l_fake)]

    ``label_smoothing`` = s replaces the real target 1 by 1 - s (one-sided label
    smoothing, Salimans et al. 2016):
    -(1-s) log D(x) - s log(1 - D(x)) = (1-s) softplus(-l) + s softplus(l).
    """
    real_logits = tf.cast(real_logits, tf.float32)
    real_term = (1.0 - label_smoothing) * tf.nn.softplus(-real_logits)
    if label_smoothing:
        real_term += label_smoothing * tf.nn.softplus(real_logits)
    return _mean(real_term) + _mean(tf.nn.softplus(tf.cast(fake_logits, tf.float32)))


def minimax_generator_loss(fake_logits):
    """Generator loss of the minimax game: minimise E_z[log(1 - D(G(z)))].

        L_G = E[log(1 - sigmoid(l_fake))] = -E[softplus(l_fake)]

    Saturates when D confidently rejects fakes (its gradient vanishes as
    l_fake -> -inf); kept for faithfulness and for studying that failure.
    """
    return -_mean(tf.nn.softplus(tf.cast(fake_logits, tf.float32)))


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss (Goodfellow et al. 2014, section 3).

        L_G = -E_z[log D(G(z))] = E[softplus(-l_fake)]

    Same fixed point as the minimax loss, strong gradients early in training.
    """
    return _mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))


GENERATOR_LOSSES = {
    "minimax": minimax_generator_loss,
    "non_saturating": non_saturating_generator_loss,
}


# --------------------------------------------------------------- Wasserstein
def wasserstein_critic_loss(real_scores, fake_scores):
    """WGAN critic loss (Arjovsky et al. 2017): the critic maximises
    E[D(x)] - E[D(G(z))], i.e. minimises L_D = E[D(G(z))] - E[D(x)]."""
    return _mean(fake_scores) - _mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """WGAN generator loss: L_G = -E[D(G(z))]."""
    return -_mean(fake_scores)


# ------------------------------------------------------------- least squares
def least_squares_discriminator_loss(real_out, fake_out, a=0.0, b=1.0):
    """LSGAN (Mao et al. 2017, eq. 2): L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]."""
    return (0.5 * _mean(tf.square(tf.cast(real_out, tf.float32) - b))
            + 0.5 * _mean(tf.square(tf.cast(fake_out, tf.float32) - a)))


def least_squares_generator_loss(fake_out, c=1.0):
    """LSGAN: L_G = 1/2 E[(D(G(z)) - c)^2]."""
    return 0.5 * _mean(tf.square(tf.cast(fake_out, tf.float32) - c))


# ---------------------------------------------------------------------- hinge
def hinge_discriminator_loss(real_out, fake_out):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018):
    L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return (_mean(tf.nn.relu(1.0 - tf.cast(real_out, tf.float32)))
            + _mean(tf.nn.relu(1.0 + tf.cast(fake_out, tf.float32))))


def hinge_generator_loss(fake_out):
    """Hinge generator loss: L_G = -E[D(G(z))]."""
    return -_mean(fake_out)


# ------------------------------------------------------------ energy-based
def reconstruction_energy(x, reconstruction, norm="l2"):
    """Per-sample autoencoder energy: mean over all non-batch axes of
    (x - D(x))^2 (EBGAN, ``l2``) or |x - D(x)| (BEGAN, ``l1``)."""
    diff = tf.cast(x, tf.float32) - tf.cast(reconstruction, tf.float32)
    diff = tf.square(diff) if norm == "l2" else tf.abs(diff)
    return tf.reduce_mean(diff, axis=list(range(1, diff.shape.rank)))


def pulling_away_term(codes):
    """EBGAN's pulling-away term (Zhao et al. 2017, eq. 6):

        PT = 1 / (N (N - 1)) * sum_{i != j} (s_i . s_j / (|s_i| |s_j|))^2

    over the encoder codes s of a batch: 0 when the codes are orthogonal,
    positive when samples share directions (mode collapse)."""
    s = tf.reshape(tf.cast(codes, tf.float32), (tf.shape(codes)[0], -1))
    s = tf.math.l2_normalize(s, axis=1)
    cos2 = tf.square(tf.matmul(s, s, transpose_b=True))
    n = tf.cast(tf.shape(s)[0], tf.float32)
    return (tf.reduce_sum(cos2) - tf.linalg.trace(cos2)) / (n * (n - 1.0))
