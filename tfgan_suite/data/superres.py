"""Super-resolution data: (LR, HR) pairs made from high-resolution images.

A super-resolution model (``data_view = "superres"``) reads any image source
as high-resolution (HR) images at their own size:

    bundled:photos    the ten public-domain / CC0 photographs shipped in the package
                      (``resources/photos``): ``train`` = seven of them, ``test`` =
                      chelsea, coffee, rocket (held out by name)
    folder:PATH       every image below PATH (PATH/train, PATH/test when present):
                      e.g. an unzipped DIV2K, Set5, Set14 or BSD100
    div2k, ...        a TFDS dataset: its ``hr`` feature (DIV2K), else its ``image``
    paired:PATH       your own pairs: PATH[/split]/LR/ and PATH[/split]/HR/ (or A/, B/)
                      with matching file names; HR must be ``scale`` x LR

The LR image is made once per HR image, in the pipeline: HR cropped to a
multiple of ``scale`` ("mod crop"), then downscaled by ``scale`` with
``tf.image.resize(method="bicubic", antialias=True)`` and rounded to 8 bits,
as an LR photo would be stored. That is Keys' cubic kernel (a = -0.5) widened
by the scale factor, the kernel MATLAB's ``imresize`` uses too; the two differ
at the image border (MATLAB mirrors the edge, TF renormalises the kernel
weights) and in rounding, so PSNRs of the same model against MATLAB-made LR
images differ slightly (not measured here: there is no MATLAB on this machine).

Training takes random aligned crops: ``crop`` x ``crop`` HR (96 by default, the
paper's) and the LR window at the same place, ``crop / scale`` wide, with a
random left-right mirror of both when ``jitter`` is on. Both are float32 in
[-1, 1]: the suite's one image range. The paper scales LR inputs to [0, 1];
an affine rescaling of the input is absorbed by the first convolution's
weights and bias, so the choice only changes the initial point, and keeping
[-1, 1] lets every exporter, client and metric treat LR images like any other.

Evaluation uses the full held-out images (``DataSource.sr_pairs``), not crops.
"""
import importlib.resources
import pathlib

import numpy as np
import tensorflow as tf

from tfgan_suite.data.pairs import matched_files, scan_files, split_dir
from tfgan_suite.data.images import to_channels, to_unit_range
from tfgan_suite.errors import DataError

PHOTOS_HELD_OUT = ("chelsea", "coffee", "rocket")
DEFAULT_CROP = 96
#: Random crops taken from an image per decode when images are not cached.
CROPS_PER_DECODE = 8


def mod_crop(image, scale):
    """[..., H, W, C] cropped (top-left kept) to sides that are multiples of ``scale``."""
    shape = tf.shape(image)
    h = shape[-3] - shape[-3] % scale
    w = shape[-2] - shape[-2] % scale
    return image[..., :h, :w, :]


def downscale(hr, scale):
    """HR uint8 [H, W, C] -> LR uint8 [H / s, W / s, C]: bicubic, antialiased, rounded
    (H and W multiples of ``scale``)."""
    shape = tf.shape(hr)
    size = [shape[0] // scale, shape[1] // scale]
    lr = tf.image.resize(tf.cast(hr, tf.float32), size, method="bicubic", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(lr), 0, 255), tf.uint8)


def bicubic_upscale(lr, scale):
    """LR float [N, h, w, C] in [-1, 1] -> bicubic x ``scale``, clipped to [-1, 1]
    (the baseline every SR model is measured against)."""
    lr = tf.convert_to_tensor(lr, tf.float32)
    shape = tf.shape(lr)
    up = tf.image.resize(lr, [shape[1] * scale, shape[2] * scale], method="bicubic")
    return tf.clip_by_value(up, -1.0, 1.0)


def photo_files(split):
    """Files of ``bundled:photos`` for ``split`` ("train" or "test")."""
    split = split.split("[")[0]
    if split not in ("train", "test"):
        raise DataError(f"bundled:photos has splits 'train' and 'test', not {split!r}")
    root = importlib.resources.files("tfgan_suite") / "resources" / "photos"
    files = sorted(str(p) for p in root.iterdir() if p.name.endswith((".png", ".jpg")))
    held = [f for f in files if pathlib.Path(f).stem in PHOTOS_HELD_OUT]
    return held if split == "test" else [f for f in files if f not in held]


def _decode(path, channels):
    image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
    return to_channels(image, channels)


def _from_files(files, channels, scale):
    def examples():
        ds = tf.data.Dataset.from_tensor_slices(files)

        def pair(f):
            hr = mod_crop(_decode(f, channels), scale)
            return downscale(hr, scale), hr
        return ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE)
    return examples


def _paired(path, split, spec, channels, scale):
    root = split_dir(path, split, spec)
    for lr_name, hr_name in (("LR", "HR"), ("lr", "hr"), ("A", "B")):
        if (root / lr_name).is_dir() and (root / hr_name).is_dir():
            break
    else:
        raise DataError(f"--dataset={spec}: super-resolution pairs need {root}/LR/ and "
                        f"{root}/HR/ (or A/ and B/) with matching file names")
    lr_files, hr_files = matched_files(root / lr_name, root / hr_name, spec)

    def examples():
        ds = tf.data.Dataset.from_tensor_slices((lr_files, hr_files))

        def load(fl, fh):
            lr, hr = _decode(fl, channels), _decode(fh, channels)
            lr_shape, hr_shape = tf.shape(lr), tf.shape(hr)
            tf.debugging.assert_equal(
                hr_shape[:2], lr_shape[:2] * scale,
                message=f"{spec}: an HR image is not {scale} x its LR image (--scale)")
            return lr, hr
        return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return examples, len(lr_files)


def _tfds(name, split, data_dir, channels, scale):
    import tensorflow_datasets as tfds

    from tfgan_suite.data import tfds_source
    builder = tfds_source.prepared_builder(
        name, data_dir, hint="Offline alternatives: --dataset=bundled:photos (shipped with "
        "the package) or --dataset=folder:PATH (a folder of high-resolution images, e.g. "
        "an unzipped DIV2K_train_HR).")
    features = builder.info.features
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    key = "hr" if "hr" in keys else "image" if "image" in keys else (keys or [None])[0]
    if key is None:
        raise DataError(f"--dataset={name}: has no image feature (features: {list(features)})")
    splits = list(builder.info.splits) if builder.info.splits else []
    split = split.split("[")[0]
    if splits and split not in splits:
        if split == "test" and "validation" in splits:
            split = "validation"  # DIV2K: train / validation
        else:
            raise DataError(f"--dataset={name}: no split {split!r}; splits: {splits}")
    count = builder.info.splits[split].num_examples if splits else None

    def examples():
        ds = builder.as_dataset(split=split, shuffle_files=True)

        def pair(ex):
            hr = mod_crop(to_channels(ex[key], channels), scale)
            return downscale(hr, scale), hr
        return ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE)
    return examples, count


def load(spec, split, data_dir, crop, channels, scale, rescale=1.0):
    """A ``DataSource`` of kind "superres" for any image spec (see the module doc);
    ``rescale`` < 1 turns on scale augmentation of the training crops (``info``)."""
    from tfgan_suite.data import tfds_source
    from tfgan_suite.data.source import DataSource
    if scale not in (2, 4, 8):
        raise DataError(f"--scale={scale}: must be 2, 4 or 8")
    crop = int(crop or DEFAULT_CROP)
    channels = channels or 3
    if crop % scale:
        raise DataError(f"--image_size={crop} (the HR crop) must be a multiple of "
                        f"--scale={scale}")
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "bundled":
        if rest != "photos":
            raise DataError(f"--dataset={spec}: super-resolution models read images at "
                            f"their own size; the bundled high-resolution set is "
                            f"bundled:photos")
        files = photo_files(split)
        examples, count = _from_files(files, channels, scale), len(files)
    elif sep and scheme == "folder":
        files = scan_files(split_dir(rest, split, spec), spec)
        examples, count = _from_files(files, channels, scale), len(files)
    elif sep and scheme == "paired":
        if rescale < 1:
            raise DataError(f"--dataset={spec}: --rescale_min={rescale} makes LR images "
                            f"from rescaled HR images; paired:PATH brings its own LR "
                            f"images (use folder:PATH with the HR images, or --rescale_min=1)")
        examples, count = _paired(rest, split, spec, channels, scale)
    elif sep or not tfds_source.is_tfds_name(spec):
        raise DataError(f"--dataset={spec}: super-resolution models read bundled:photos, "
                        f"folder:PATH, paired:PATH (LR/ and HR/) or a TFDS name (div2k)")
    else:
        examples, count = _tfds(spec, split, data_dir, channels, scale)
    return DataSource(spec=spec, kind="superres", shape=(crop, crop, channels),
                      num_examples=count, pair_examples=examples, scale=scale,
                      info=dict(scale=scale, images=count, crop=crop,
                                **({"rescale": rescale} if rescale < 1 else {})))


#: LR pixels of context kept around a rescaled crop while its LR is made, so the
#: crop's LR equals that of the whole rescaled image (the antialiased bicubic
#: kernel reaches 2 LR pixels to each side).
RESCALE_MARGIN = 2


def _turns(coins):
    """The maps of one of the 8 flips and 90-degree turns: a transpose, a
    left-right and an up-down flip, each applied where its coin is True."""
    def apply(pair):
        for k, change in enumerate((lambda t: tf.transpose(t, [1, 0, 2]),
                                    lambda t: t[:, ::-1], lambda t: t[::-1])):
            pair = tf.cond(coins[k], lambda p=pair, f=change: tuple(map(f, p)),
                           lambda p=pair: p)
        return pair
    return apply


def random_crops(lr, hr, crop, scale, seed, num, augment):
    """``num`` aligned random crops of one (LR, HR) uint8 pair: HR ``crop`` wide,
    LR ``crop / scale``; ``seed`` a stateless seed [2]. With ``augment`` each
    pair gets one of the 8 flips and 90-degree rotations at random (a transpose,
    a left-right and an up-down flip, each with probability 1/2), the same for
    its LR and HR crops: a turned or mirrored photo is still a photo, and
    bicubic downscaling by an integer factor commutes with these maps, so
    the LR crop is still the downscaled HR crop.
    Returns [num, ...] pairs."""
    small = crop // scale
    shape = tf.shape(lr)
    seeds = tf.random.experimental.stateless_split(seed, 3)
    ys = tf.random.stateless_uniform([num], seeds[0], 0, shape[0] - small + 1, tf.int32)
    xs = tf.random.stateless_uniform([num], seeds[1], 0, shape[1] - small + 1, tf.int32)
    coins = tf.random.stateless_uniform([num, 3], seeds[2]) < (0.5 if augment else 0.0)
    lrs, hrs = [], []
    for i in range(num):
        y, x = ys[i], xs[i]
        pair = _turns(coins[i])((lr[y:y + small, x:x + small],
                                 hr[y * scale:y * scale + crop, x * scale:x * scale + crop]))
        lrs.append(pair[0])
        hrs.append(pair[1])
    return tf.stack(lrs), tf.stack(hrs)


def rescaled_crops(hr, crop, scale, seed, num, augment, smallest):
    """``random_crops`` with scale augmentation: each crop comes from the HR image
    downscaled by a random factor f, uniform in [``smallest``, 1] (bicubic,
    antialiased, rounded to 8 bits), and its LR is made from that rescaled HR.

    Only the window that becomes the crop is resampled: an HR window about
    (crop + 2 x margin) / f wide is resized to crop + 2 x margin pixels, that is
    downscaled by ``scale``, and the centre crop of both is kept, the margin
    (``RESCALE_MARGIN`` LR pixels) holding the bicubic kernel's reach so the LR
    crop is what the whole rescaled image's LR would hold there. Smaller
    factors show the network more detail per pixel -- more distinct training
    patterns from a few photos (a published trick of SR training on small sets).
    ``hr`` must be at least ``rescale_window(crop, scale)`` on both sides."""
    margin = RESCALE_MARGIN * scale
    big = rescale_window(crop, scale)
    shape = tf.shape(hr)
    side = tf.minimum(shape[0], shape[1])
    seeds = tf.random.experimental.stateless_split(seed, 4)
    factors = tf.random.stateless_uniform([num], seeds[0], smallest, 1.0)
    windows = tf.minimum(tf.cast(tf.math.round(big / factors), tf.int32), side)
    ys = tf.random.stateless_uniform([num], seeds[1])
    xs = tf.random.stateless_uniform([num], seeds[2])
    coins = tf.random.stateless_uniform([num, 3], seeds[3]) < (0.5 if augment else 0.0)
    lrs, hrs = [], []
    for i in range(num):
        w = windows[i]
        y = tf.cast(ys[i] * tf.cast(shape[0] - w + 1, tf.float32), tf.int32)
        x = tf.cast(xs[i] * tf.cast(shape[1] - w + 1, tf.float32), tf.int32)
        window = tf.cast(hr[y:y + w, x:x + w], tf.float32)
        resized = tf.image.resize(window, [big, big], method="bicubic", antialias=True)
        resized = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
        lr = downscale(resized, scale)
        m = RESCALE_MARGIN
        pair = _turns(coins[i])((lr[m:m + crop // scale, m:m + crop // scale],
                                 resized[margin:margin + crop, margin:margin + crop]))
        lrs.append(pair[0])
        hrs.append(pair[1])
    return tf.stack(lrs), tf.stack(hrs)


def rescale_window(crop, scale):
    """Smallest HR side ``rescaled_crops`` reads: the crop and its margin."""
    return crop + 2 * RESCALE_MARGIN * scale


def training_pairs(source, step_batch, shuffle, repeat, seed, cache, augment=True):
    """Batches of (lr, hr) random crops in [-1, 1] for a "superres" source; with
    ``source.info["rescale"]`` < 1, scale-augmented crops (``rescaled_crops``)."""
    from tfgan_suite.data.source import _cache_shuffle_repeat, caches
    crop, scale, channels = source.shape[0], source.scale, source.shape[-1]
    smallest = float(source.info.get("rescale", 1.0))
    least = rescale_window(crop, scale) if smallest < 1 else crop
    ds = source.pair_examples().filter(
        lambda lr, hr: tf.reduce_all(tf.shape(hr)[:2] >= least))
    # Decoded images are cached in memory unless there are many (DIV2K: 800 x ~6 MB).
    per_image = 2048 * 1536 * channels * 1.1  # bytes of a typical 2K photo + its LR
    ds = _cache_shuffle_repeat(ds, source.num_examples, int(per_image), shuffle, repeat,
                               seed, cache, f"{cache}-sr")
    num = 1 if caches(source.num_examples, int(per_image), cache) else CROPS_PER_DECODE
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    if smallest < 1:
        def crops(pair, s):
            return rescaled_crops(pair[1], crop, scale, s, num, augment, smallest)
    else:
        def crops(pair, s):
            return random_crops(pair[0], pair[1], crop, scale, s, num, augment)
    ds = tf.data.Dataset.zip((ds, seeds)).map(
        crops, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
    if num > 1 and shuffle:
        ds = ds.shuffle(64 * num, seed=seed)
    ds = ds.map(lambda lr, hr: (to_unit_range(lr), to_unit_range(hr)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(step_batch, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE)


def centre_crops(source, num):
    """``num`` deterministic aligned crops (lr, hr) in [-1, 1] of ``source``'s images,
    numpy: the centre of each image, then (for more than one per image) windows
    spread over it; for grids of held-out images."""
    crop, scale = source.shape[0], source.scale
    small = crop // scale
    images = [(lr, hr) for lr, hr in source.pair_examples().as_numpy_iterator()
              if min(hr.shape[:2]) >= crop]
    if not images:
        raise DataError(f"{source.spec}: no image is at least {crop} x {crop} pixels")
    lrs, hrs = [], []
    per_image = -(-num // len(images))
    for k in range(per_image):
        for lr, hr in images:
            h, w = lr.shape[:2]
            frac = (k + 0.5) / per_image  # 0.5: the centre, for one crop per image
            y = int(round((h - small) * frac))
            x = int(round((w - small) * frac))
            lrs.append(lr[y:y + small, x:x + small])
            hrs.append(hr[y * scale:y * scale + crop, x * scale:x * scale + crop])
    lrs, hrs = np.stack(lrs[:num]), np.stack(hrs[:num])
    return (lrs.astype(np.float32) / 127.5 - 1.0, hrs.astype(np.float32) / 127.5 - 1.0)


def full_pairs(source):
    """Every (lr [1, h, w, C], hr [1, H, W, C]) full image pair in [-1, 1], in order."""
    for lr, hr in source.pair_examples():
        yield to_unit_range(lr)[None], to_unit_range(hr)[None]
