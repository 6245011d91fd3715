r"""REST client for a tfgan_suite generator served by TF Serving.

    python export/serving/client_rest.py --server=http://localhost:8501 --model=dcgan \
        --num=8 --seed=0 --out_dir=served
    python export/serving/client_rest.py --model=dcgan --signature=generate --num=8 --seed=3
    python export/serving/client_rest.py --model=cgan --label=7 --num=8

``serving_default`` is sent the noise in TF Serving's row format (one
``{"z": [...]}`` instance per image, drawn here with NumPy; the latent size is
read from the server's ``/v1/models/<model>/metadata``). ``generate`` has
scalar inputs, so it is sent in the columnar format, ``{"inputs":
{"num_samples": N, "seed": S}}``, and the server draws the noise. The
``images_uint8`` output is written as PNG files. Standard library only (plus
NumPy), so it runs anywhere.
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


def latent_dim(server, model, timeout=60):
    """The size of ``z`` from TF Serving's model metadata."""
    return signature_inputs(server, model, timeout=timeout)["z"]


def predict(server, model, body, timeout=60):
    request = urllib.request.Request(
        f"{server.rstrip('/')}/v1/models/{model}:predict", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return parse_response(json.loads(response.read()))


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
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, default=None,
                        help="conditional models: the class of every image (generate: "
                             "-1 or none draws them)")
    parser.add_argument("--out_dir", default="served")
    args = parser.parse_args(argv)
    if args.signature == "generate":
        inputs = {"num_samples": args.num, "seed": args.seed}
        if args.label is not None:
            inputs["label"] = args.label
        body = build_request("generate", inputs, columnar=True)
    else:
        names = {"z": args.latent_dim} if args.latent_dim and args.label is None else \
            signature_inputs(args.server, args.model)
        latent = args.latent_dim or names["z"]
        z = np.random.default_rng(args.seed).standard_normal((args.num, latent))
        inputs = {"z": z.astype(np.float32)}
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
