"""Small reusable layers."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgan_suite")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al., "Improved Techniques for
    Training GANs", NeurIPS 2016, section 3.2).

    For features f(x_i) in R^A and a learned tensor T in R^{A x B x C}:
    M_i = f(x_i) T in R^{B x C},  c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1),
    o(x_i)_b = sum_{j != i} c_b(x_i, x_j). The layer returns [f(x_i), o(x_i)], so
    the discriminator sees how close each sample is to the rest of its batch and
    can reject a generator whose samples are too alike (collapsed, or too narrow).
    Statistics are over the batch the layer sees (one replica's batch under a
    distribution strategy).
    """

    def __init__(self, num_kernels=16, kernel_dim=8, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)

    def build(self, input_shape):
        self.t = self.add_weight(
            name="T", shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(0.0, 0.1))

    def call(self, x):
        m = ops.reshape(ops.matmul(x, self.t), (-1, self.num_kernels, self.kernel_dim))
        l1 = ops.sum(ops.abs(m[:, None] - m[None, :]), axis=-1)  # [N, N, B]
        o = ops.sum(ops.exp(-l1), axis=1) - 1.0  # drop the j == i term (exp(0) = 1)
        return ops.concatenate([x, ops.cast(o, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class MinibatchStdDev(keras.layers.Layer):
    """Minibatch standard deviation (Karras et al., "Progressive Growing of
    GANs", ICLR 2018, section 3).

    Appends one feature to every sample: the standard deviation of each
    feature over the batch, averaged over features (and positions for image
    maps). It lets the discriminator see the batch's diversity directly, so a
    generator whose samples are too narrow or collapsed is easy to reject.
    Works on [N, D] and [N, H, W, C]; statistics over one replica's batch, or
    over consecutive groups of ``group_size`` samples (then the same on any
    number of replicas whose batches are multiples of it).
    """

    def __init__(self, epsilon=1e-8, group_size=None, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.group_size = group_size

    def call(self, x):
        shape = ops.shape(x)
        if self.group_size is None:
            groups = x[None]  # one group: the whole batch
        else:
            # Consecutive groups of group_size samples (Progressive GAN: 4), each
            # with its own statistic; the batch must be a multiple of the size.
            size = min(int(self.group_size), int(x.shape[0])) if x.shape[0] else self.group_size
            groups = ops.reshape(x, (-1, size, *x.shape[1:]))
        mean = ops.mean(groups, axis=1, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(groups - mean), axis=1) + self.epsilon)
        stat = ops.mean(ops.reshape(std, (ops.shape(std)[0], -1)), axis=1)  # one per group
        per_sample = ops.reshape(ops.repeat(stat[:, None], ops.shape(groups)[1], axis=1), (-1,))
        feature = ops.ones((*shape[:-1], 1), dtype=x.dtype) * ops.reshape(
            ops.cast(per_sample, x.dtype), (-1, *([1] * (len(x.shape) - 1))))
        return ops.concatenate([x, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016; SRGAN's
    upsampling): [N, H, W, C * r^2] -> [N, r H, r W, C], ``tf.nn.depth_to_space``
    (output pixel (r h + i, r w + j), channel c = input (h, w) channel
    (i r + j) C + c). TFLite runs it as the builtin ``DEPTH_TO_SPACE``."""

    def __init__(self, block_size=2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x):
        import tensorflow as tf
        return tf.nn.depth_to_space(x, self.block_size)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        r = self.block_size
        return (n, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class PReLU(keras.layers.Layer):
    """Parametric ReLU with one learned slope per channel (He et al. 2015),
    f(x) = max(0, x) + a_c min(0, x), for [..., H, W, C] maps (slopes shared over
    space, initialised at ``alpha_init``). Written as relu(x) + relu(-x) * (-a)
    with a of shape [1, 1, C], the form the TFLite converter fuses into its
    builtin ``PRELU`` (Keras' own PReLU multiplies in the other order and
    converts to four ops)."""

    def __init__(self, alpha_init=0.25, **kwargs):
        super().__init__(**kwargs)
        self.alpha_init = float(alpha_init)

    def build(self, input_shape):
        self.alpha = self.add_weight(
            name="alpha", shape=(1,) * (len(input_shape) - 2) + (input_shape[-1],),
            initializer=keras.initializers.Constant(self.alpha_init))

    def call(self, x):
        return ops.relu(x) + ops.relu(-x) * ops.negative(ops.cast(self.alpha, x.dtype))

    def get_config(self):
        return {**super().get_config(), "alpha_init": self.alpha_init}


def _cubic(t, a=-0.5):
    """Keys' cubic convolution kernel (a = -0.5, the kernel of tf.image.resize's bicubic)."""
    t = abs(t)
    if t <= 1:
        return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1
    if t < 2:
        return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a
    return 0.0


def bicubic_phase_kernel(scale, channels):
    """The fixed 5x5 convolution kernel [5, 5, C, scale^2 C] whose outputs,
    rearranged by depth_to_space(scale), are bicubic upsampling by ``scale``
    with half-pixel centres (``tf.image.resize(method="bicubic")``): output
    pixel s i + p samples the input at i + (p + 0.5) / s - 0.5."""
    import numpy as np
    taps = np.zeros((scale, 5))  # phase -> weights of input offsets -2..2
    for p in range(scale):
        x = (p + 0.5) / scale - 0.5
        for k, offset in enumerate(range(-2, 3)):
            taps[p, k] = _cubic(x - offset)
    kernel = np.zeros((5, 5, channels, scale * scale * channels), np.float32)
    for py in range(scale):
        for px in range(scale):
            w2 = np.outer(taps[py], taps[px])
            for c in range(channels):
                kernel[:, :, c, (py * scale + px) * channels + c] = w2
    return kernel


@keras.saving.register_keras_serializable(package="tfgan_suite")
class BicubicUpsample(keras.layers.Layer):
    """Bicubic upsampling by ``scale`` as builtin TFLite ops: a fixed 5x5
    convolution (one output channel per phase and channel) and depth_to_space.
    Equal to ``tf.image.resize(method="bicubic")`` (whose ``RESIZE_BICUBIC`` is
    not a TFLite builtin) at the borders too: like TF, taps falling outside the
    image get no weight and the others are renormalised (the same convolution of
    a map of ones, zero-padded, gives each output's weight sum)."""

    def __init__(self, scale=4, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.scale = int(scale)

    def build(self, input_shape):
        self.channels = int(input_shape[-1])
        self._kernel = bicubic_phase_kernel(self.scale, self.channels)
        self._norm_kernel = bicubic_phase_kernel(self.scale, 1)

    def call(self, x):
        import tensorflow as tf
        y = tf.nn.conv2d(x, tf.constant(self._kernel, x.dtype), 1, "SAME")
        total = tf.nn.conv2d(tf.ones_like(x[..., :1]), tf.constant(self._norm_kernel, x.dtype),
                             1, "SAME")
        return (tf.nn.depth_to_space(y, self.scale)
                / tf.nn.depth_to_space(total, self.scale))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.scale
        return (n, None if h is None else h * s, None if w is None else w * s, c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class AdaIN(keras.layers.Layer):
    """Adaptive instance normalisation (Huang & Belongie 2017):

        AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)

    ``x`` [N, H, W, C] is normalised per sample and channel over H, W; the new
    scale and bias come from the style. Called on ``[x, style]``: a style of
    shape [N, 2C] is (scale, bias) directly (the style-based generator's learned
    affine map of w, with ``scale_offset=1`` so a zero style keeps the
    normalised map); a style map [N, H', W', C] gives its own per-channel mean
    and standard deviation (style transfer).
    """

    def __init__(self, epsilon=1e-5, scale_offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.scale_offset = float(scale_offset)

    def call(self, inputs):
        x, style = inputs
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        var = ops.var(x, axis=(1, 2), keepdims=True)
        normalised = (x - mean) * ops.rsqrt(var + self.epsilon)
        if len(style.shape) == 2:
            scale, bias = ops.split(style, 2, axis=-1)
            scale = scale[:, None, None, :] + self.scale_offset
            bias = bias[:, None, None, :]
        else:
            bias = ops.mean(style, axis=(1, 2), keepdims=True)
            scale = ops.sqrt(ops.var(style, axis=(1, 2), keepdims=True) + self.epsilon)
        return normalised * ops.cast(scale, x.dtype) + ops.cast(bias, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon,
                "scale_offset": self.scale_offset}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class VirtualBatchNormalization(keras.layers.Layer):
    """Virtual batch normalisation (Salimans et al. 2016, section 3.4).

    Each example is normalised with the statistics of a *reference batch*,
    fixed at the start of training, together with the example itself, so its
    output does not depend on the other examples of its minibatch:

        mu_i = (R mu_ref + m_i) / (R + 1),  s_i = (R s_ref + q_i) / (R + 1)
        y_i = gamma (x_i - mu_i) / sqrt(s_i - mu_i^2 + eps) + beta

    where mu_ref, s_ref are the reference batch's mean and mean square per
    channel (over the batch and H, W) and m_i, q_i the example's own (over
    H, W; for [N, D] features the values themselves). The reference examples are
    normalised with the reference statistics alone.

    In training mode the input holds the ``reference_size`` reference examples
    first (the model concatenates them; their activations change with the
    weights, so they go through the network every step) and the layer stores
    their statistics in ``reference_mean`` / ``reference_mean_square``. At
    inference (``training=False``) the input holds examples only and the stored
    statistics stand for the reference batch: an exported graph holds two
    vectors per layer, not the reference batch.
    """

    def __init__(self, reference_size=64, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.reference_size = int(reference_size)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        c = (int(input_shape[-1]),)
        self.gamma = self.add_weight(name="gamma", shape=c, initializer="ones")
        self.beta = self.add_weight(name="beta", shape=c, initializer="zeros")
        self.reference_mean = self.add_weight(
            name="reference_mean", shape=c, initializer="zeros", trainable=False,
            aggregation="mean")
        self.reference_mean_square = self.add_weight(
            name="reference_mean_square", shape=c, initializer="ones", trainable=False,
            aggregation="mean")

    def _normalise(self, x, mean, mean_square):
        # float32 throughout: under mixed precision Keras hands the layer its
        # variables cast to the compute dtype (bfloat16)
        var = ops.maximum(mean_square - ops.square(mean), 0.0)
        return ((x - mean) * ops.rsqrt(var + self.epsilon) * ops.cast(self.gamma, "float32")
                + ops.cast(self.beta, "float32"))

    def call(self, x, training=False):
        x32 = ops.cast(x, "float32")
        spatial = tuple(range(1, len(x.shape) - 1))
        own_mean = ops.mean(x32, axis=spatial, keepdims=True) if spatial else x32
        own_sq = ops.mean(ops.square(x32), axis=spatial, keepdims=True) if spatial \
            else ops.square(x32)
        r = self.reference_size
        w = 1.0 / (r + 1.0)
        if training:
            ref, rest = x32[:r], x32[r:]
            axes = (0,) + spatial
            ref_mean = ops.mean(ref, axis=axes)
            ref_sq = ops.mean(ops.square(ref), axis=axes)
            self.reference_mean.assign(ref_mean)
            self.reference_mean_square.assign(ref_sq)
            out_ref = self._normalise(ref, ref_mean, ref_sq)
            out_rest = self._normalise(rest, (1 - w) * ref_mean + w * own_mean[r:],
                                       (1 - w) * ref_sq + w * own_sq[r:])
            out = ops.concatenate([out_ref, out_rest], axis=0)
        else:
            ref_mean = ops.cast(self.reference_mean, "float32")
            ref_sq = ops.cast(self.reference_mean_square, "float32")
            out = self._normalise(x32, (1 - w) * ref_mean + w * own_mean,
                                  (1 - w) * ref_sq + w * own_sq)
        return ops.cast(out, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size,
                "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class PixelNorm(keras.layers.Layer):
    """Pixel-wise feature normalisation (Karras et al. 2018, section 4.2):
    each pixel's feature vector divided by its root mean square over the
    channels, b = a / sqrt(mean_c(a^2) + eps)."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class _Equalized(keras.layers.Layer):
    """Equalised learning rate (Karras et al. 2018, section 4.1): the stored
    weights are drawn from N(0, 1) and multiplied at run time by the He
    constant gain / sqrt(fan_in), so every weight gets the same effective
    learning rate under Adam whatever its layer's fan-in."""

    def __init__(self, units, gain=2 ** 0.5, use_bias=True, lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)
        self.lr_multiplier = float(lr_multiplier)

    def _make(self, kernel_shape, fan_in):
        self.scale = self.gain / (fan_in ** 0.5) * self.lr_multiplier
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape,
            initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def effective_kernel(self):
        return self.kernel * self.scale

    def _finish(self, y):
        return y + self.bias * self.lr_multiplier if self.use_bias else y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain,
                "use_bias": self.use_bias, "lr_multiplier": self.lr_multiplier}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class EqualizedDense(_Equalized):
    """Dense layer with the equalised learning rate (``_Equalized``)."""

    def build(self, input_shape):
        self._make((int(input_shape[-1]), self.units), int(input_shape[-1]))

    def call(self, x):
        return self._finish(ops.matmul(x, ops.cast(self.effective_kernel(), x.dtype)))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class EqualizedConv2D(_Equalized):
    """'same' convolution with the equalised learning rate (``_Equalized``)."""

    def __init__(self, units, kernel_size=3, **kwargs):
        super().__init__(units, **kwargs)
        self.kernel_size = int(kernel_size)

    def build(self, input_shape):
        c = int(input_shape[-1])
        k = self.kernel_size
        self._make((k, k, c, self.units), k * k * c)

    def call(self, x):
        y = ops.conv(x, ops.cast(self.effective_kernel(), x.dtype), padding="same")
        return self._finish(y)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class WeightNormDense(keras.layers.Layer):
    """Dense layer with weight normalisation (Salimans & Kingma 2016):
    w_j = g_j v_j / ||v_j|| for each output unit j, the length g_j of a unit's
    weight vector apart from its direction v_j. Computed as (x v) * g / ||v||
    (one matmul). ``g`` starts at 1, so each unit first reads its input along a
    unit-length direction. With ``train_scale=False`` g stays fixed: every unit
    keeps a weight vector of length 1 and only its direction (and bias) learns,
    as in the hidden layers of the semi-supervised GAN's discriminator
    (Salimans et al. 2016, whose code trains the scale of the last layer only).
    """

    def __init__(self, units, use_bias=True, train_scale=True, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.train_scale = bool(train_scale)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        # N(0, 0.1) as in the semi-supervised GAN's code: with Adam, a step
        # turns a unit's direction by about lr / 0.1 radians.
        self.kernel = self.add_weight(name="v", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(0.0, 0.1))
        self.g = self.add_weight(name="g", shape=(self.units,), initializer="ones",
                                 trainable=self.train_scale)
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    # Set inside ``initialize_weight_norm``: the next eager calls normalise.
    _initializing = False

    def _scale(self):
        return self.g / ops.sqrt(ops.sum(ops.square(self.kernel), axis=0) + 1e-12)

    def effective_kernel(self):
        """g v / ||v||, column by column: the kernel the layer applies."""
        return self.kernel * self._scale()

    def initialize_from(self, x):
        """Data-dependent initialisation (Salimans & Kingma 2016, section 3):
        with t = x v / ||v|| g on this batch, set g <- g / std(t) and
        b <- -mean(t) / std(t), so that the layer's outputs on the batch have
        mean 0 and variance 1 per unit. Statistics in float32."""
        t = ops.matmul(ops.cast(x, "float32"), ops.cast(self.kernel, "float32")) * ops.cast(
            self._scale(), "float32")
        mean = ops.mean(t, axis=0)
        std = ops.sqrt(ops.var(t, axis=0) + 1e-8)
        self.g.assign(ops.cast(self.g, "float32") / std)
        if self.use_bias:
            self.bias.assign(-mean / std)

    def call(self, x):
        if WeightNormDense._initializing:
            self.initialize_from(x)
        y = ops.matmul(x, ops.cast(self.kernel, x.dtype)) * ops.cast(self._scale(), x.dtype)
        return y + ops.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "train_scale": self.train_scale}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class SelfAttention(keras.layers.Layer):
    """Self-attention block of SAGAN (Zhang et al. 2019), as BigGAN uses it.

    f = W_f x, g = W_g x (C/8 channels), h = W_h x (C/2); beta = softmax over
    positions of f^T g; o = W_o (h beta) back to C channels; y = x + gamma o
    with gamma a learned scalar initialised at 0, so the block starts as the
    identity. BigGAN max-pools g and h 2x2 to cut the attention's cost; so does
    this layer (``pool=True``, needs even H and W).
    """

    def __init__(self, pool=True, **kwargs):
        super().__init__(**kwargs)
        self.pool = bool(pool)

    def build(self, input_shape):
        c = int(input_shape[-1])
        k8, k2 = max(c // 8, 1), max(c // 2, 1)
        conv = keras.layers.Conv2D
        self.f = conv(k8, 1, use_bias=False, name="theta")
        self.g = conv(k8, 1, use_bias=False, name="phi")
        self.h = conv(k2, 1, use_bias=False, name="g")
        self.o = conv(c, 1, use_bias=False, name="o")
        self.f.build(input_shape)
        self.g.build(input_shape)
        self.h.build(input_shape)
        self.o.build((*input_shape[:-1], k2))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, x):
        shape = ops.shape(x)
        n, h, w = shape[0], shape[1], shape[2]
        f = ops.reshape(self.f(x), (n, h * w, -1))
        g, v = self.g(x), self.h(x)
        if self.pool:
            g = ops.max_pool(g, 2, 2)
            v = ops.max_pool(v, 2, 2)
        g = ops.reshape(g, (n, -1, ops.shape(g)[-1]))
        v = ops.reshape(v, (n, -1, ops.shape(v)[-1]))
        attention = ops.softmax(ops.matmul(f, ops.transpose(g, (0, 2, 1))), axis=-1)
        o = ops.reshape(ops.matmul(attention, v), (n, h, w, -1))
        return x + ops.cast(self.gamma, x.dtype) * self.o(o)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool": self.pool}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class ConditionalBatchNorm(keras.layers.Layer):
    """Conditional batch normalisation (de Vries et al. 2017; BigGAN's G):
    BatchNorm without its own affine parameters, then gains 1 + W_g y and
    biases W_b y from a conditioning vector y (BigGAN: the shared class
    embedding concatenated with a chunk of z). Called on ``[x, y]``.
    ``synchronized``: batch statistics over the global batch under a
    distribution strategy (BigGAN's cross-replica BatchNorm)."""

    def __init__(self, momentum=0.99, epsilon=1e-5, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.synchronized = bool(synchronized)

    def build(self, input_shape):
        x_shape, y_shape = input_shape
        c = int(x_shape[-1])
        self.bn = keras.layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon,
                                                  center=False, scale=False, name="bn",
                                                  synchronized=self.synchronized)
        self.bn.build(x_shape)
        self.gain = keras.layers.Dense(c, use_bias=False, kernel_initializer="zeros",
                                       name="gain")
        self.bias = keras.layers.Dense(c, use_bias=False, kernel_initializer="zeros",
                                       name="bias")
        self.gain.build(y_shape)
        self.bias.build(y_shape)

    def call(self, inputs, training=False):
        x, y = inputs
        normalised = self.bn(x, training=training)
        gain = 1.0 + self.gain(y)
        bias = self.bias(y)
        expand = (slice(None),) + (None,) * (len(x.shape) - 2) + (slice(None),)
        return normalised * ops.cast(gain[expand], x.dtype) + ops.cast(bias[expand], x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "synchronized": self.synchronized}


def orthogonal_regularization(kernel, beta=1e-4):
    """BigGAN's orthogonal regularisation (Brock et al. 2019, eq. 3):
    beta ||W^T W * (1 - I)||_F^2 with W the kernel reshaped to [fan_in, units]
    (only the off-diagonal correlations between filters are penalised)."""
    w = ops.reshape(ops.cast(kernel, "float32"), (-1, ops.shape(kernel)[-1]))
    gram = ops.matmul(ops.transpose(w), w)
    off_diagonal = gram * (1.0 - ops.eye(ops.shape(gram)[0]))
    return beta * ops.sum(ops.square(off_diagonal))


def truncate(w, w_average, psi):
    """The truncation trick in a latent space (StyleGAN: w' = w_avg + psi (w - w_avg)):
    psi = 1 leaves w unchanged, psi = 0 gives the average. ``psi`` is cast to
    w's dtype (bfloat16 under mixed precision)."""
    psi = ops.cast(psi, w.dtype)
    return psi * w + (1.0 - psi) * ops.cast(w_average, w.dtype)  # exact at psi = 0 and 1


@keras.saving.register_keras_serializable(package="tfgan_suite")
class SplitFeatures(keras.layers.Layer):
    """[B, sum(sizes)] -> the list of [B, size] chunks (BigGAN's hierarchical z)."""

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = [int(s) for s in sizes]

    def call(self, x):
        offsets, total = [], 0
        for s in self.sizes[:-1]:
            total += s
            offsets.append(total)
        return ops.split(x, offsets, axis=-1)

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], s) for s in self.sizes]

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class GlobalSumPooling2D(keras.layers.Layer):
    """[B, H, W, C] -> [B, C], the sum over positions (BigGAN's D)."""

    def call(self, x):
        return ops.sum(x, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def initialize_weight_norm(model, inputs):
    """Data-dependent initialisation of every ``WeightNormDense`` layer of
    ``model`` (nested models included) from one batch, in the order the layers
    are reached: one eager forward pass in which each layer first rescales
    itself so that its outputs on this batch are standardised, then passes them
    on (the procedure of Salimans & Kingma 2016, used by the semi-supervised
    GAN's code). Noise layers are on (``training=True``), as in that code: the
    statistics include the noise each layer sees in training, which keeps the
    gains g small. Without it (measured on the paper's MNIST discriminator with
    Adam(3e-3)), one update multiplied the logits by 10 and the discriminator
    blew up within a few hundred steps. The noise comes from the layers' seeded
    generators, so runs with one ``--seed`` initialise alike. Returns the
    number of layers initialised."""
    found = [l for l in _all_layers(model) if isinstance(l, WeightNormDense)]
    if not found:
        return 0
    WeightNormDense._initializing = True
    try:
        model(inputs, training=True)
    finally:
        WeightNormDense._initializing = False
    return len(found)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' BatchNormalization whose training call runs TensorFlow's fused
    kernel (``FusedBatchNormV3``: the batch moments and the normalisation in
    one op, its gradient in one more, in the input's own precision: bfloat16
    under mixed precision, where Keras' layer casts to float32 and back).

    Keras 3 writes batch norm as separate moments, casts and element-wise ops;
    in a DCGAN step at batch 64 they were 18% of the op time (profile in the
    README). The moving statistics follow Keras' update exactly (its momentum,
    the biased batch variance). Inference, masks, ``synchronized`` (the
    cross-replica moments), renorm and inputs other than [N, H, W, C] or
    [N, C] with the last axis normalised take Keras' own path; the variables
    are Keras' own, so checkpoints load either way.
    """

    def call(self, inputs, training=None, mask=None):
        rank = len(inputs.shape)
        axis = self.axis if isinstance(self.axis, int) else None
        if (not (training and self.trainable) or mask is not None or self.synchronized
                or self.renorm or rank not in (2, 4) or axis not in (-1, rank - 1)):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf
        x = inputs if rank == 4 else inputs[:, None, None, :]
        if x.dtype not in (tf.float32, tf.bfloat16, tf.float16):
            x = tf.cast(x, tf.float32)
        channels = x.shape[-1]
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels])
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels])
        empty = tf.constant([], tf.float32)
        y, mean, variance = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=scale, offset=offset, mean=empty, variance=empty,
            epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
            is_training=True)[:3]
        # The kernel returns the unbiased variance; Keras averages the biased one.
        count = tf.cast(tf.size(x) // channels, tf.float32)
        variance = variance * tf.maximum(count - 1.0, 1.0) / count
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum
                                    + variance * (1.0 - momentum))
        if rank == 2:
            y = y[:, 0, 0, :]
        return ops.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class FusedInstanceNormalization(keras.layers.GroupNormalization):
    """Instance normalisation (Ulyanov et al. 2016: each sample and channel over
    H and W) as Keras' ``GroupNormalization`` with one group per channel, whose
    training call runs TensorFlow's fused batch-norm kernel.

    The trick: [N, H, W, C] laid out as one sample of N * C channels is a batch
    of one whose per-channel moments are exactly the per-instance ones, so
    ``FusedBatchNormV3`` normalises it in one op (its gradient in one more), in
    the input's precision. Keras writes group norm as reshapes, moments, casts
    and element-wise ops: in a CycleGAN-256 step that is about 30 ops per layer
    to trace, optimise and run, and 2-3x the time of the fused kernel (forward
    and backward, ``tests/test_layers.py``). Inference takes Keras' path, so
    exports (and TFLite's builtin ops) are unchanged; the variables are Keras'
    own, so the suite's checkpoints (``tf.train.Checkpoint``) load either way
    (Keras' ``.weights.h5`` files key weights by class name and do not).
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        kwargs.pop("groups", None)
        super().__init__(groups=-1, epsilon=epsilon, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        return config

    def call(self, inputs, training=None):
        if not (training and self.trainable) or len(inputs.shape) != 4 or self.axis not in (
                -1, 3):
            return super().call(inputs)
        import tensorflow as tf
        x = inputs
        if x.dtype not in (tf.float32, tf.bfloat16, tf.float16):
            x = tf.cast(x, tf.float32)
        c = x.shape[-1]
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([c])
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([c])
        single = x.shape[0] == 1  # [1, H, W, C] already is the layout
        if not single:
            shape = tf.shape(x)
            n, h, w = shape[0], shape[1], shape[2]
            x = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c])
            scale, offset = tf.tile(scale, [n]), tf.tile(offset, [n])
        empty = tf.constant([], tf.float32)
        y = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=scale, offset=offset, mean=empty, variance=empty,
            epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
            is_training=True)[0]
        if not single:
            y = tf.transpose(tf.reshape(y, [h, w, n, c]), [2, 0, 1, 3])
        return ops.cast(y, self.compute_dtype)
