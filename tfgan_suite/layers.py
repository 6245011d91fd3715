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
    Works on [N, D] and [N, H, W, C]; statistics over one replica's batch.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x):
        mean = ops.mean(x, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(x - mean), axis=0) + self.epsilon)
        stat = ops.mean(std)
        shape = ops.shape(x)
        feature = ops.ones((*shape[:-1], 1), dtype=x.dtype) * ops.cast(stat, x.dtype)
        return ops.concatenate([x, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
