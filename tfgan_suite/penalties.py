"""Regularisers of the discriminator (critic), as pure functions.

Each works inside ``tf.function`` and under ``MirroredStrategy`` (it returns the
per-replica mean, scaled like every loss by ``GANModel``), and computes in
float32 whatever the network's compute dtype. Gradient norms are per sample,
over all non-batch axes.
"""
import tensorflow as tf


def _per_sample_sq_norm(grads):
    grads = tf.cast(grads, tf.float32)
    return tf.reduce_sum(tf.square(grads), axis=list(range(1, grads.shape.rank)))


def r1_penalty(critic, real, training=True):
    """R1 regulariser of Mescheder, Geiger & Nowozin (ICML 2018).

        R1 = 1/2 * E_x[ ||grad_x D(x)||_2^2 ]     over real samples x

    (the caller multiplies by gamma). Penalising the critic's gradient on the
    data makes the GAN game locally convergent where plain gradient descent
    circles around the equilibrium.
    """
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        out = tf.reduce_sum(tf.cast(critic(real, training=training), tf.float32))
    return 0.5 * tf.reduce_mean(_per_sample_sq_norm(tape.gradient(out, real)))
