r"""Metric costs and the suite's first quality numbers.

    python benchmarks/metrics.py --model_dir=runs/dcgan_mnist_quick --num_samples=10000

Prints (1) feature-extraction throughput of the domain classifier and of
InceptionV3 (random weights: the same arithmetic as the ImageNet ones), (2) the
time to accumulate 10k x 2048 features and compute one FID from them, and
(3) FID / KID / classifier score / precision / recall of ``--model_dir``
against bundled MNIST with the domain extractor, next to the same numbers for
real MNIST test images against the train split (the floor a perfect generator
would reach with this many samples).
"""
import time

import numpy as np
from absl import app, flags

flags.DEFINE_string("model_dir", "runs/dcgan_mnist_quick", "Trained run to measure.")
flags.DEFINE_integer("num_samples", 10000, "Samples per set.")
flags.DEFINE_string("stats_dir", "/tmp/tfgan_suite_bench_stats", "Reference statistics cache.")
FLAGS = flags.FLAGS


def throughput(extractor, images, batch, repeats=3):
    extractor(images[:batch])  # trace / warm up
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(0, len(images), batch):
            extractor(images[i:i + batch])
        rates.append(len(images) / (time.perf_counter() - t))
    return np.median(rates), min(rates), max(rates)


def main(argv):
    del argv
    import tfgan_suite
    from tfgan_suite.models.contract import EvalBatch
    from tfgan_suite import data
    from tfgan_suite.metrics import FeatureStats, evaluation, frechet_distance
    from tfgan_suite.metrics.domain import DomainExtractor
    from tfgan_suite.metrics.inception import InceptionExtractor

    mnist = data.load("bundled:mnist", split="test")
    images = next(iter(mnist.dataset(2000, shuffle=False, with_labels=False))).numpy()
    domain = DomainExtractor("mnist")
    print("| extractor | images/s, median [min-max] of 3 |")
    print("|---|---|")
    print("| domain classifier (28x28, batch 200) | %.0f [%.0f-%.0f] |"
          % throughput(domain, images, 200))
    print("| InceptionV3 (299x299, batch 50, random weights) | %.1f [%.1f-%.1f] |"
          % throughput(InceptionExtractor(None), images[:200], 50, repeats=1))

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(10000, 2048)), rng.normal(0.1, 1.0, size=(10000, 2048))
    t = time.perf_counter()
    sa, sb = FeatureStats(2048), FeatureStats(2048)
    for i in range(0, 10000, 500):
        sa.update(a[i:i + 500])
        sb.update(b[i:i + 500])
    t_acc = time.perf_counter() - t
    t = time.perf_counter()
    frechet_distance(sa.mean, sa.cov, sb.mean, sb.cov)
    print(f"\n10k x 2048 features: accumulate both sets {t_acc:.2f} s, FID {time.perf_counter() - t:.2f} s")

    metrics = ["fid", "kid", "is", "pr"]
    model = tfgan_suite.load_model(FLAGS.model_dir)
    train = data.load("bundled:mnist", split="train")
    fake = evaluation.evaluate(model, train, domain, metrics, FLAGS.num_samples, 500, 0,
                               FLAGS.stats_dir, "train")

    class Real:  # the test split as a "generator": the floor of each metric
        step = 0

        def __init__(self):
            self.it = iter(mnist.dataset(500, shuffle=True, seed=1, with_labels=False))

        def evaluation_reference(self, source):
            return source

        def evaluation_batches(self, source, num, batch_size, seed):
            for start in range(0, num, batch_size):
                yield EvalBatch(next(self.it).numpy()[:min(batch_size, num - start)])

    real = evaluation.evaluate(Real(), train, domain, metrics,
                               min(FLAGS.num_samples, 10000), 500, 0, FLAGS.stats_dir, "train")
    print(f"\n{FLAGS.model_dir} (step {fake['step']}) vs bundled MNIST train, "
          f"{fake['num_fake']} samples, extractor {fake['extractor']}")
    print("| metric | generated | real test images |")
    print("|---|---|---|")
    for key in ("fid", "kid", "is", "precision", "recall"):
        print(f"| {key} | {fake[key]['value']:.4g} | {real[key]['value']:.4g} |")


if __name__ == "__main__":
    app.run(main)
