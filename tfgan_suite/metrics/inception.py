"""InceptionV3 features for FID / KID / IS / precision-recall.

``InceptionExtractor`` uses ``keras.applications.InceptionV3``: pool3 features
(the 2048-d global average pool) and the 1000-way softmax. Its weights are the
ImageNet weights Keras downloads (machines with the internet) or a local copy
given with ``--inception_weights=PATH`` (the file Keras downloads,
``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``). ``weights=None``
gives random weights: only for testing the plumbing, never for numbers.

Resizing: images in [-1, 1] (grey tiled to RGB) are resized to 299 x 299 with
``tf.image.resize(method="bilinear", antialias=False)`` - the bilinear resize
the TF 2015 graph applies internally; clean-fid instead resizes with PIL bicubic.

Known differences from the original 2015 TF Inception graph
(``classify_image_graph_def.pb``, used by TTUR, TF-GAN and clean-fid's
``legacy_tensorflow`` mode, whose numbers papers report): the Keras model is a
different training run of the architecture ("Rethinking the Inception
Architecture", 2015/16) with 1000 classes instead of the graph's 1008, and
slightly different layers at the top. Its FID and IS are therefore *not*
comparable with published tables; they are fine for comparing models measured
with the same extractor (the extractor id is recorded with every number).
"""
import hashlib
import os

import keras
import tensorflow as tf

from tfgan_suite.errors import ConfigError

INCEPTION_SIZE = 299


def file_digest(path, n=12):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:n]


def to_rgb_299(images):
    x = tf.convert_to_tensor(images, tf.float32)
    if x.shape[-1] == 1:
        x = tf.tile(x, [1, 1, 1, 3])
    if x.shape[1] != INCEPTION_SIZE or x.shape[2] != INCEPTION_SIZE:
        x = tf.image.resize(x, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
    return x


class InceptionExtractor:
    """pool3 features (2048) and class probabilities (1000) of Keras' InceptionV3."""

    feature_dim = 2048

    def __init__(self, weights="imagenet"):
        if weights not in ("imagenet", None) and not os.path.exists(weights):
            raise ConfigError(f"--inception_weights={weights}: no such file")
        try:
            net = keras.applications.InceptionV3(
                include_top=True, weights="imagenet" if weights == "imagenet" else None)
        except Exception as e:  # the download of the ImageNet weights failed
            raise ConfigError(
                f"cannot get InceptionV3's ImageNet weights ({type(e).__name__}: "
                f"{str(e)[:200]}); pass --inception_weights=PATH with a local copy of "
                f"inception_v3_weights_tf_dim_ordering_tf_kernels.h5, or use "
                f"--extractor=domain for MNIST-like data") from e
        if weights not in ("imagenet", None):
            net.load_weights(weights)
            self.id = f"inception_v3-keras-{file_digest(weights)}"
        else:
            self.id = "inception_v3-keras-imagenet" if weights else "inception_v3-random"
        self._net = keras.Model(net.input, [net.get_layer("avg_pool").output,
                                            net.get_layer("predictions").output])
        self._fn = tf.function(lambda x: self._net(to_rgb_299(x), training=False),
                               reduce_retracing=True)

    def __call__(self, images):
        feats, probs = self._fn(self.prepare(images))
        return {"features": feats.numpy(), "probs": probs.numpy()}

    def prepare(self, images):
        return tf.convert_to_tensor(images, tf.float32)

    def forward(self, images):
        """pool3 features and class probabilities of [-1, 1] images (traceable)."""
        feats, probs = self._net(to_rgb_299(images), training=False)
        return {"features": feats, "probs": probs}


class InceptionGraphExtractor:
    """Features from the original 2015 TF Inception graph (``classify_image_graph_def.pb``).

    The graph TTUR, TF-GAN and clean-fid's ``legacy_tensorflow`` mode use, so
    FID and IS are comparable with published tables. It is loaded from a local
    path (``--inception_graph=PATH``; nothing is downloaded). Images in [-1, 1]
    are fed as [0, 255] RGB into ``ExpandDims:0``, where the graph itself
    resizes them to 299 x 299 (bilinear) and normalises them; features are
    ``pool_3:0`` (2048); class probabilities are softmax(pool3 . W) with W the
    graph's ``softmax/weights`` (1008 classes, no bias), as in the Inception
    Score code of Salimans et al. The graph has a static batch of 1, so images
    are fed one at a time. Loading a frozen TF1 graph needs
    ``tf.compat.v1.wrap_function`` (the only public way to call one in TF2).
    """

    feature_dim = 2048
    INPUT, POOL, WEIGHTS = "ExpandDims:0", "pool_3:0", "softmax/weights:0"

    def __init__(self, path):
        if not path or not os.path.exists(path):
            raise ConfigError(f"--inception_graph={path}: no such file (the 2015 "
                              f"classify_image_graph_def.pb, from inception-2015-12-05.tgz)")
        from tensorflow.core.framework import graph_pb2
        graph_def = graph_pb2.GraphDef()
        with open(path, "rb") as f:
            graph_def.ParseFromString(f.read())
        names = {n.name for n in graph_def.node}
        missing = [t for t in (self.INPUT, self.POOL, self.WEIGHTS) if t.split(":")[0] not in names]
        if missing:
            raise ConfigError(f"--inception_graph={path} is not the 2015 Inception graph: "
                              f"no {', '.join(missing)}")

        def imported(image):
            pool, weights = tf.graph_util.import_graph_def(
                graph_def, input_map={self.INPUT: image},
                return_elements=[self.POOL, self.WEIGHTS], name="")
            feats = tf.reshape(pool, (-1, self.feature_dim))
            return feats, tf.nn.softmax(tf.matmul(feats, weights))

        self._fn = tf.compat.v1.wrap_function(
            imported, [tf.TensorSpec((1, None, None, 3), tf.float32)])
        self.id = f"inception_2015_graph-{file_digest(path)}"

    def __call__(self, images):
        x = tf.convert_to_tensor(images, tf.float32)
        if x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, 3])
        x = (x + 1.0) * 127.5
        feats, probs = zip(*(self._fn(x[i:i + 1]) for i in range(x.shape[0])))
        return {"features": tf.concat(feats, 0).numpy(), "probs": tf.concat(probs, 0).numpy()}
