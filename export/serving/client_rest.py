r"""REST client for a tfgan_suite generator served by TF Serving.

    python export/serving/client_rest.py --server=http://localhost:8501 --model=dcgan \
        --num=8 --seed=0 --out_dir=served
    python export/serving/client_rest.py --model=dcgan --signature=generate --num=8 --seed=3
    python export/serving/client_rest.py --model=cgan --label=7 --num=8
    python export/serving/client_rest.py --model=srresnet --image=photo.png   # image input

``serving_default`` is sent the noise in TF Serving's row format (one
``{"z": [...]}`` instance per image, drawn here with NumPy; the latent size is
read from the server's ``/v1/models/<model>/metadata``). ``generate`` has
scalar inputs, so it is sent in the columnar format, ``{"inputs":
{"num_samples": N, "seed": S}}``, and the server draws the noise. The
``images_uint8`` output is written as PNG files. Models whose input is an image
(super-resolution, image-to-image) are sent ``--image`` (a PNG, or a .npy uint8
array), one instance. Standard library only (plus NumPy), so it runs anywhere.
"""
import argparse
import json
import os
import struct
import urllib.request
import zlib

import numpy as np


def build_request(signature, inputs, columnar=False):
    """A TF Serving predict body.

    Row format: {"signature_name": ..., "instances": [{name: value}, ...]} (one
    instance per example). Columnar: {"signature_name": ..., "inputs": {name: value}}.
    """
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    if columnar:
        return {"signature_name": signature, "inputs": {k: a.tolist() for k, a in arrays.items()}}
    n = len(next(iter(arrays.values())))
    return {"signature_name": signature,
            "instances": [{k: a[i].tolist() for k, a in arrays.items()} for i in range(n)]}


def parse_response(body):
    """Row ({"predictions": [{output: value}, ...]}) or columnar ({"outputs": {...}})
    responses -> {output: np.ndarray}."""
    if "outputs" in body:
        outputs = body["outputs"]
        return {k: np.asarray(v) for k, v in outputs.items()} if isinstance(outputs, dict) \
            else {"output": np.asarray(outputs)}
    predictions = body["predictions"]
    if predictions and isinstance(predictions[0], dict):
        return {k: np.asarray([p[k] for p in predictions]) for k in predictions[0]}
    return {"output": np.asarray(predictions)}


def signature_inputs(server, model, signature="serving_default", timeout=60):
    """{input name: size of its last dimension (None for [batch] inputs)} of a
    signature, from TF Serving's model metadata (GET /v1/models/<m>/metadata)."""
    with urllib.request.urlopen(f"{server.rstrip('/')}/v1/models/{model}/metadata",
                                timeout=timeout) as response:
        meta = json.loads(response.read())
    sig = meta["metadata"]["signature_def"]["signature_def"][signature]
    out = {}
    for name, info in sig["inputs"].items():
        dims = info.get("tensor_shape", {}).get("dim", [])
        out[name] = int(dims[-1]["size"]) if len(dims) > 1 else None
    return out


LATENT_DISTRIBUTIONS = ("normal", "uniform")


def draw_latent(rng, shape, distribution="normal"):
    """z as the model was trained with it (its export metadata's
    ``latent_distribution``): N(0, 1), or U(-1, 1) per dimension."""
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def add_latent_flag(parser):
    parser.add_argument("--latent_distribution", default="normal", choices=LATENT_DISTRIBUTIONS,
                        help="the distribution z was trained with (the export metadata's "
                             "latent_distribution)")


def latent_dim(server, model, timeout=60):
    """The size of ``z`` from TF Serving's model metadata."""
    return signature_inputs(server, model, timeout=timeout)["z"]


def predict(server, model, body, timeout=60):
    request = urllib.request.Request(
        f"{server.rstrip('/')}/v1/models/{model}:predict", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return parse_response(json.loads(response.read()))


def read_png(path):
    """uint8 [H, W, C] of an 8-bit, non-interlaced PNG (grey, RGB, grey+alpha or
    RGBA), decoded with zlib; alpha is dropped."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    w, h, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or interlace or channels is None:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB(A) PNGs are read here")
    raw = zlib.decompress(b"".join(chunks))
    stride = w * channels
    out = np.zeros((h, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(h):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if kind == 2:
            line = (line + previous) & 255
        elif kind in (1, 3, 4):  # Sub, Average, Paeth depend on the pixel to the left
            line = line.copy()
            for x in range(stride):
                a = line[x - channels] if x >= channels else 0
                b, c = previous[x], previous[x - channels] if x >= channels else 0
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        out[y] = line
        previous = out[y]
    image = out.astype(np.uint8).reshape(h, w, channels)
    return image[..., :3] if channels == 4 else image[..., :1] if channels == 2 else image


def write_png(path, image):
    """Minimal PNG writer for uint8 [H, W, 1 or 3] images (no imaging library needed)."""
    image = np.asarray(image, np.uint8)
    h, w, c = image.shape
    color = {1: 0, 3: 2}[c]
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://localhost:8501")
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--signature", default="serving_default",
                        choices=["serving_default", "generate"])
    parser.add_argument("--latent_dim", type=int, default=None,
                        help="default: asked from the model's metadata signature")
    add_latent_flag(parser)
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, default=None,
                        help="conditional models: the class of every image (generate: "
                             "-1 or none draws them)")
    parser.add_argument("--image", default=None,
                        help="image-input models: a PNG or .npy uint8 image to send")
    parser.add_argument("--out_dir", default="served")
    args = parser.parse_args(argv)
    if args.image:
        image = np.load(args.image) if args.image.endswith(".npy") else read_png(args.image)
        body = build_request("serving_default",
                             {"images": (image.astype(np.float32) / 127.5 - 1.0)[None]})
    elif args.signature == "generate":
        inputs = {"num_samples": args.num, "seed": args.seed}
        if args.label is not None:
            inputs["label"] = args.label
        body = build_request("generate", inputs, columnar=True)
    else:
        names = {"z": args.latent_dim} if args.latent_dim and args.label is None else \
            signature_inputs(args.server, args.model)
        latent = args.latent_dim or names["z"]
        inputs = {"z": draw_latent(np.random.default_rng(args.seed), (args.num, latent),
                                   args.latent_distribution)}
        if "labels" in names:
            if args.label is None:
                parser.error(f"model {args.model} is conditional: give --label=CLASS")
            inputs["labels"] = np.full(args.num, args.label, np.int32)
        body = build_request("serving_default", inputs)
    outputs = predict(args.server, args.model, body)
    os.makedirs(args.out_dir, exist_ok=True)
    images = outputs["images_uint8"].reshape((-1,) + outputs["images_uint8"].shape[-3:])
    for i, image in enumerate(images):
        write_png(os.path.join(args.out_dir, f"{args.model}_{i:03d}.png"), image)
    print(f"wrote {len(images)} images to {args.out_dir}")
    return outputs


if __name__ == "__main__":
    main()
