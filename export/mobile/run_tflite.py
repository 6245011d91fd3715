r"""Run an exported TFLite generator with LiteRT (the phone runtime, in Python).

    pip install "tfgan-suite[litert]"
    python export/mobile/run_tflite.py --model=exports/tflite/dcgan/1/dcgan.tflite --num=16 --out=tflite.png
    python export/mobile/run_tflite.py --model=exports/tflite/dcgan/1/dcgan_int8.tflite --seed=3 --out=int8.png
    python export/mobile/run_tflite.py --model=exports/tflite/cgan/1/cgan.tflite --label=7 --out=sevens.png
    python export/mobile/run_tflite.py --model=exports/tflite/srresnet/1/srresnet.tflite \
        --input=photo.png --out=photo_x4.png

Loads the model with ``ai_edge_litert.interpreter.Interpreter``, feeds noise
drawn with NumPy (one call per image: the exported batch is static, 1 by
default), and ``--label`` for conditional models, to its ``serving_default`` signature and writes the ``images_uint8``
outputs as one PNG grid.

Models whose input is an image (super-resolution, image-to-image) take
``--input=IMAGE`` instead: the image goes through the fixed-size model in
overlapping windows (``tfgan_suite.tiling``, the same tiling as
``sample --input_dir``), so an image of any size is processed with the
memory of one window, as on a phone.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "serving"))
from client_rest import add_latent_flag, draw_latent, write_png  # noqa: E402


def draw(name, detail, rng, label=None, latent="normal"):
    """One batch of an input: noise for ``z`` (N(0, 1), or U(-1, 1) with
    ``latent="uniform"``: the export metadata's ``latent_distribution``),
    ``label`` for int class inputs (labels, InfoGAN's categorical code),
    U(-1, 1) for continuous codes."""
    shape = tuple(detail["shape"])
    if np.issubdtype(detail["dtype"], np.integer):
        if label is None:
            raise SystemExit(f"the model takes class ids ({name!r}): give --label=CLASS")
        return np.full(shape, label, detail["dtype"])
    if name == "z":
        return draw_latent(rng, shape, latent)
    return rng.uniform(-1, 1, shape).astype(np.float32)


def generate(model_path, num, seed, label=None, latent="normal"):
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=model_path)
    runner = interpreter.get_signature_runner("serving_default")
    details = runner.get_input_details()
    rng = np.random.default_rng(seed)
    images = []
    while len(images) < num:
        out = runner(**{name: draw(name, detail, rng, label, latent)
                        for name, detail in sorted(details.items())})
        images.extend(out["images_uint8"])
    return np.stack(images[:num])


def read_image(path, channels):
    """An image file as float32 [H, W, channels] in [-1, 1] (decoded with TensorFlow)."""
    import tensorflow as tf
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels,
                               expand_animations=False)
    return image.numpy().astype(np.float32) / 127.5 - 1.0


def apply_tiled(model_path, image, context=None, overlap=None):
    """Run an image-input TFLite model over ``image`` [H, W, C] in windows of its
    fixed input size (``context`` / ``overlap`` default to 1/8 and 1/16 of it: 8
    and 4 pixels for a 64-pixel model); returns uint8 [H * scale, W * scale, C]."""
    from ai_edge_litert.interpreter import Interpreter

    from tfgan_suite import tiling
    interpreter = Interpreter(model_path=model_path)
    runner = interpreter.get_signature_runner("serving_default")
    (name, detail), = runner.get_input_details().items()
    _, window, _, _ = detail["shape"]
    out_shape = runner.get_output_details()["images"]["shape"]
    scale = int(out_shape[1]) // int(window)
    context = int(window) // 8 if context is None else context
    overlap = max(1, int(window) // 16) if overlap is None else overlap

    def fn(tiles):
        return np.concatenate([runner(**{name: t[None]})["images"] for t in tiles])
    out = tiling.upscale_tiled(fn, image, scale, window=int(window), context=context,
                               overlap=overlap, fixed_size=True)
    return np.clip(np.round((out + 1.0) * 127.5), 0, 255).astype(np.uint8)


def grid(images):
    n, h, w, c = images.shape
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    out = np.full((rows * h, cols * w, c), 255, np.uint8)
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        out[r * h:(r + 1) * h, k * w:(k + 1) * w] = image
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, default=None,
                        help="conditional models: the class of every image")
    add_latent_flag(parser)
    parser.add_argument("--input", default=None,
                        help="image-input models: the image to upscale / translate")
    parser.add_argument("--out", default="tflite.png")
    args = parser.parse_args(argv)
    if args.input:
        from ai_edge_litert.interpreter import Interpreter
        detail = Interpreter(model_path=args.model).get_signature_runner(
            "serving_default").get_input_details()
        channels = int(next(iter(detail.values()))["shape"][-1])
        result = apply_tiled(args.model, read_image(args.input, channels))
        write_png(args.out, result)
        print(f"wrote {args.out}: {result.shape}")
        return result
    images = generate(args.model, args.num, args.seed, args.label, args.latent_distribution)
    write_png(args.out, grid(images))
    print(f"wrote {args.out}: {len(images)} images of {images.shape[1:]}")
    return images


if __name__ == "__main__":
    main()
