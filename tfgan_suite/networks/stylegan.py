"""StyleGAN's generator (Karras, Laine & Aila, CVPR 2019), on the growing stages
of ``networks.progan`` (its discriminator is Progressive GAN's).

* Mapping network f: pixel-normalised z -> ``mapping_layers`` equalised dense
  layers with LeakyReLU(0.2) and a 0.01 learning-rate multiplier -> w.
* Synthesis network g: a learned constant 4x4 input; two style layers per
  resolution (the first of each later resolution after a nearest 2x
  upsampling): 3x3 conv (none for the constant), per-pixel noise scaled per
  channel by learned factors (zero at the start), bias, LeakyReLU(0.2), then
  AdaIN with the layer's style, a learned affine map of its w (``layers.AdaIN``,
  scale 1 + A(w)). A linear 1x1 ``to_rgb`` per stage, faded in as in ProGAN.
* Style mixing: layer l takes w(z) before ``crossover`` and w(z2) from it on
  (one crossover per sample; the number of layers: no mixing).
* The truncation trick: w' = w_avg + psi (w - w_avg), w_avg the moving
  average of w over training (decay 0.995), kept in the network.
* Noise: fresh N(0, 1) maps in training; in inference a fixed map per layer
  drawn once at construction, so samples, exports and TFLite are deterministic.
"""
import keras
from keras import ops

from tfgan_suite.distribute import draw_for_global_batch
from tfgan_suite.layers import AdaIN, EqualizedConv2D, EqualizedDense, PixelNorm, truncate
from tfgan_suite.networks.progan import _Grown, lerp, upsample


class StyleLayer(keras.layers.Layer):
    """[conv] -> + noise * per-channel scale -> + bias -> LeakyReLU -> AdaIN(style(w))."""

    def __init__(self, filters, size, conv, seed, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.size = int(filters), int(size)
        self.conv = EqualizedConv2D(self.filters, 3, use_bias=False, name="conv") if conv else None
        self.style = EqualizedDense(2 * self.filters, gain=1.0, name="style")
        self.adain = AdaIN(scale_offset=1.0, name="adain")
        self.seed = int(seed)
        self.noise_rng = keras.random.SeedGenerator(self.seed)
        # checkpointed, so a resumed run draws the noise it would have drawn
        self._track_trackable(self.noise_rng.state, name="noise_rng_state", overwrite=True)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        if self.conv is not None:
            self.conv.build(x_shape)
        self.style.build(w_shape)
        self.noise_scale = self.add_weight(name="noise_scale", shape=(self.filters,),
                                           initializer="zeros")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.noise_const = self.add_weight(
            name="noise_const", shape=(1, self.size, self.size, 1), trainable=False,
            initializer=keras.initializers.RandomNormal(seed=self.seed))

    def call(self, inputs, training=None):
        x, w = inputs
        if self.conv is not None:
            x = self.conv(x)
        if training:
            shape = ops.shape(x)
            noise = draw_for_global_batch(
                lambda s: keras.random.normal(s, seed=self.noise_rng, dtype=x.dtype),
                (shape[0], self.size, self.size, 1))
        else:
            noise = ops.cast(self.noise_const, x.dtype)
        x = x + noise * ops.cast(self.noise_scale, x.dtype)
        x = ops.leaky_relu(x + ops.cast(self.bias, x.dtype), 0.2)
        return self.adain([x, self.style(w)])


class StyleGANGenerator(_Grown):
    """(z, z2, crossover, psi, alpha) -> image at the current stage's resolution."""

    def __init__(self, latent_dim, w_dim, mapping_layers, channels, filters, seed=0,
                 w_avg_decay=0.995, **kwargs):
        super().__init__(filters, **kwargs)
        self.latent_dim, self.w_dim = int(latent_dim), int(w_dim)
        self.num_layers = 2 * self.num_stages
        self.w_avg_decay = float(w_avg_decay)
        self.pixel_norm = PixelNorm(name="pixel_norm")
        self.mapping = [EqualizedDense(self.w_dim, lr_multiplier=0.01, name=f"mapping_{i}")
                        for i in range(int(mapping_layers))]
        self.style_layers = []
        for s in range(self.num_stages):
            for j in range(2):
                self.style_layers.append(StyleLayer(
                    self.filters[s], 4 * 2 ** s, conv=(s, j) != (0, 0),
                    seed=int(seed) * 1000 + 2 * s + j, name=f"s{s}_layer{j}"))
        self.to_rgb = [EqualizedConv2D(int(channels), 1, gain=1.0, name=f"s{s}_to_rgb")
                       for s in range(self.num_stages)]
        # N(0, 1) (StyleGAN 2's choice; the first paper's ones make the first
        # AdaIN normalise a constant map, 0/0 up to rounding).
        self.const = self.add_weight(name="const", shape=(1, 4, 4, self.filters[0]),
                                     initializer=keras.initializers.RandomNormal(seed=seed))
        self.w_avg = self.add_weight(name="w_avg", shape=(self.w_dim,), initializer="zeros",
                                     trainable=False, aggregation="mean")
        n = ops.zeros((2,), "int32")
        self.build_every_stage(lambda s: ops.zeros((2, self.latent_dim)),
                               lambda x, alpha: (x, x, n + self.num_layers, ops.ones(()), alpha))

    def layers_at(self, stage=None):
        """Style layers the stage runs (2 per resolution)."""
        return 2 * ((self.stage if stage is None else stage) + 1)

    def map(self, z):
        """w = f(z)."""
        w = self.pixel_norm(z)
        for dense in self.mapping:
            w = ops.leaky_relu(dense(w), 0.2)
        return w

    def styles(self, z, z2, crossover, psi, training=None):
        """[N, layers, w_dim]: w(z) before ``crossover``, w(z2) from it, truncated."""
        w1, w2 = self.map(z), self.map(z2)
        if training:  # track the average w (frozen calls drop the assignment)
            decay = self.w_avg_decay
            self.w_avg.assign(decay * self.w_avg + (1.0 - decay)  # float32 under mixed precision
                              * ops.cast(ops.mean(w1, axis=0), self.w_avg.dtype))
        w_avg = ops.cast(self.w_avg, w1.dtype)
        w1, w2 = truncate(w1, w_avg, psi), truncate(w2, w_avg, psi)
        layer = ops.arange(self.num_layers)[None, :, None]
        second = layer >= ops.reshape(ops.cast(crossover, "int32"), (-1, 1, 1))
        return ops.where(second, w2[:, None, :], w1[:, None, :])

    def synthesis(self, ws, alpha, training=None):
        x = ops.tile(ops.cast(self.const, ws.dtype), (ops.shape(ws)[0], 1, 1, 1))
        previous = None
        for s in range(self.stage + 1):
            if s > 0:
                previous = x
                x = upsample(x)
            for j in range(2):
                x = self.style_layers[2 * s + j]((x, ws[:, 2 * s + j]), training=training)
        out = self.to_rgb[self.stage](x)
        if self.stage > 0:
            out = lerp(upsample(self.to_rgb[self.stage - 1](previous)), out, alpha)
        return ops.cast(out, "float32")  # images stay float32 under mixed precision

    def call(self, inputs, training=None):
        z, z2, crossover, psi, alpha = inputs
        return self.synthesis(self.styles(z, z2, crossover, psi, training), alpha, training)
