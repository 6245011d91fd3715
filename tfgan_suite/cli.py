"""Flags shared by the command-line apps, and their error handling.

Importing this module defines the flags every app understands (``--model_dir``,
``--seed``) and the hyper-parameter flags shared by the models; each model
module defines its own (e.g. ``--generator_loss`` in ``models/gan.py``).
Hyper-parameter flags default to None, meaning "the model's default".
"""
import sys

from absl import flags, logging

from tfgan_suite import models  # noqa: F401  (model modules define their flags)
from tfgan_suite import networks
from tfgan_suite.errors import ConfigError, DataError, ExportError
from tfgan_suite.metrics.evaluation import DEFAULT_STATS_DIR, EXTRACTORS

flags.DEFINE_string("model_dir", None, "Run directory: checkpoints, samples, TensorBoard "
                    "events, flags.txt (default runs/<model>).")
flags.DEFINE_integer("seed", 42, "Seed of every random choice of the run.")
flags.DEFINE_string("dataset", None, "Dataset spec (default: the model's, or the run's for "
                    "evaluate). TFDS name, folder:PATH, bundled:mnist, bundled:fashion_mnist, "
                    "toy:gaussian1d, toy:ring8, toy:grid25.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_string("split", "train", "Dataset split (training data; evaluate's reference).")
flags.DEFINE_enum("direction", "a2b", ["a2b", "b2a"], "Image-to-image models: train "
                  "(pix2pix) or translate (sample; CycleGAN has both) from domain A to B or "
                  "from B to A.")
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

# Hyper-parameters understood by every model (tfgan_suite.models.base.BASE_HPARAMS).
flags.DEFINE_integer("latent_dim", None, "Dimension of the noise z.", lower_bound=1)
flags.DEFINE_integer("disc_steps", None, "Discriminator updates per generator update (k).",
                     lower_bound=1)
flags.DEFINE_enum("optimizer", None, ["adam", "rmsprop", "sgd"], "Optimizer of both networks.")
flags.DEFINE_float("g_learning_rate", None, "Generator learning rate.")
flags.DEFINE_float("d_learning_rate", None, "Discriminator learning rate.")
flags.DEFINE_float("beta1", None, "Adam beta_1 (SGD momentum).")
flags.DEFINE_float("beta2", None, "Adam beta_2.")
flags.DEFINE_integer("lr_constant_steps", None, "Steps at the initial learning rate before "
                     "the linear decay.", lower_bound=0)
flags.DEFINE_integer("lr_decay_steps", None, "Steps of linear decay of the learning rates "
                     "to 0 (0: constant rates).", lower_bound=0)
# Network builders (tfgan_suite.networks).
flags.DEFINE_enum("architecture", None, list(networks.ARCHITECTURES), "Network family.")
flags.DEFINE_list("g_hidden_units", None, "mlp: generator hidden layer widths.")
flags.DEFINE_list("d_hidden_units", None, "mlp: discriminator hidden layer widths.")
flags.DEFINE_boolean("g_batchnorm", None, "mlp: BatchNorm in the generator.")
flags.DEFINE_string("g_activation", None, "mlp: generator hidden activation (relu, "
                    "leaky_relu, tanh, ...).")
flags.DEFINE_float("d_dropout", None, "mlp: dropout rate in the discriminator.")
flags.DEFINE_boolean("d_minibatch_std", None, "mlp: minibatch standard-deviation feature "
                     "in the discriminator (Karras et al. 2018).")
flags.DEFINE_integer("g_filters", None, "dcgan: generator width (channels of its last "
                     "hidden layer).", lower_bound=1)
flags.DEFINE_integer("d_filters", None, "dcgan: discriminator width (channels of its first "
                     "layer).", lower_bound=1)
flags.DEFINE_integer("kernel_size", None, "dcgan: convolution kernel size.", lower_bound=1)
flags.DEFINE_enum("d_norm", None, ["batch", "layer", "none"], "dcgan: normalisation in the "
                  "discriminator/critic.")
flags.DEFINE_boolean("d_spectral_norm", None, "Spectral normalisation of every discriminator "
                     "layer (keras.layers.SpectralNormalization).")


def fail(error):
    """Print a bad-input error in one line and exit with status 2."""
    print(f"error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def app_main(body):
    """An ``absl.app`` main running ``body()``: quiet TF INFO logs unless
    ``--verbosity`` is given, bad input reported in one line (``fail``)."""

    def main(argv):
        del argv
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)  # TF's INFO lines drown the progress bar
        try:
            body()
        except (ConfigError, DataError, ExportError) as e:
            fail(e)

    return main
