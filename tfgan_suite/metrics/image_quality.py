"""PSNR and SSIM for image-to-image and super-resolution models (``tf.image``).

Images in [-1, 1] are compared on the [0, 255] scale (``max_val=255``). With
``y_channel=True`` RGB images are reduced to the luma Y of ITU-R BT.601
(Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1]), as the
super-resolution literature reports; ``crop`` removes that many border pixels
on each side first (commonly the scale factor).
"""
import tensorflow as tf


def _prepare(images, y_channel, crop):
    x = (tf.cast(images, tf.float32) + 1.0) * 127.5
    if y_channel and x.shape[-1] == 3:
        x = 16.0 + tf.tensordot(x / 255.0, tf.constant([65.481, 128.553, 24.966]), 1)[..., None]
    if crop:
        x = x[:, crop:-crop, crop:-crop, :]
    return x


def psnr(images, targets, y_channel=False, crop=0):
    """Per-image PSNR in dB between two [N, H, W, C] batches in [-1, 1]."""
    return tf.image.psnr(_prepare(images, y_channel, crop), _prepare(targets, y_channel, crop),
                         max_val=255.0).numpy()


def ssim(images, targets, y_channel=False, crop=0):
    """Per-image SSIM (11x11 Gaussian window, sigma 1.5) between [-1, 1] batches."""
    return tf.image.ssim(_prepare(images, y_channel, crop), _prepare(targets, y_channel, crop),
                         max_val=255.0).numpy()
