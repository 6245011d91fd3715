"""TensorFlow Datasets by name (``mnist``, ``cifar10``, ``celeb_a``, ...), with ``--data_dir``.

A dataset already prepared in ``--data_dir`` is used as is. Otherwise it is
downloaded, but only after a quick reachability check of the download host, so
an offline machine gets an immediate error naming the offline alternatives
instead of minutes of retries.
"""
import socket

import tensorflow as tf

from tfgan_suite.data.images import resize_and_crop, to_channels
from tfgan_suite.errors import DataError

OFFLINE_HINT = ("Offline alternatives: --dataset=bundled:mnist or bundled:fashion_mnist "
                "(shipped with the package), --dataset=folder:PATH (your own images), "
                "or copy an already prepared TFDS directory to this machine and pass "
                "--data_dir=DIR.")
DOWNLOAD_HOSTS = (("storage.googleapis.com", 443),)


def can_reach_download_host(timeout=3.0):
    for host, port in DOWNLOAD_HOSTS:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            return True
        except OSError:
            continue
    return False


def _builder(name, data_dir):
    import tensorflow_datasets as tfds
    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        return None


def is_tfds_name(name):
    import tensorflow_datasets as tfds
    return name.split(":")[0].split("/")[0] in tfds.list_builders()


def prepared_builder(name, data_dir=None, hint=OFFLINE_HINT):
    """A TFDS builder whose data is on disk, downloading it when possible."""
    builder = _builder(name, data_dir)
    if builder is None:
        raise DataError(f"--dataset={name}: TFDS has no dataset of that name")
    if not builder.is_prepared():
        where = builder.data_dir
        if not can_reach_download_host():
            raise DataError(
                f"--dataset={name}: not found in --data_dir ({where}) and cannot be "
                f"downloaded: the download host is unreachable (offline?). {hint}")
        try:
            builder.download_and_prepare()
        except Exception as e:  # any download or preparation failure
            raise DataError(
                f"--dataset={name}: download into {where} failed "
                f"({type(e).__name__}: {str(e)[:300]}). {hint}") from e
    return builder


def load(name, split, data_dir, image_size, channels):
    """Return the fields of a DataSource for a TFDS image dataset."""
    import tensorflow_datasets as tfds
    builder = prepared_builder(name, data_dir)
    features = builder.info.features
    image_keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    if not image_keys:
        raise DataError(f"--dataset={name}: has no image feature (features: {list(features)})")
    image_key = "image" if "image" in image_keys else image_keys[0]
    label = features["label"] if "label" in features else None
    label_key = "label" if isinstance(label, tfds.features.ClassLabel) else None
    h, w, c = features[image_key].shape
    channels = channels or c or 3
    if not image_size:
        image_size = h if (h and h == w) else 64
    num_examples = None  # unknown when the builder has no split metadata
    if builder.info.splits:
        try:
            num_examples = builder.info.splits[split].num_examples
        except (KeyError, ValueError) as e:
            raise DataError(f"--dataset={name}: no split {split!r}; splits: "
                            f"{list(builder.info.splits)}") from e

    def examples():
        ds = builder.as_dataset(split=split, shuffle_files=True)

        def convert(ex):
            image = resize_and_crop(to_channels(ex[image_key], channels), image_size)
            lab = tf.cast(ex[label_key], tf.int32) if label_key else tf.constant(-1, tf.int32)
            return image, lab
        return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)

    class_names = tuple(features[label_key].names) if label_key else None
    return dict(shape=(image_size, image_size, channels), num_examples=num_examples,
                class_names=class_names, examples=examples, has_labels=bool(label_key))
