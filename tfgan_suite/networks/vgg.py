"""VGG19 feature maps for SRGAN's content loss (Ledig et al. 2017, section 2.2.1).

phi_{i,j}: the feature map of the j-th convolution (after its ReLU) before the
i-th max-pooling of VGG19: phi_{2,2} = ``block2_conv2`` (128 channels at 1/2
resolution), phi_{5,4} = ``block5_conv4`` (512 channels at 1/16). Inputs are
images in [-1, 1]; they are mapped to [0, 255] and given VGG's own
preprocessing (``keras.applications.vgg19.preprocess_input``: RGB -> BGR minus
the ImageNet channel means), grey images tiled to three channels.

Weights: "imagenet" (Keras downloads ``vgg19_weights_tf_dim_ordering_tf_kernels
_notop.h5`` once into ~/.keras/models), a path to that file, or "random" --
random weights, for tests of the plumbing only (a random VGG's features carry
no perceptual meaning).
"""
import os

import keras
import tensorflow as tf

from tfgan_suite.errors import ConfigError

LAYERS = {"vgg22": "block2_conv2", "vgg54": "block5_conv4"}
#: The paper rescales the VGG feature maps by 1/12.75 so that the VGG loss is
#: on the scale of the MSE loss.
FEATURE_SCALE = 1.0 / 12.75
WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _base(weights):
    if weights == "random":
        return keras.applications.VGG19(include_top=False, weights=None,
                                        input_shape=(None, None, 3))
    if weights != "imagenet":
        if not os.path.isfile(weights):
            raise ConfigError(f"--vgg_weights={weights}: no such file (give the path of "
                              f"{WEIGHTS_FILE}, or 'imagenet')")
        return keras.applications.VGG19(include_top=False, weights=weights,
                                        input_shape=(None, None, 3))
    try:
        return keras.applications.VGG19(include_top=False, weights="imagenet",
                                        input_shape=(None, None, 3))
    except Exception as e:  # offline: the download fails (URLError, OSError, ...)
        raise ConfigError(
            f"the VGG content loss needs VGG19 ImageNet weights, which could not be "
            f"downloaded ({type(e).__name__}); pass --vgg_weights=PATH to "
            f"{WEIGHTS_FILE}, or train with --content_loss=mse") from None


def vgg_features(content_loss, weights="imagenet"):
    """A frozen ``keras.Model``: images [N, H, W, 1 or 3] in [-1, 1] -> phi_{i,j} / 12.75."""
    if content_loss not in LAYERS:
        raise ConfigError(f"--content_loss={content_loss}: VGG layers are {sorted(LAYERS)}")
    base = _base(weights)
    features = keras.Model(base.input, base.get_layer(LAYERS[content_loss]).output)
    features.trainable = False
    images = keras.Input((None, None, None), name="images")

    def prepare(x):
        # Grey images to RGB by broadcasting (a no-op on RGB): a tf.cond here
        # had a gradient of the wrong shape for RGB inputs.
        x = x + tf.zeros([3], x.dtype)
        x = tf.ensure_shape(x, [None, None, None, 3])
        return keras.applications.vgg19.preprocess_input((x + 1.0) * 127.5)

    x = keras.layers.Lambda(prepare, name="vgg_preprocess")(images)
    out = keras.layers.Rescaling(FEATURE_SCALE, name="rescale")(features(x))
    model = keras.Model(images, out, name=f"vgg19_{LAYERS[content_loss]}")
    model.trainable = False
    return model
