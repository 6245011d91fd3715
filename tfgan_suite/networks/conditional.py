"""Networks of the conditional and latent-code GANs (CGAN, ACGAN, InfoGAN, SGAN).

They reuse the MLP and DCGAN trunks of ``mlp.py`` / ``dcgan.py`` and add what
the conditioning needs:

* ``conditional_generator``: named inputs ``z`` plus codes (class labels as
  int32 ids, InfoGAN's categorical and continuous codes), each code encoded
  (one-hot, or a learned embedding for labels) and concatenated to z before the
  trunk (Mirza & Osindero 2014; Chen et al. 2016).
* ``discriminator_features``: a trunk that stops before the logit and returns
  the flattened features, on which heads are put: a logit, a class head
  (ACGAN), a Q head (InfoGAN), K class logits (SGAN), a projection
  (Miyato & Koyama 2018).
* ``concat_discriminator``: CGAN's D seeing the label as one-hot maps
  concatenated to the image channels (or to the flattened input of an MLP).
"""
import math

import keras
from keras import layers, ops

from tfgan_suite.networks import builders


@keras.saving.register_keras_serializable(package="tfgan_suite")
class OneHot(layers.Layer):
    """int ids [B] -> float one-hot [B, depth] (TFLite builtin ONE_HOT)."""

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, ids):
        return ops.one_hot(ops.cast(ops.reshape(ids, (-1,)), "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class LabelMaps(layers.Layer):
    """[B, K] codes -> [B, H, W, K] constant maps, to concatenate to images."""

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, codes):
        return ops.tile(codes[:, None, None, :], (1, self.height, self.width, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def label_input(name="labels"):
    return keras.Input((), dtype="int32", name=name)


def encode_labels(labels, num_classes, mode="onehot", dim=50, name="labels"):
    """Label ids -> a float code: ``onehot`` [B, K] or ``embedding`` [B, dim]."""
    if mode == "onehot":
        return OneHot(num_classes, name=f"{name}_onehot")(labels)
    if mode == "embedding":
        x = layers.Embedding(num_classes, dim, name=f"{name}_embedding")(labels)
        return layers.Reshape((dim,), name=f"{name}_code")(x)
    raise ValueError(f"label encoding must be onehot or embedding, got {mode!r}")


def generator_trunk(hp, input_dim, data_shape):
    """The MLP or DCGAN generator taking an ``input_dim`` vector."""
    return builders.generator(hp, input_dim, data_shape, name="trunk")


def conditional_generator(hp, data_shape, codes, name="generator"):
    """Generator with inputs ``z`` and ``codes``: {name: (keras.Input, float code)}.

    The codes are concatenated to z, in order, and fed to the trunk."""
    z = keras.Input((hp["latent_dim"],), name="z")
    parts = [z] + [code for _, code in codes.values()]
    x = layers.Concatenate(name="z_and_codes")(parts)
    trunk = generator_trunk(hp, int(x.shape[-1]), data_shape)
    inputs = [z] + [inp for inp, _ in codes.values()]
    return keras.Model(inputs, trunk(x), name=name)


def discriminator_features(hp, data_shape, name="features", with_hidden=False):
    """image -> flattened features the logit of the ``--architecture``
    discriminator reads (its last hidden layer, with the minibatch features and
    the hidden noise when they are on). ``with_hidden``: also the flattened
    ``features`` layer itself, before those (what feature matching compares)."""
    d = builders.discriminator(hp, data_shape)
    flat = layers.Flatten(name="flat_features")(d.get_layer("logit_input").output)
    if not with_hidden:
        return keras.Model(d.input, flat, name=name)
    hidden = layers.Flatten(name="flat_hidden")(d.get_layer("features").output)
    return keras.Model(d.input, [flat, hidden], name=name)


def dense(units, hp, name):
    if hp.get("d_weight_norm"):
        from tfgan_suite.layers import WeightNormDense
        return WeightNormDense(units, name=name)
    layer = layers.Dense(units, name=name)
    spectral = hp["d_spectral_norm"] or builders.d_norm(hp) == "spectral"
    return layers.SpectralNormalization(layer, name=f"{name}_sn") if spectral else layer


def f32(x, name):
    return layers.Activation("linear", dtype="float32", name=name)(x)


def concat_discriminator(hp, data_shape, num_classes):
    """CGAN's D: (image, labels) -> logit, the label as one-hot maps beside the
    image channels (DCGAN) or one-hot beside the flattened image (MLP)."""
    image = keras.Input(tuple(data_shape), name="images")
    labels = label_input()
    onehot = OneHot(num_classes, name="labels_onehot")(labels)
    if hp["architecture"] == "dcgan":
        h, w, c = data_shape
        x = layers.Concatenate(name="image_and_label_maps")(
            [image, LabelMaps(h, w, name="label_maps")(onehot)])
        trunk = builders.discriminator(hp, (h, w, c + num_classes), name="trunk")
    else:
        flat = layers.Flatten(name="flatten_image")(image)
        x = layers.Concatenate(name="image_and_label")([flat, onehot])
        trunk = builders.discriminator(hp, (math.prod(data_shape) + num_classes,),
                                       name="trunk")
    return keras.Model([image, labels], trunk(x), name="discriminator")


def projection_discriminator(hp, data_shape, num_classes):
    """D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018)."""
    image = keras.Input(tuple(data_shape), name="images")
    labels = label_input()
    features = discriminator_features(hp, data_shape)(image)
    unconditional = dense(1, hp, "psi")(features)
    embedded = layers.Reshape((features.shape[-1],), name="class_embedding_flat")(
        layers.Embedding(num_classes, features.shape[-1], name="class_embedding")(labels))
    projection = layers.Dot(axes=1, name="projection")([embedded, features])
    logit = layers.Add(name="logit_sum")([unconditional, projection])
    return keras.Model([image, labels], f32(logit, "logit"), name="discriminator")


def headed_discriminator(hp, data_shape, heads, name="discriminator"):
    """image -> [head(features) for heads]: ``heads`` is {name: callable(features)}
    (e.g. ACGAN's source logit and class logits). With ``"features"`` in
    ``heads`` mapped to None, D's last hidden layer is an output too, taken
    before the hidden noise and minibatch features that the heads read (the
    semi-supervised GAN's code matches those clean features)."""
    image = keras.Input(tuple(data_shape), name="images")
    if "features" in heads and heads["features"] is None:
        features, hidden = discriminator_features(hp, data_shape, with_hidden=True)(image)
    else:
        features = hidden = discriminator_features(hp, data_shape)(image)
    outputs = [hidden if fn is None else f32(fn(features), f"{head}_out")
               for head, fn in heads.items()]
    return keras.Model(image, outputs, name=name)
