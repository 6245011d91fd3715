r"""Measure a trained model: FID, KID, Inception Score, precision/recall, and for
models with paired targets L1 / PSNR / SSIM.

    python -m tfgan_suite.evaluate --model_dir=runs/dcgan_mnist_quick
    python -m tfgan_suite.evaluate --model_dir=D --metrics=fid,kid,is,pr --num_samples=10000 \
        --extractor=inception --inception_weights=/path/inception_v3_weights_tf_dim_ordering_tf_kernels.h5

The model says what is compared (``evaluation_batches``) and on which split by
default (``evaluation_split``: the training data for noise models, the test
split for image-to-image models). Prints a table and writes
``model_dir/metrics.json`` (value, std where defined, extractor id, sample
counts, training step). ``--extractor=auto`` uses the
bundled MNIST / Fashion-MNIST classifier for those datasets (offline; a
Frechet *classifier* distance and a classifier score, as TF-GAN reported for
MNIST) and InceptionV3 otherwise. Real statistics are cached in ``--stats_dir``.
The generated images stream through the extractor ``--eval_batch_size`` at a
time (any ``--num_samples``, e.g. 50,000, in constant memory), and with several
replicas (``--strategy=mirrored``, GPUs or ``--cpu_replicas``) each batch's
feature extraction is split over them. The table ends with the images/s.
"""
import json
import os

from tfgan_suite import console  # noqa: E402

console.quiet_start()  # before TensorFlow is imported: no start-up noise

from absl import app, flags  # noqa: E402

from tfgan_suite import cli  # noqa: E402
from tfgan_suite.errors import ConfigError  # noqa: E402
from tfgan_suite.metrics import evaluation  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("metrics", ["fid", "kid", "is", "pr"], "Feature metrics: fid, kid, is, pr "
                  "(default: the model's; none for super-resolution, measured by PSNR/SSIM).")
flags.DEFINE_integer("num_samples", 10000, "Generated (and real) images.", lower_bound=1)


def format_table(result):
    rows = [(k, v["value"], v.get("std")) for k, v in result.items() if isinstance(v, dict)]
    lines = [f"{'metric':<14} {'value':>12} {'std':>10}"]
    lines += [f"{k:<14} {v:>12.5g} {'' if s is None else f'{s:.3g}':>10}" for k, v, s in rows]
    compared = (f", extractor {result['extractor']}, {result['num_fake']} generated vs "
                f"{result['num_real']} real" if "extractor" in result else "")
    speed = (f", {result['images_per_second']:.0f} images/s"
             if "images_per_second" in result else "")
    lines.append(f"{result['num_images']} images of {result['dataset']}/{result['split']}"
                 f"{compared}, step {result['step']}{speed}")
    return "\n".join(lines + paired_table(result))


def paired_table(result):
    """The paired measures as rows per method (the floor -- bicubic or identity --
    then the model), shaped like the super-resolution papers' tables."""
    if "psnr" not in result:
        return []
    floors = [k[:-len("_psnr")] for k in result if k.endswith("_psnr")]
    rows = [(f, f + "_") for f in floors] + [(result.get("model", "model"), "")]
    y = " (Y)" if result.get("luma") else ""
    lines = ["", f"{'method':<14} {'PSNR' + y:>10} {'SSIM' + y:>10}"]
    for name, prefix in rows:
        lines.append(f"{name:<14} {result[prefix + 'psnr']['value']:>10.2f} "
                     f"{result[prefix + 'ssim']['value']:>10.4f}")
    return lines


def run_evaluation():
    import tfgan_suite
    from tfgan_suite import data
    from tfgan_suite import distribute
    from tfgan_suite import model_dir as md
    if not FLAGS.model_dir:
        raise ConfigError("--model_dir is required")
    distribute.split_cpu(FLAGS.cpu_replicas)
    strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.cpu_replicas)
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    options = data.DataOptions.from_config(
        model.config, dataset=FLAGS.dataset, data_dir=FLAGS.data_dir,
        direction=FLAGS.direction if FLAGS["direction"].present else None)
    run_data = data.RunData(options)
    asked = FLAGS["split"].present
    source, split = run_data.split(FLAGS.split if asked else model.evaluation_split,
                                   fallback=not asked)
    model.evaluation_reference(source)  # refuses what the model cannot be measured on
    metrics = FLAGS.metrics if FLAGS["metrics"].present else list(model.default_metrics)
    extractor = None
    if set(metrics) & set(evaluation.METRICS):
        extractor = evaluation.make_extractor(FLAGS.extractor, options.dataset,
                                              FLAGS.inception_weights, FLAGS.inception_graph)
    result = evaluation.evaluate(model, source, extractor, metrics, FLAGS.num_samples,
                                 FLAGS.eval_batch_size, FLAGS.seed, FLAGS.stats_dir, split,
                                 strategy=strategy)
    md.atomic_write(os.path.join(FLAGS.model_dir, "metrics.json"), json.dumps(result, indent=2))
    print(format_table(result))
    return result


main = cli.app_main(run_evaluation)


def run():
    """Console script entry point (``tfgan-evaluate``)."""
    app.run(main)


if __name__ == "__main__":
    run()
