r"""Gradient all-reduce traffic per training step, for the paper configurations.

    python benchmarks/allreduce.py                      # every paper flagfile
    python benchmarks/allreduce.py --flagfiles=flags/dcgan_mnist.cfg,flags/cyclegan_horse2zebra.cfg

Under ``MirroredStrategy`` / ``MultiWorkerMirroredStrategy`` every optimizer
update sums its gradients over the replicas (an all-reduce) before applying
them. This script builds each model with its flagfile's hyper-parameters (on a
small random dataset of the flagfile's image shape: the networks, not the
data, set the sizes), runs ONE training step eagerly and adds up the bytes of
the gradients handed to each optimizer update: the bytes one replica
contributes to the all-reduces of a step (k discriminator updates, the
generator's, Q's, ... as the model really runs them; for growing models, the
first stage's networks). It also gives the trainable bytes of all networks.

The times are what a ring all-reduce needs on the wire: each worker sends and
receives 2 (N - 1) / N times the bytes, so with N = 8 workers at 10 Gbit/s a
step's gradients take 2 * 7/8 * bytes * 8 / 1e10 seconds, compared with the
step time one worker needs for its own share of the batch. Batch-norm
synchronisation (``--g_norm=sync_batch``) and metric reductions add a few KB and
are not counted.
"""
import glob
import os
import sys

from absl import app, flags

flags.DEFINE_list("flagfiles", None, "Flagfiles to measure (default: every paper flagfile "
                  "in flags/, not the *_quick ones or the 2-D toys).")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_LIKE = ("mnist", "fashion_mnist", "bundled:mnist", "bundled:fashion_mnist")


def _shape(kind, f):
    if kind == "vector":
        return None
    mnist = (f.dataset or "") in MNIST_LIKE
    size = f.image_size or (28 if mnist else 32 if "cifar" in (f.dataset or "") else 64)
    return (size, size, f.channels or (1 if mnist else 3))


def measure(path, extra=()):
    """(model name, all-reduced bytes in one step, trainable bytes, updates)."""
    import keras

    import tfgan_suite as tg
    from tfgan_suite import registry, train
    from tfgan_suite.data import synthetic
    fl = flags.FLAGS
    fl.unparse_flags()
    fl(["allreduce", f"--flagfile={path}", *extra])
    spec = registry.get(fl.model)
    kind = spec.cls.data_kinds[0]
    shape = _shape(kind, fl)
    if shape is None:
        return None
    source = synthetic.source(kind, shape, num=8, seed=0,
                              num_classes=10 if spec.cls.needs_labels else 0)
    model = tg.build(fl.model, data=source, seed=0, **train.hparam_overrides(spec))
    k = spec.cls.batches_per_step(model.hparams)
    ds = source.dataset(2, disc_steps=k, seed=0, fields=model.batch_fields)
    sent = []
    apply = keras.optimizers.Optimizer.apply

    def counting(self, grads, variables=None):
        sent.append(sum(int(g.shape.num_elements()) * g.dtype.size
                        for g in grads if g is not None))
        return apply(self, grads, variables)

    keras.optimizers.Optimizer.apply = counting
    try:
        model.run_eagerly = True
        model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
    finally:
        keras.optimizers.Optimizer.apply = apply
    import numpy as np
    trainable = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize
                    for n in model.network_names if getattr(model, n, None) is not None
                    for v in getattr(model, n).trainable_variables)
    return fl.model, sum(sent), trainable, len(sent)


def main(argv):
    del argv
    import tfgan_suite.train  # noqa: F401  (defines the flags a flagfile sets)
    paths = flags.FLAGS.flagfiles or sorted(
        p for p in glob.glob(os.path.join(REPO, "flags", "*.cfg"))
        if not p.endswith("_quick.cfg"))
    rows = []
    from tfgan_suite.errors import ConfigError
    for path in paths:
        try:
            got = measure(path)
        except ConfigError as e:
            if "VGG" not in str(e):
                raise
            # SRGAN's VGG19 is frozen (no gradients): MSE content gives the same traffic
            print(f"{os.path.basename(path)}: no VGG19 weights here, measured with "
                  f"--content_loss=mse (VGG is frozen: the same gradients)", file=sys.stderr)
            got = measure(path, ["--content_loss=mse"])
        if got is None:
            continue
        name, step_bytes, trainable, updates = got
        rows.append((os.path.basename(path), name, step_bytes, trainable, updates))
        print(f"measured {rows[-1][0]}", file=sys.stderr, flush=True)
    print("| flagfile | model | updates / step | all-reduced MB / step | trainable MB | "
          "ring time, 8 workers, 10 Gbit/s | 100 Gbit/s |")
    print("|---|---|---|---|---|---|---|")
    for base, name, step_bytes, trainable, updates in rows:
        wire = 2 * 7 / 8 * step_bytes * 8  # bits each worker sends (and receives)
        print(f"| {base} | {name} | {updates} | {step_bytes / 1e6:.2f} | {trainable / 1e6:.2f} | "
              f"{wire / 1e10 * 1e3:.1f} ms | {wire / 1e11 * 1e3:.2f} ms |")


if __name__ == "__main__":
    app.run(main)
