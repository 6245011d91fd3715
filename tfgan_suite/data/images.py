"""Image operations used by every image source (in-graph, tf.data friendly)."""
import tensorflow as tf


def to_channels(image, channels):
    """Convert a decoded uint8 image [H, W, C?] with C in {1, 2, 3, 4} to ``channels`` (1 or 3).

    Alpha channels are dropped; grey is tiled to RGB; RGB goes to grey with the
    ITU-R 601 weights of ``tf.image.rgb_to_grayscale``.
    """
    c = tf.shape(image)[-1]
    image = tf.cond(tf.equal(c % 2, 0), lambda: image[..., :-1], lambda: image)
    c = tf.shape(image)[-1]
    if channels == 3:
        image = tf.cond(tf.equal(c, 1), lambda: tf.tile(image, [1, 1, 3]), lambda: image)
    elif channels == 1:
        image = tf.cond(
            tf.equal(c, 3),
            lambda: tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))),
                            image.dtype),
            lambda: image)
    else:
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    return tf.ensure_shape(image, [None, None, channels])


def resize_and_crop(image, size):
    """Resize the shorter side to ``size`` (bilinear, antialiased) and centre-crop a square.

    Returns uint8 [size, size, C]. Images already ``size`` x ``size`` pass unchanged.
    """
    shape = tf.shape(image)
    h, w = shape[0], shape[1]

    def resize():
        scale = tf.cast(size, tf.float32) / tf.cast(tf.minimum(h, w), tf.float32)
        nh = tf.maximum(size, tf.cast(tf.round(tf.cast(h, tf.float32) * scale), tf.int32))
        nw = tf.maximum(size, tf.cast(tf.round(tf.cast(w, tf.float32) * scale), tf.int32))
        resized = tf.image.resize(image, [nh, nw], method="bilinear", antialias=True)
        resized = tf.image.resize_with_crop_or_pad(resized, size, size)
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    same = tf.logical_and(tf.equal(h, size), tf.equal(w, size))
    out = tf.cond(same, lambda: tf.cast(image, tf.uint8), resize)
    return tf.ensure_shape(out, [size, size, image.shape[-1]])


def to_unit_range(image):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255] (rounded, clipped)."""
    images = (tf.cast(images, tf.float32) + 1.0) * 127.5
    return tf.cast(tf.clip_by_value(tf.round(images), 0.0, 255.0), tf.uint8)
