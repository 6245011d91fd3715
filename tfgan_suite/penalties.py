"""Regularisers of the discriminator (critic), as pure functions.

Each works inside ``tf.function`` and under ``MirroredStrategy`` (it returns the
per-replica mean, scaled like every loss by ``GANModel``), and computes in
float32 whatever the network's compute dtype. Gradient norms are per sample,
over all non-batch axes. Random draws are made for the global batch and
sliced per replica, and DRAGAN's std runs over the global batch, so N replicas
compute what one device does with the same global batch.
"""
import keras
import tensorflow as tf

from tfgan_suite.distribute import draw_for_global_batch, global_sum


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
    return r1_of_gradients(_input_gradients(critic, tf.cast(real, tf.float32), training))


def r1_of_gradients(grads):
    """R1 from the critic's input gradients on the real batch: 1/2 E||grad||^2."""
    return 0.5 * tf.reduce_mean(_per_sample_sq_norm(grads))


def _input_gradients(critic, points, training):
    # The scope names the penalty's ops (and their double backward) in profiles.
    with tf.name_scope("gradient_penalty"):
        points = tf.convert_to_tensor(points)
        with tf.GradientTape() as tape:
            tape.watch(points)
            out = tf.reduce_sum(tf.cast(critic(points, training=training), tf.float32))
        return tape.gradient(out, points)


def _uniform_like(batch_like, seed, per_sample):
    """U[0, 1] draws, one per sample (broadcastable) or one per element."""
    shape = tf.unstack(tf.shape(batch_like))
    if per_sample:
        shape = shape[:1] + [1] * (batch_like.shape.rank - 1)
    return draw_for_global_batch(
        lambda s: keras.random.uniform(s, seed=seed, dtype=batch_like.dtype), shape)


def _global_std(x):
    """Standard deviation of all elements of ``x`` over every replica's batch."""
    total, total_sq, count = global_sum([
        tf.reduce_sum(x), tf.reduce_sum(tf.square(x)), tf.cast(tf.size(x), x.dtype)])
    mean = total / count
    return tf.sqrt(tf.maximum(total_sq / count - tf.square(mean), 0.0))


def gradient_penalty(critic, real, fake, seed=None, target=1.0, training=True):
    """WGAN-GP penalty (Gulrajani et al., NeurIPS 2017, Algorithm 1).

        GP = E_x_hat[ (||grad_x_hat D(x_hat)||_2 - target)^2 ],
        x_hat = eps * x + (1 - eps) * G(z),   eps ~ U[0, 1], one per sample

    The norm is per sample over all non-batch axes (an image's gradient is one
    vector). The caller multiplies by lambda (10 in the paper). ``seed``: a
    ``keras.random.SeedGenerator`` (or int) for eps.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    eps = _uniform_like(real, seed, per_sample=True)
    x_hat = eps * real + (1.0 - eps) * fake
    norm = tf.sqrt(_per_sample_sq_norm(_input_gradients(critic, x_hat, training)) + 1e-12)
    return tf.reduce_mean(tf.square(norm - target))


def dragan_penalty(critic, real, seed=None, scale=0.5, target=1.0, training=True):
    """DRAGAN penalty (Kodali et al., 2017): the gradient penalty at points
    perturbed around the data.

        x_p = x + delta,  delta = scale * std(x) * U[0, 1] (one draw per element,
        std over the whole global batch),  penalty = E[ (||grad D(x_p)||_2 - target)^2 ]

    The caller multiplies by lambda (10 in the paper).
    """
    real = tf.cast(real, tf.float32)
    std = tf.stop_gradient(_global_std(real))
    delta = scale * std * _uniform_like(real, seed, per_sample=False)
    norm = tf.sqrt(_per_sample_sq_norm(_input_gradients(critic, real + delta, training)) + 1e-12)
    return tf.reduce_mean(tf.square(norm - target))


def clip_weights(model, c):
    """WGAN weight clipping (Arjovsky et al. 2017, Algorithm 1): every trainable
    weight w <- clip(w, -c, c) (c = 0.01 in the paper)."""
    for variable in model.trainable_variables:
        variable.assign(tf.clip_by_value(variable, -c, c))
