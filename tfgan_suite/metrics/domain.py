"""Domain classifiers for offline evaluation of MNIST / Fashion-MNIST GANs.

TF-GAN measured its MNIST GANs not with Inception but with a small classifier
trained on the real data itself: its logits give the classifier score (the
Inception score of that classifier), and its penultimate activations give the
Frechet classifier distance and the kernel classifier distance (KID). This
module ships the same kind of network for both bundled datasets.

The classifier
    A small Keras CNN on 28x28x1 images in [-1, 1] (``build_domain_classifier``):
    conv3x3(32)-BN-ReLU, conv3x3(32)-BN-ReLU, maxpool, conv3x3(64)-BN-ReLU,
    conv3x3(64)-BN-ReLU, maxpool (all convolutions 'valid', so the map is
    4x4x64), dropout 0.25, Dense(128)-ReLU named ``features`` (the embedding used
    for FCD / KID), dropout 0.25, Dense(10) named ``logits``. About 200k
    parameters, under 1 MB of weights per dataset. At inference (``training=
    False``) dropout is off and batch norm uses its moving statistics, so the
    outputs are a deterministic function of each image.

How it was trained
    ``scripts/train_domain_classifier.py`` (seed 0, CPU, no augmentation): the
    bundled train split scaled to [-1, 1] (all 60,000 MNIST digits; the 30,000
    Fashion-MNIST images the package bundles), sparse softmax cross-entropy,
    Adam with 100 warm-up steps to a 2e-3 peak then cosine decay to 0, batch
    128; 4 epochs on MNIST (82 s on 2 CPU cores), 10 on Fashion-MNIST (104 s).
    Learning rate, dropout and epoch counts were set on 5,000 images held out
    of the train split; the final models were then trained on the whole train
    split, and the test accuracy measured through ``DomainExtractor`` on the
    saved weights and recorded in ``resources/domain/{dataset}.json``.

Test accuracies (bundled test splits, 10,000 images each)
    * mnist: 0.9942
    * fashion_mnist: 0.9175

Usage::

    extractor = DomainExtractor("mnist")
    out = extractor(images)          # float images in [-1, 1], [N, H, W, C]
    out["features"], out["logits"], out["probs"]
"""
import hashlib
import importlib.resources
import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_suite.errors import ConfigError

DATASETS = ("mnist", "fashion_mnist")
INPUT_SHAPE = (28, 28, 1)
FEATURE_DIM = 128
NUM_CLASSES = 10
# Images go through the network in chunks of exactly this many (the last chunk
# zero-padded), so every image sees the same kernels whatever the caller's batch
# size, and the tf.function is traced once.
_CHUNK = 128


def build_domain_classifier(num_classes=NUM_CLASSES):
    """The domain CNN: inputs (28, 28, 1) in [-1, 1]; outputs [features, logits].

    Always float32, whatever the global mixed-precision policy.
    """
    dt = "float32"
    inputs = keras.Input(INPUT_SHAPE, dtype=dt, name="images")
    x = inputs
    for i, filters in enumerate((32, 32, 64, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="valid", use_bias=False,
                                dtype=dt, name=f"conv{i + 1}")(x)
        x = keras.layers.BatchNormalization(dtype=dt, name=f"bn{i + 1}")(x)
        x = keras.layers.ReLU(dtype=dt, name=f"relu{i + 1}")(x)
        if i % 2 == 1:
            x = keras.layers.MaxPooling2D(2, dtype=dt, name=f"pool{i // 2 + 1}")(x)
    x = keras.layers.Flatten(dtype=dt, name="flatten")(x)
    x = keras.layers.Dropout(0.25, dtype=dt, name="dropout1")(x)
    features = keras.layers.Dense(FEATURE_DIM, activation="relu", dtype=dt,
                                  name="features")(x)
    x = keras.layers.Dropout(0.25, dtype=dt, name="dropout2")(features)
    logits = keras.layers.Dense(num_classes, dtype=dt, name="logits")(x)
    return keras.Model(inputs, [features, logits], name="domain_classifier")


def default_weights_path(dataset):
    """The packaged weights resource of ``dataset`` (a Traversable)."""
    return (importlib.resources.files("tfgan_suite") / "resources" / "domain"
            / f"{dataset}.weights.h5")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DomainExtractor:
    """Features, logits and class probabilities of the domain classifier.

    Attributes:
      id: ``"domain-{dataset}-{sha256[:12] of the weights file}"``; changes when
        the weights change, so cached statistics can be keyed on it.
      feature_dim: 128. num_classes: 10. input_shape: (28, 28, 1).
    """

    feature_dim = FEATURE_DIM
    num_classes = NUM_CLASSES
    input_shape = INPUT_SHAPE

    def __init__(self, dataset="mnist", weights_path=None):
        self.dataset = dataset
        self.model = build_domain_classifier(NUM_CLASSES)
        if weights_path is None:
            if dataset not in DATASETS:
                raise ConfigError(f"no domain classifier for dataset={dataset!r}; "
                                  f"available: {', '.join(DATASETS)}")
            with importlib.resources.as_file(default_weights_path(dataset)) as path:
                self._load(os.fspath(path))
        else:
            self._load(os.fspath(weights_path))
        self.id = f"domain-{dataset}-{self._sha[:12]}"
        self._warned = False
        self._forward = tf.function(
            self._forward_impl,
            input_signature=[tf.TensorSpec([_CHUNK, *INPUT_SHAPE], tf.float32)],
            reduce_retracing=True)

    def _load(self, path):
        if not os.path.isfile(path):
            raise ConfigError(f"domain classifier weights not found: {path}")
        self.weights_path = path
        self._sha = _sha256(path)
        self.model.load_weights(path)

    def _forward_impl(self, images):
        features, logits = self.model(images, training=False)
        features = tf.cast(features, tf.float32)
        logits = tf.cast(logits, tf.float32)
        return features, logits, tf.nn.softmax(logits)

    def forward(self, images):
        """Features, logits and probabilities of prepared images (tensors; traceable,
        e.g. in ``strategy.run``)."""
        features, logits, probs = self._forward_impl(images)
        return {"features": features, "logits": logits, "probs": probs}

    def prepare(self, images):
        """float32 [N, 28, 28, 1] in [-1, 1]; warns once if it had to convert."""
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4:
            raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
        images = tf.cast(images, tf.float32)
        height, width, channels = images.shape[1:]
        notes = []
        if channels == 3:
            grey = tf.image.rgb_to_grayscale((images + 1.0) / 2.0)
            images = grey * 2.0 - 1.0
            notes.append("RGB to greyscale")
        elif channels != 1:
            raise ValueError(f"images must have 1 or 3 channels, got {channels}")
        if (height, width) != INPUT_SHAPE[:2]:
            images = tf.image.resize(images, INPUT_SHAPE[:2], method="area")
            notes.append(f"resized {height}x{width} to 28x28 (area)")
        if notes and not self._warned:
            self._warned = True
            logging.warning("%s: converted input images (%s) to the classifier's "
                            "28x28x1 input; scores are not comparable to those "
                            "of 28x28 greyscale images.", self.id, ", ".join(notes))
        return images

    def __call__(self, images):
        images = self.prepare(images)
        n = int(images.shape[0])
        outs = {"features": [], "logits": [], "probs": []}
        for start in range(0, n, _CHUNK):
            chunk = images[start:start + _CHUNK]
            size = int(chunk.shape[0])
            if size < _CHUNK:
                chunk = tf.pad(chunk, [[0, _CHUNK - size], [0, 0], [0, 0], [0, 0]])
            features, logits, probs = self._forward(chunk)
            outs["features"].append(features.numpy()[:size])
            outs["logits"].append(logits.numpy()[:size])
            outs["probs"].append(probs.numpy()[:size])
        empty = {"features": (0, FEATURE_DIM), "logits": (0, NUM_CLASSES),
                 "probs": (0, NUM_CLASSES)}
        return {k: (np.concatenate(v).astype(np.float32) if v
                    else np.zeros(empty[k], np.float32)) for k, v in outs.items()}
