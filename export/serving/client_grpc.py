r"""gRPC client for a tfgan_suite generator served by TF Serving (port 8500).

    pip install tensorflow-serving-api   # optional: pins its own tensorflow version
    python export/serving/client_grpc.py --server=localhost:8500 --model=dcgan --num=8

Sends ``serving_default`` a batch of noise (or ``--signature=generate`` with
``num_samples`` and ``seed``) as a PredictRequest and writes the
``images_uint8`` output as PNG files. Not tested here: no model server runs on
this machine, and tensorflow-serving-api is not a dependency of the suite.
"""
import argparse
import os

import numpy as np


def main(argv=None):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from client_rest import add_latent_flag, draw_latent, write_png  # same folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="localhost:8500")
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--signature", default="serving_default",
                        choices=["serving_default", "generate"])
    parser.add_argument("--latent_dim", type=int, default=100)
    add_latent_flag(parser)
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out_dir", default="served")
    args = parser.parse_args(argv)

    request = predict_pb2.PredictRequest()
    request.model_spec.name = args.model
    request.model_spec.signature_name = args.signature
    if args.signature == "generate":
        request.inputs["num_samples"].CopyFrom(tf.make_tensor_proto(args.num, tf.int32))
        request.inputs["seed"].CopyFrom(tf.make_tensor_proto(args.seed, tf.int32))
    else:
        z = draw_latent(np.random.default_rng(args.seed), (args.num, args.latent_dim),
                        args.latent_distribution)
        request.inputs["z"].CopyFrom(tf.make_tensor_proto(z))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(args.server))
    response = stub.Predict(request, timeout=60.0)
    images = tf.make_ndarray(response.outputs["images_uint8"])
    os.makedirs(args.out_dir, exist_ok=True)
    for i, image in enumerate(images):
        write_png(os.path.join(args.out_dir, f"{args.model}_{i:03d}.png"), image)
    print(f"wrote {len(images)} images to {args.out_dir}")


if __name__ == "__main__":
    main()
