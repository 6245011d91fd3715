"""BigGAN's networks (Brock, Donahue & Simonyan 2019), sized by the image.

Generator: z is split into ``num_blocks + 1`` chunks (hierarchical latents).
The first chunk is projected to a 4x4 map with 16 ch channels; each residual
up-block (BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3, with an upsample +
conv1x1 shortcut) takes, in both its batch norms, a *conditional* BN whose
gains and biases come from [shared class embedding, its z chunk]; then
BN-ReLU-conv3x3-tanh. A self-attention block follows the up-block that reaches
``attention_resolution``. Every convolution and dense layer is spectrally
normalised.

Discriminator: residual down-blocks (ReLU-conv3x3-ReLU-conv3x3-avgpool, with a
conv1x1 + avgpool shortcut; no leading ReLU in the first block), the same
self-attention at ``attention_resolution``, a last block without pooling,
ReLU, a sum over positions, then the projection head
psi(h) + <embed(y), h> (Miyato & Koyama 2018). Spectral normalisation
everywhere (the class embedding is a plain ``Embedding``).

Channels per resolution follow the paper's ``ch x`` multipliers: 4 ch at
every resolution for images up to 32x32, else 16 ch at 4x4 halving with each
doubling (floor ch).
"""
import keras
from keras import layers

from tfgan_suite.layers import (ConditionalBatchNorm, GlobalSumPooling2D, SelfAttention,
                                SplitFeatures)


def _sn(layer):
    return layers.SpectralNormalization(layer)


def _conv(ch, k, name):
    return _sn(layers.Conv2D(ch, k, padding="same", kernel_initializer="orthogonal",
                             name=name))


def num_blocks(image_size):
    """Up-blocks from 4x4 to ``image_size`` (a power-of-two multiple of 4)."""
    size, n = int(image_size), 0
    while size > 4 and size % 2 == 0:
        size //= 2
        n += 1
    if size != 4 or n == 0:
        raise ValueError(f"BigGAN needs an image size of 4 x 2^n (8, 16, 32, 64, 128, ...); "
                         f"got {image_size} (resize with --image_size=32)")
    return n


def _channels(ch, n):
    """Channels at each resolution 4, 8, ... (n + 1 entries): 4 ch everywhere up
    to 32x32 images (the paper's CIFAR networks), else 16 ch at 4x4 halving with
    each doubling down to ch (its ImageNet networks)."""
    if n <= 3:
        return [4 * ch] * (n + 1)
    return [max(ch, ch * 16 // 2 ** i) for i in range(n + 1)]


def biggan_generator(latent_dim, num_classes, image_shape, ch=32, embedding_dim=128,
                     attention_resolution=16, name="generator"):
    """[z [B, latent_dim], labels [B]] -> image [B, H, W, C] in [-1, 1]."""
    h, w, c = image_shape
    n = num_blocks(h)
    if h != w:
        raise ValueError(f"BigGAN expects square images, got {h}x{w}")
    chunks = n + 1
    if latent_dim < chunks:
        raise ValueError(f"--latent_dim={latent_dim} cannot be split into {chunks} chunks")
    sizes = [latent_dim // chunks] * chunks
    sizes[0] += latent_dim - sum(sizes)
    channels = _channels(ch, n)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    parts = SplitFeatures(sizes, name="z_chunks")(z)
    shared = layers.Reshape((embedding_dim,), name="shared_embedding_flat")(
        layers.Embedding(num_classes, embedding_dim, name="shared_embedding")(labels))
    x = _sn(layers.Dense(4 * 4 * channels[0], name="project"))(parts[0])
    x = layers.Reshape((4, 4, channels[0]), name="project_map")(x)
    size = 4
    for i in range(n):
        cond = layers.Concatenate(name=f"up_{i}_condition")([shared, parts[i + 1]])
        out_ch = channels[i + 1]
        y = ConditionalBatchNorm(synchronized=True, name=f"up_{i}_cbn_a")([x, cond])
        y = layers.ReLU(name=f"up_{i}_relu_a")(y)
        y = layers.UpSampling2D(2, name=f"up_{i}_upsample")(y)
        y = _conv(out_ch, 3, f"up_{i}_conv_a")(y)
        y = ConditionalBatchNorm(synchronized=True, name=f"up_{i}_cbn_b")([y, cond])
        y = layers.ReLU(name=f"up_{i}_relu_b")(y)
        y = _conv(out_ch, 3, f"up_{i}_conv_b")(y)
        s = layers.UpSampling2D(2, name=f"up_{i}_skip_upsample")(x)
        s = _conv(out_ch, 1, f"up_{i}_skip_conv")(s)
        x = layers.Add(name=f"up_{i}_add")([y, s])
        size *= 2
        if size == attention_resolution:
            x = SelfAttention(name="attention")(x)
    x = layers.BatchNormalization(synchronized=True, name="out_bn")(x)  # cross-replica, as the paper
    x = layers.ReLU(name="out_relu")(x)
    x = _conv(c, 3, "to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model([z, labels], x, name=name)


def biggan_discriminator(image_shape, num_classes, ch=32, attention_resolution=16,
                         name="discriminator"):
    """[images, labels] -> one score per sample [B, 1] (projection head)."""
    h, w, c = image_shape
    n = num_blocks(h)
    channels = list(reversed(_channels(ch, n)))  # at H, H/2, ..., 4
    image = keras.Input(tuple(image_shape), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    x = image
    size = h
    for i in range(n):
        out_ch = channels[i + 1]
        y = x if i == 0 else layers.ReLU(name=f"down_{i}_relu_a")(x)
        y = _conv(out_ch, 3, f"down_{i}_conv_a")(y)
        y = layers.ReLU(name=f"down_{i}_relu_b")(y)
        y = _conv(out_ch, 3, f"down_{i}_conv_b")(y)
        y = layers.AveragePooling2D(2, name=f"down_{i}_pool")(y)
        if i == 0:  # pool first, then project, as the paper's first block
            s = _conv(out_ch, 1, f"down_{i}_skip_conv")(
                layers.AveragePooling2D(2, name=f"down_{i}_skip_pool")(x))
        else:
            s = layers.AveragePooling2D(2, name=f"down_{i}_skip_pool")(
                _conv(out_ch, 1, f"down_{i}_skip_conv")(x))
        x = layers.Add(name=f"down_{i}_add")([y, s])
        size //= 2
        if size == attention_resolution:
            x = SelfAttention(name="attention")(x)
    y = layers.ReLU(name="last_relu_a")(x)
    y = _conv(channels[-1], 3, "last_conv_a")(y)
    y = layers.ReLU(name="last_relu_b")(y)
    y = _conv(channels[-1], 3, "last_conv_b")(y)
    x = layers.Add(name="last_add")([x, y])
    x = layers.ReLU(name="features_relu")(x)
    features = GlobalSumPooling2D(name="features")(x)
    psi = _sn(layers.Dense(1, name="psi"))(features)
    embedded = layers.Reshape((channels[-1],), name="class_embedding_flat")(
        layers.Embedding(num_classes, channels[-1], name="class_embedding")(labels))
    projection = layers.Dot(axes=1, name="projection")([embedded, features])
    logit = layers.Add(name="logit_sum")([psi, projection])
    logit = layers.Activation("linear", dtype="float32", name="logit")(logit)
    return keras.Model([image, labels], logit, name=name)
