"""Real data shipped inside the package, readable offline (``bundled:NAME``).

* ``mnist``: MNIST, all 60,000 training and 10,000 test digits
  (CC BY-SA 3.0, Yann LeCun and Corinna Cortes).
* ``fashion_mnist``: Fashion-MNIST, the first 30,000 training images (to keep
  the package small) and all 10,000 test images (MIT, Zalando Research).

Files are the canonical gzipped IDX files, read with NumPy.
"""
import gzip
import importlib.resources
import struct

import numpy as np

from tfgan_suite.errors import DataError

BUNDLED = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("t-shirt/top", "trouser", "pullover", "dress", "coat",
                      "sandal", "shirt", "sneaker", "bag", "ankle boot"),
}
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_arrays(name, split="train"):
    """(images uint8 [N, 28, 28, 1], labels int32 [N], class_names) of a bundled set."""
    if name not in BUNDLED:
        raise DataError(f"--dataset=bundled:{name} is not bundled; bundled sets: "
                        + ", ".join(f"bundled:{n}" for n in BUNDLED))
    split = split.split("[")[0]
    if split not in _FILES:
        raise DataError(f"bundled:{name} has splits 'train' and 'test', not {split!r}")
    root = importlib.resources.files("tfgan_suite") / "resources" / name
    images_file, labels_file = _FILES[split]
    with importlib.resources.as_file(root / images_file) as p:
        images = _read_idx(p)
    with importlib.resources.as_file(root / labels_file) as p:
        labels = _read_idx(p).astype(np.int32)
    return images[..., None], labels, BUNDLED[name]
