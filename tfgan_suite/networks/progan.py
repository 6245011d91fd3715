"""Progressive GAN's networks (Karras et al. 2018, Table 2), grown by stages.

Stage s works at 4 * 2^s pixels. Every layer of every stage is created at
construction, so a checkpoint of any stage holds the same variables; the
python attribute ``stage`` says how much of the network a call runs, and
``alpha`` (a scalar input, 0 -> 1 during a fade) blends the newest block with
the path that skips it:

* G: pixel-normalised z -> 4x4 (dense, 3x3 conv) -> per stage: nearest 2x
  upsampling and two 3x3 convs, each followed by LeakyReLU(0.2) and pixel
  norm; a linear 1x1 ``to_rgb`` per stage. During a fade the output is
  (1 - alpha) * up(to_rgb[s-1](h[s-1])) + alpha * to_rgb[s](h[s]).
* D: mirror image: ``from_rgb`` (1x1) at the input resolution, per stage two
  3x3 convs and 2x2 average pooling; at 4x4 the minibatch-stddev feature, a
  3x3 conv, a dense layer over the 4x4 map and a linear score. During a fade
  the input also goes down the skip path, avgpool then from_rgb[s-1].

Every weight uses the equalised learning rate (``layers.Equalized*``).
"""
import math
import re

import keras
from keras import ops

from tfgan_suite.layers import EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm


def num_stages(size):
    """Stages from 4x4 to ``size`` x ``size`` (a power of two >= 4)."""
    stages = math.log2(size / 4) + 1 if size >= 4 else 0
    if stages != int(stages):
        raise ValueError(f"Progressive GAN grows 4x4 -> 8x8 -> ...; {size} is not 4 x 2^n")
    return int(stages)


def stage_filters(size, fmap_base, fmap_max):
    """Feature maps per stage: min(fmap_max, fmap_base / resolution) (the paper:
    fmap_base 16384, fmap_max 512 gives 512 up to 32x32, then halving)."""
    return [max(1, min(fmap_max, fmap_base // (4 * 2 ** s))) for s in range(num_stages(size))]


def lerp(a, b, t):
    return a + (b - a) * ops.cast(t, a.dtype)


def upsample(x, factor=2):
    return ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2) if factor > 1 else x


def downsample(x, factor=2):
    if factor == 1:
        return x
    return ops.average_pool(x, factor, factor, padding="valid")


class _Grown(keras.Model):
    """Shared by both networks: the python ``stage`` and the build at every stage."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = list(filters)
        self.num_stages = len(self.filters)
        self.stage = self.num_stages - 1

    def build(self, input_shape=None):
        pass  # every variable is made by ``build_every_stage`` at construction

    def runs(self, variable):
        """Whether the current stage's call uses ``variable``: layers are named
        ``s<stage>_...`` (the rgb layers of stages ``stage - 1`` and ``stage``
        only); variables outside such layers always run."""
        for part in variable.path.split("/")[:-1]:
            match = re.match(r"s(\d+)_", part)
            if match:
                t = int(match.group(1))
                if "rgb" in part:
                    return t in (self.stage, self.stage - 1)
                return t <= self.stage
        return True

    def resolution(self, stage=None):
        return 4 * 2 ** (self.stage if stage is None else stage)

    def build_every_stage(self, example_of, pack=lambda x, alpha: (x, alpha)):
        """Create every variable: one call per stage (at alpha 0, so both the
        new block and the skip path run) on ``pack(example_of(stage), alpha)``.

        Layers held in python lists are invisible to ``tf.train.Checkpoint``
        (Keras tracks them for itself only), so each sublayer is made a
        checkpoint dependency under its name here: without it only the
        variables an optimizer reaches would be saved (not the EMA copy's)."""
        for layer in self._flatten_layers(include_self=False, recursive=False):
            self._track_trackable(layer, name=layer.name, overwrite=True)
        keep = self.stage
        for s in range(self.num_stages):
            self.stage = s
            self(pack(example_of(s), ops.zeros(())))
        self.stage = keep


class ProGANGenerator(_Grown):
    """z -> image at the current stage's resolution (linear output)."""

    def __init__(self, latent_dim, channels, filters, **kwargs):
        super().__init__(filters, **kwargs)
        self.latent_dim = int(latent_dim)
        self.pixel_norm = PixelNorm(name="pixel_norm")
        f0 = self.filters[0]
        # The paper's first layer: a 4x4 convolution of the 1x1 latent, i.e. a
        # dense layer (gain sqrt(2) / 4, as in the released code).
        self.dense = EqualizedDense(16 * f0, gain=2 ** 0.5 / 4, name="s0_dense")
        self.convs = [[EqualizedConv2D(f0, 3, name="s0_conv")]]
        for s in range(1, self.num_stages):
            f = self.filters[s]
            self.convs.append([EqualizedConv2D(f, 3, name=f"s{s}_conv0"),
                               EqualizedConv2D(f, 3, name=f"s{s}_conv1")])
        self.to_rgb = [EqualizedConv2D(int(channels), 1, gain=1.0, name=f"s{s}_to_rgb")
                       for s in range(self.num_stages)]
        self.build_every_stage(lambda s: ops.zeros((1, self.latent_dim)))

    def _act(self, x):
        return self.pixel_norm(ops.leaky_relu(x, 0.2))

    def features(self, z, stage):
        """Feature maps of stages ``stage - 1`` and ``stage`` (None for -1)."""
        h = self._act(ops.reshape(self.dense(self.pixel_norm(z)), (-1, 4, 4, self.filters[0])))
        h = self._act(self.convs[0][0](h))
        previous = None
        for s in range(1, stage + 1):
            previous = h
            h = upsample(h)
            for conv in self.convs[s]:
                h = self._act(conv(h))
        return previous, h

    def call(self, inputs, training=None):
        z, alpha = inputs
        previous, h = self.features(z, self.stage)
        out = self.to_rgb[self.stage](h)
        if self.stage > 0:
            out = lerp(upsample(self.to_rgb[self.stage - 1](previous)), out, alpha)
        return ops.cast(out, "float32")  # images stay float32 under mixed precision


class ProGANDiscriminator(_Grown):
    """Image at the current stage's resolution -> one unbounded score."""

    def __init__(self, channels, filters, **kwargs):
        super().__init__(filters, **kwargs)
        self.channels = int(channels)
        f0 = self.filters[0]
        self.from_rgb = [EqualizedConv2D(self.filters[s], 1, name=f"s{s}_from_rgb")
                         for s in range(self.num_stages)]
        self.convs = [[EqualizedConv2D(f0, 3, name="s0_conv")]]
        for s in range(1, self.num_stages):
            self.convs.append([EqualizedConv2D(self.filters[s], 3, name=f"s{s}_conv0"),
                               EqualizedConv2D(self.filters[s - 1], 3, name=f"s{s}_conv1")])
        self.stddev = MinibatchStdDev(group_size=4, name="minibatch_stddev")
        self.dense = EqualizedDense(f0, name="s0_dense")
        self.score = EqualizedDense(1, gain=1.0, name="score")
        self.build_every_stage(lambda s: ops.zeros((2, 4 * 2 ** s, 4 * 2 ** s,
                                                    self.channels)))

    def _block(self, h, s):
        for conv in self.convs[s]:
            h = ops.leaky_relu(conv(h), 0.2)
        return downsample(h)

    def call(self, inputs, training=None):
        x, alpha = inputs
        s = self.stage
        h = ops.leaky_relu(self.from_rgb[s](x), 0.2)
        if s > 0:
            h = self._block(h, s)
            skip = ops.leaky_relu(self.from_rgb[s - 1](downsample(x)), 0.2)
            h = lerp(skip, h, alpha)
            for t in range(s - 1, 0, -1):
                h = self._block(h, t)
        h = self.stddev(h)
        h = ops.leaky_relu(self.convs[0][0](h), 0.2)
        h = ops.leaky_relu(self.dense(ops.reshape(h, (-1, 16 * ops.shape(h)[-1]))), 0.2)
        return self.score(h)
