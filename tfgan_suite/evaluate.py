r"""Measure a trained model: FID, KID, Inception Score, precision/recall.

    python -m tfgan_suite.evaluate --model_dir=runs/dcgan_mnist_quick
    python -m tfgan_suite.evaluate --model_dir=D --metrics=fid,kid,is,pr --num_samples=10000 \
        --extractor=inception --inception_weights=/path/inception_v3_weights_tf_dim_ordering_tf_kernels.h5

Prints a table and writes ``model_dir/metrics.json`` (value, std where defined,
extractor id, sample counts, training step). ``--extractor=auto`` uses the
bundled MNIST / Fashion-MNIST classifier for those datasets (offline; a
Frechet *classifier* distance and a classifier score, as TF-GAN reported for
MNIST) and InceptionV3 otherwise. Real statistics are cached in ``--stats_dir``.
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ INFO/WARNING lines

from absl import app, flags  # noqa: E402

from tfgan_suite import cli  # noqa: E402
from tfgan_suite.errors import ConfigError  # noqa: E402
from tfgan_suite.metrics import evaluation  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("metrics", ["fid", "kid", "is", "pr"], "Metrics: fid, kid, is, pr.")
flags.DEFINE_integer("num_samples", 10000, "Generated (and real) images.", lower_bound=1)


def format_table(result):
    rows = [(k, v["value"], v.get("std")) for k, v in result.items() if isinstance(v, dict)]
    lines = [f"{'metric':<10} {'value':>12} {'std':>10}"]
    lines += [f"{k:<10} {v:>12.5g} {'' if s is None else f'{s:.3g}':>10}" for k, v, s in rows]
    lines.append(f"extractor {result['extractor']}, {result['num_fake']} generated vs "
                 f"{result['num_real']} real ({result['dataset']}/{result['split']}), "
                 f"step {result['step']}")
    return "\n".join(lines)


def run_evaluation():
    import tfgan_suite
    from tfgan_suite import data
    from tfgan_suite import model_dir as md
    if not FLAGS.model_dir:
        raise ConfigError("--model_dir is required")
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    config = model.config
    if config["data_kind"] in ("paired", "unpaired"):
        return evaluate_translation(model, config)
    if config["data_kind"] != "image":
        raise ConfigError(f"evaluate measures image models; {FLAGS.model_dir} was trained on "
                          f"{config['dataset']} ({config['data_kind']} data)")
    spec = FLAGS.dataset or config["dataset"]
    h, _, c = config["data_shape"]
    source = data.load(spec, split=FLAGS.split, data_dir=FLAGS.data_dir, image_size=h,
                       channels=c)
    extractor = evaluation.make_extractor(FLAGS.extractor, spec, FLAGS.inception_weights,
                                          FLAGS.inception_graph)
    result = evaluation.evaluate(model, source, extractor, FLAGS.metrics, FLAGS.num_samples,
                                 FLAGS.eval_batch_size, FLAGS.seed, FLAGS.stats_dir,
                                 FLAGS.split)
    md.atomic_write(os.path.join(FLAGS.model_dir, "metrics.json"),
                         json.dumps(result, indent=2))
    print(format_table(result))
    return result


def evaluate_translation(model, config):
    """Image-to-image models: quality on the held-out pairs (--split, default test)."""
    from tfgan_suite import data
    from tfgan_suite import model_dir as md
    spec = FLAGS.dataset or config["dataset"]
    split = FLAGS.split if FLAGS["split"].present else "test"
    h, _, c = config["data_shape"]
    source = data.load(spec, split=split, data_dir=FLAGS.data_dir, image_size=h, channels=c,
                       jitter=False)
    extractor = None
    if "fid" in FLAGS.metrics:
        extractor = evaluation.make_extractor(FLAGS.extractor, spec, FLAGS.inception_weights,
                                              FLAGS.inception_graph)
    result = evaluation.evaluate_translation(model, source, extractor, FLAGS.num_samples,
                                             FLAGS.eval_batch_size, FLAGS.stats_dir, split,
                                             FLAGS.seed)
    md.atomic_write(os.path.join(FLAGS.model_dir, "metrics.json"), json.dumps(result, indent=2))
    rows = [(k, v["value"]) for k, v in result.items() if isinstance(v, dict)]
    print("\n".join([f"{'metric':<14} {'value':>12}"] + [f"{k:<14} {v:>12.5g}" for k, v in rows]))
    print(f"{result['num_images']} held-out images of {spec}/{split}, step {result['step']}"
          + (f", extractor {result['extractor']}" if "extractor" in result else ""))
    return result


main = cli.app_main(run_evaluation)


def run():
    """Console script entry point (``tfgan-evaluate``)."""
    app.run(main)


if __name__ == "__main__":
    run()
