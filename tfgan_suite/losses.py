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
import math

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


# ---------------------------------------------------------------- f-divergences
# f-GAN (Nowozin, Cseke & Tomioka 2016), Table 2: for a convex f with f(1) = 0,
# D_f(P || Q) >= sup_T E_P[T(x)] - E_Q[f*(T(x))]; the critic's output V is
# mapped into the domain of f* by the output activation g_f.
#
# | name | f(u) | g_f(v) | f*(t) |
# |---|---|---|---|
# | kl | u log u | v | exp(t - 1) |
# | reverse_kl | -log u | -exp(-v) | -1 - log(-t) |
# | pearson | (u - 1)^2 | v | t^2 / 4 + t |
# | squared_hellinger | (sqrt(u) - 1)^2 | 1 - exp(-v) | t / (1 - t) |
# | js | -(u + 1) log((1 + u) / 2) + u log u | log 2 - log(1 + exp(-v)) | -log(2 - exp(t)) |
# | gan | u log u - (u + 1) log(u + 1) | -log(1 + exp(-v)) | -log(1 - exp(t)) |
#
# (js is the Jensen-Shannon divergence times 2, as in the paper; gan is
# 2 JS - log 4, the original GAN's.)
LOG2 = math.log(2.0)

#: name -> (g_f, f*), both on float32 tensors.
DIVERGENCES = {
    "kl": (lambda v: v, lambda t: tf.exp(t - 1.0)),
    "reverse_kl": (lambda v: -tf.exp(-v), lambda t: -1.0 - tf.math.log(-t)),
    "pearson": (lambda v: v, lambda t: 0.25 * tf.square(t) + t),
    "squared_hellinger": (lambda v: 1.0 - tf.exp(-v), lambda t: t / (1.0 - t)),
    "js": (lambda v: LOG2 - tf.nn.softplus(-v), lambda t: -tf.math.log(2.0 - tf.exp(t))),
    "gan": (lambda v: -tf.nn.softplus(-v), lambda t: -tf.math.log(1.0 - tf.exp(t))),
}


def conjugate_of_activation(name, v):
    """f*(g_f(v)) in a numerically stable closed form where one exists."""
    v = tf.cast(v, tf.float32)
    if name == "squared_hellinger":  # t / (1 - t) with t = 1 - e^-v
        return tf.exp(v) - 1.0
    if name == "js":  # -log(2 - exp(log2 - softplus(-v))) = softplus(v) - log 2
        return tf.nn.softplus(v) - LOG2
    if name == "gan":  # -log(1 - sigmoid(v)) = softplus(v)
        return tf.nn.softplus(v)
    if name == "reverse_kl":  # -1 - log(exp(-v)) = v - 1
        return v - 1.0
    g, f_star = DIVERGENCES[name]
    return f_star(g(v))


def variational_bound(name, real_v, fake_v):
    """F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]."""
    g, _ = DIVERGENCES[name]
    return (tf.reduce_mean(g(tf.cast(real_v, tf.float32)))
            - tf.reduce_mean(conjugate_of_activation(name, fake_v)))


def f_divergence_critic_loss(name, real_v, fake_v):
    """f-GAN critic loss: the critic maximises the bound F, L_D = -F."""
    return -variational_bound(name, real_v, fake_v)


def f_divergence_generator_loss(name, fake_v):
    """f-GAN generator loss: G minimises F, whose part depending on G is
    -E_Q[f*(g_f(V(G(z))))]."""
    return -tf.reduce_mean(conjugate_of_activation(name, fake_v))


# ----------------------------------------------------------- image-to-image
def _mean_abs(x, y):
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


def l1_loss(target, output):
    """pix2pix's L1 term (Isola et al. 2017, eq. 3): E |y - G(x)|_1, the mean
    absolute error per pixel."""
    return _mean_abs(target, output)


def cycle_loss(x, reconstruction):
    """Cycle-consistency loss (Zhu et al. 2017, eq. 2): E |F(G(x)) - x|_1, per pixel."""
    return _mean_abs(x, reconstruction)


def identity_loss(x, mapped):
    """CycleGAN's identity loss (Zhu et al. 2017, section 5.2): E |G(y) - y|_1, per
    pixel; keeps the colour composition of inputs already in the target domain."""
    return _mean_abs(x, mapped)


def squared_error_to(output, target):
    """Mean (D(.) - target)^2 over every element: CycleGAN's least-squares
    adversarial terms as its reference code writes them (MSE, without LSGAN's
    1/2): the generator minimises it with target 1."""
    return _mean(tf.square(tf.cast(output, tf.float32) - target))


def local_adversarial_loss(logits, label):
    """SimGAN's local adversarial loss (Shrivastava et al. 2017, section 2.3):
    the cross-entropy of every patch logit with ``label`` (1 real, 0 refined),
    summed over the patches of an image, mean over the batch."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), float(label))
    per_patch = tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)
    return tf.reduce_mean(tf.reduce_sum(per_patch, axis=list(range(1, per_patch.shape.rank))))


def self_regularization_loss(x, refined):
    """SimGAN's self-regularisation (Shrivastava et al. 2017, eq. 4 with psi the
    identity): ||R(x) - x||_1 summed over pixels, mean over the batch."""
    diff = tf.abs(tf.cast(refined, tf.float32) - tf.cast(x, tf.float32))
    return tf.reduce_mean(tf.reduce_sum(diff, axis=list(range(1, diff.shape.rank))))


# ----------------------------------------------- class, information, semi-supervised
def class_cross_entropy(labels, logits, mask=None):
    """Mean sparse softmax cross-entropy of ``logits`` [B, K] for ``labels`` [B].

    With ``mask`` [B] (1 = labelled) the mean runs over the labelled examples
    only; a batch without any has loss 0 and no gradient (semi-supervised
    training: unlabelled examples never enter the supervised loss)."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    if mask is None:
        return _mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    mask = tf.cast(mask, tf.float32)
    safe = tf.where(mask > 0, labels, tf.zeros_like(labels))
    per = tf.nn.sparse_softmax_cross_entropy_with_logits(safe, logits) * mask
    return tf.math.divide_no_nan(tf.reduce_sum(per), tf.reduce_sum(mask))


def gaussian_code_nll(code, mean):
    """Negative log-likelihood (up to a constant) of continuous codes under
    Q(c|x) = N(mean, 1) per dimension: 0.5 (c - mean)^2 summed over dims."""
    diff = tf.cast(code, tf.float32) - tf.cast(mean, tf.float32)
    return _mean(0.5 * tf.reduce_sum(tf.square(diff), axis=-1))


def semi_supervised_discriminator_loss(real_logits, fake_logits):
    """Unsupervised part of the K-class discriminator of Salimans et al. (2016):
    with Z(x) = sum_k exp(l_k(x)), D(x) = Z / (Z + 1), so log D(x) =
    lse(l) - softplus(lse(l)) and log(1 - D(x)) = -softplus(lse(l)). Returns
    -E log D(x) - E log(1 - D(G(z)))."""
    real_lse = tf.reduce_logsumexp(tf.cast(real_logits, tf.float32), axis=-1)
    fake_lse = tf.reduce_logsumexp(tf.cast(fake_logits, tf.float32), axis=-1)
    return _mean(tf.nn.softplus(real_lse) - real_lse) + _mean(tf.nn.softplus(fake_lse))


def k_plus_one_discriminator_loss(real_logits, fake_logits):
    """Unsupervised part with an explicit (K+1)-th "fake" logit (last column):
    -E log(1 - p_fake(x)) - E log p_fake(G(z))."""
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    real_lse = tf.reduce_logsumexp(real_logits, axis=-1)
    real_not_fake = tf.reduce_logsumexp(real_logits[:, :-1], axis=-1) - real_lse
    fake_is_fake = fake_logits[:, -1] - tf.reduce_logsumexp(fake_logits, axis=-1)
    return -_mean(real_not_fake) - _mean(fake_is_fake)


def feature_matching_loss(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 over the batch (Salimans et al. 2016, 3.1)."""
    diff = (tf.reduce_mean(tf.cast(real_features, tf.float32), axis=0)
            - tf.reduce_mean(tf.cast(fake_features, tf.float32), axis=0))
    return tf.reduce_sum(tf.square(diff))
