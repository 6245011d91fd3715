"""Image folders (``folder:PATH``).

Every .png/.jpg/.jpeg/.bmp/.gif below PATH (recursively) is an example. When
all images sit in sub-folders, the first sub-folder level names the classes
(``PATH/cat/1.png`` has label "cat"), as in Keras' image_dataset_from_directory.

Before training, every file is decoded once (in parallel, with tf.data): files
that are not images or cannot be decoded are skipped and counted, so a corrupt
file never stops an epoch halfway. An empty or missing folder is an error.
"""
import pathlib

import tensorflow as tf

from tfgan_suite.data.images import resize_and_crop, to_channels
from tfgan_suite.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _decode(path):
    return tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)


def scan(path):
    """Return (good_files, labels or None, class_names or None, skipped, reasons)."""
    root = pathlib.Path(path).expanduser()
    if not root.exists():
        raise DataError(f"--dataset=folder:{path}: the folder does not exist")
    if not root.is_dir():
        raise DataError(f"--dataset=folder:{path}: not a folder")
    candidates, reasons = [], []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            candidates.append(p)
        else:
            reasons.append(f"{p.relative_to(root)} (not an image file)")
    ok = set()
    if candidates:
        ds = tf.data.Dataset.from_tensor_slices(
            (tf.range(len(candidates)), [str(p) for p in candidates]))
        ds = ds.map(lambda i, f: (i, tf.shape(_decode(f))),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        ds = ds.ignore_errors()
        for i, _ in ds.batch(1024):
            ok.update(int(v) for v in i.numpy())
    good = [p for i, p in enumerate(candidates) if i in ok]
    reasons += [f"{p.relative_to(root)} (cannot be decoded)"
                for i, p in enumerate(candidates) if i not in ok]
    if not good:
        raise DataError(f"--dataset=folder:{path}: no readable images "
                        f"({', '.join(IMAGE_EXTENSIONS)}) in the folder or its sub-folders"
                        + (f"; skipped {len(reasons)} file(s)" if reasons else ""))
    rel = [p.relative_to(root) for p in good]
    if all(len(r.parts) >= 2 for r in rel):
        class_names = tuple(sorted({r.parts[0] for r in rel}))
        index = {c: i for i, c in enumerate(class_names)}
        labels = [index[r.parts[0]] for r in rel]
    else:
        class_names, labels = None, None
    return [str(p) for p in good], labels, class_names, len(reasons), reasons


def make_examples(files, labels, image_size, channels):
    """A tf.data.Dataset of (uint8 [size, size, channels], int32 label or -1)."""
    labels = labels if labels is not None else [-1] * len(files)

    def load(path, label):
        image = to_channels(_decode(path), channels)
        return resize_and_crop(image, image_size), tf.cast(label, tf.int32)

    def examples():
        ds = tf.data.Dataset.from_tensor_slices((files, labels))
        return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()

    return examples
