"""Flags shared by the command-line apps, and their error handling.

Importing this module defines the flags every app understands (``--model_dir``,
``--seed``, the data and evaluation flags) and one flag per hyper-parameter any
model declares (``tfgan_suite.hparams``). Hyper-parameter flags default to None,
meaning "the model's default"; their help lists each model's default.
"""
import sys

from absl import flags, logging

from tfgan_suite import hparams, registry
from tfgan_suite.errors import ConfigError, DataError, ExportError, TrainingError
from tfgan_suite.metrics.evaluation import DEFAULT_STATS_DIR, EXTRACTORS

flags.DEFINE_string("model_dir", None, "Run directory: checkpoints, samples, TensorBoard "
                    "events, flags.txt (default runs/<model>).")
flags.DEFINE_enum("strategy", "auto", ["auto", "mirrored", "multi_worker", "one_device"],
                  "Distribution strategy (train; evaluate shards the feature extractor "
                  "over its replicas).")
flags.DEFINE_integer("cpu_replicas", 0, "Split the CPU into N logical devices and mirror "
                     "over them (for testing distribution without GPUs).", lower_bound=0)
flags.DEFINE_integer("seed", 42, "Seed of every random choice of the run.")
flags.DEFINE_string("dataset", None, "Dataset spec (default: the model's, or the run's for "
                    "evaluate). TFDS name, folder:PATH, bundled:mnist, bundled:fashion_mnist, "
                    "toy:gaussian1d, toy:ring8, toy:grid25.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_string("split", "train", "Dataset split (training data; evaluate's reference).")
flags.DEFINE_enum("direction", "a2b", ["a2b", "b2a"], "Two-domain data: train from "
                  "domain A to B or from B to A (stored with the run); sample --input_dir: "
                  "translate in this direction (CycleGAN has both).")
flags.DEFINE_string("checkpoint", None, "Checkpoint path for sample/evaluate (default: the "
                    "latest in --model_dir).")

# Evaluation (evaluate, and train --eval_every).
flags.DEFINE_enum("extractor", "auto", list(EXTRACTORS),
                  "Feature extractor: auto = the bundled classifier for MNIST/Fashion-MNIST, "
                  "InceptionV3 otherwise.")
flags.DEFINE_string("inception_weights", "imagenet", "InceptionV3 weights: 'imagenet' "
                    "(Keras download) or a local .h5 path.")
flags.DEFINE_string("inception_graph", None, "Path of classify_image_graph_def.pb.")
flags.DEFINE_integer("eval_batch_size", 200, "Images per extractor call.", lower_bound=1)
flags.DEFINE_string("stats_dir", DEFAULT_STATS_DIR, "Cache of real-data statistics.")

# Hyper-parameter flags, generated from the models' declarations (one per name,
# filed under "model <name>" in --helpfull).
HPARAM_FLAGS = hparams.define_flags(registry.specs())


def fail(error, status=2):
    """Print an error in one line and exit with ``status`` (2: bad input)."""
    print(f"error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def app_main(body):
    """An ``absl.app`` main running ``body()``: quiet TF INFO logs unless
    ``--verbosity`` is given, bad input reported in one line (``fail``)."""

    def main(argv):
        if len(argv) > 1:
            hint = (f"; did you mean --flagfile={argv[1]}?" if argv[1].endswith((".cfg", ".txt"))
                    else "; flags start with --")
            fail(f"unexpected argument {argv[1]!r}{hint}")
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)  # TF's INFO lines drown the progress bar
        try:
            body()
        except (ConfigError, DataError, ExportError) as e:
            fail(e)
        except TrainingError as e:
            fail(e, status=3)

    main.body = body  # tfgan_suite.run calls it in-process
    return main
