r"""Adam's update alone: Keras 3's Adam against the suite's FusedAdam.

    python benchmarks/optimizer.py --model=pix2pix --image_size=128 --repeats=5

Both optimizers update the same variables (the trainable variables of a
model's generator and discriminator, built by ``tfgan_suite.build``) with the
same random gradients, each inside one ``tf.function``. The two alternate
(round-robin), so machine noise hits both alike; the script prints the median
milliseconds per update and the median of the paired ratios. Nothing here
asserts a time.
"""
import statistics
import time

from absl import app, flags

flags.DEFINE_string("model", "pix2pix", "Model whose variables are updated.")
flags.DEFINE_string("dataset", None, "Dataset spec (default: the model's).")
flags.DEFINE_integer("image_size", 128, "Image size of the model.")
flags.DEFINE_integer("updates", 5, "Updates per measurement.")
flags.DEFINE_integer("repeats", 5, "Measurements per optimizer.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgan_suite as tg
    from tfgan_suite import data, registry
    from tfgan_suite.optimizers import FusedAdam

    spec = FLAGS.dataset or registry.get(FLAGS.model).default_dataset
    model = tg.build(FLAGS.model, data=data.load(spec, image_size=FLAGS.image_size), seed=0)
    variables = model.generator.trainable_variables + model.discriminator.trainable_variables
    count = sum(int(np.prod(v.shape)) for v in variables)
    rng = np.random.default_rng(0)
    grads = [tf.constant(rng.normal(size=v.shape).astype("float32")) for v in variables]

    def updater(optimizer):
        optimizer.build(variables)
        fn = tf.function(lambda: optimizer.apply_gradients(zip(grads, variables)))
        fn()  # trace
        return fn

    paths = {"keras Adam": updater(keras.optimizers.Adam(2e-4, beta_1=0.5)),
             "FusedAdam": updater(FusedAdam(2e-4, beta_1=0.5))}
    times = {k: [] for k in paths}
    for _ in range(FLAGS.repeats):
        for name, fn in paths.items():
            start = time.perf_counter()
            for _ in range(FLAGS.updates):
                fn()
            variables[0].numpy()  # wait for the last update
            times[name].append((time.perf_counter() - start) / FLAGS.updates * 1000)
    ratios = [a / b for a, b in zip(times["keras Adam"], times["FusedAdam"])]
    print(f"\nAdam over {FLAGS.model}'s G and D at {FLAGS.image_size} px: {len(variables)} "
          f"variables, {count / 1e6:.1f}M parameters; {FLAGS.updates} updates x "
          f"{FLAGS.repeats} repeats (ms per update: median [min-max])")
    print("| keras Adam | FusedAdam | keras / fused (median of paired ratios) |")
    print("|---|---|---|")
    cell = {k: f"{statistics.median(v):.1f} [{min(v):.1f}-{max(v):.1f}]" for k, v in times.items()}
    print(f"| {cell['keras Adam']} | {cell['FusedAdam']} | {statistics.median(ratios):.2f} "
          f"[{min(ratios):.2f}-{max(ratios):.2f}] |")


if __name__ == "__main__":
    app.run(main)
