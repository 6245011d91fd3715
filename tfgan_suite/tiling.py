"""Tiled inference for fully convolutional image-to-larger-image networks.

A large image goes through the network in overlapping windows so memory stays
bounded by the window size, whatever the image size:

* each window is ``window`` x ``window`` input pixels (a fixed-size TFLite
  model's input, or any size for a SavedModel);
* ``context`` pixels on each inner side of a window are computed and thrown
  away: they saw the window's edge (zero padding) instead of the neighbouring
  image, so they differ from whole-image inference;
* the kept parts of neighbouring windows overlap by ``overlap`` pixels and are
  blended with linear ramps, hiding any small difference left at the seam.

When ``context`` is at least the network's receptive-field radius the result
equals whole-image inference exactly (up to float rounding); with a smaller
context it differs only near the seams (``tests/test_superres.py`` measures
both). For a fixed-size network (TFLite) images smaller than a window are
reflection-padded up to it; otherwise a short side is taken whole.

Pure NumPy around ``fn``: the LiteRT runner (``export/mobile/run_tflite.py``)
uses the same function with an interpreter as ``fn``.
"""
import numpy as np

#: Default window, context and overlap in input (LR) pixels for SavedModel /
#: Keras inference: 128 x 128 LR windows (512 x 512 output at x4).
WINDOW, CONTEXT, OVERLAP = 128, 16, 8


def _starts(length, window, stride):
    """Window starts covering [0, length) with windows of ``window`` (length >= window)."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window, stride))
    return starts + [length - window]


def _weights(start, window, length, context, overlap, scale):
    """Blending weights (output pixels) of one window along one axis: 0 on the
    discarded context, linear ramps of ``overlap`` input pixels inside it, 1
    elsewhere; the image's own borders are kept whole."""
    w = np.ones(window * scale, np.float32)
    ramp = (np.arange(overlap * scale, dtype=np.float32) + 0.5) / (overlap * scale)
    if start > 0:
        w[:context * scale] = 0.0
        if overlap:
            w[context * scale:(context + overlap) * scale] = ramp
    if start + window < length:
        w[(window - context) * scale:] = 0.0
        if overlap:
            w[(window - context - overlap) * scale:(window - context) * scale] = ramp[::-1]
    return w


def upscale_tiled(fn, image, scale, window=WINDOW, context=CONTEXT, overlap=OVERLAP,
                  batch=4, fixed_size=False):
    """Apply ``fn`` ([n, h, w, C] float32 -> [n, h*scale, w*scale, C]) to ``image``
    [H, W, C] in overlapping windows; returns [H*scale, W*scale, C] float32.

    ``fixed_size``: ``fn`` takes exactly ``window`` x ``window`` inputs (TFLite),
    so an image smaller than a window is reflection-padded up to it (which
    changes the output near the padded edge); otherwise a side shorter than a
    window is taken whole. ``scale`` 1 works for same-size networks."""
    image = np.asarray(image, np.float32)
    h, w, c = image.shape
    if window - 2 * context - overlap < 1:
        raise ValueError(f"window {window} too small for context {context} and overlap "
                         f"{overlap}")
    if fixed_size:
        ph, pw = max(0, window - h), max(0, window - w)
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "edge"
            image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode=mode)
    H, W = image.shape[:2]
    wh, ww = min(window, H), min(window, W)
    stride = window - 2 * context - overlap
    out = np.zeros((H * scale, W * scale, c), np.float32)
    total = np.zeros((H * scale, W * scale, 1), np.float32)
    boxes = [(y, x) for y in _starts(H, wh, stride) for x in _starts(W, ww, stride)]
    for i in range(0, len(boxes), batch):
        chunk = boxes[i:i + batch]
        tiles = np.stack([image[y:y + wh, x:x + ww] for y, x in chunk])
        results = np.asarray(fn(tiles), np.float32)
        for (y, x), result in zip(chunk, results):
            wy = _weights(y, wh, H, context, overlap, scale)
            wx = _weights(x, ww, W, context, overlap, scale)
            weight = (wy[:, None] * wx[None, :])[..., None]
            ys, xs = slice(y * scale, (y + wh) * scale), slice(x * scale, (x + ww) * scale)
            out[ys, xs] += result * weight
            total[ys, xs] += weight
    out /= np.maximum(total, 1e-8)
    return out[:h * scale, :w * scale]
