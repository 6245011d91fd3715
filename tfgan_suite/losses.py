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
