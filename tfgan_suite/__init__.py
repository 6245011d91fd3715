"""tfgan_suite: the GANs of the papers as Keras 3 models.

    import tfgan_suite as tg
    model = tg.build("dcgan", data_shape=(28, 28, 1))  # or data=tg.data.load("bundled:mnist")
    model.fit(dataset, steps_per_epoch=..., epochs=...)
    images = model.generate(16)

``build`` returns a compiled model (optimizers from the registry's defaults,
overridable with ``g_optimizer=`` / ``d_optimizer=``); call it inside
``strategy.scope()`` to train distributed. ``load_model(model_dir)`` rebuilds a
trained model from a training run's directory.
"""
from tfgan_suite import registry
from tfgan_suite.errors import ConfigError, DataError
from tfgan_suite.registry import list_models

__version__ = "0.1.0"


def data_kind_of(shape):
    """"image" for [H, W, C] data, "vector" for [D] data."""
    if len(shape) == 3:
        return "image"
    if len(shape) == 1:
        return "vector"
    raise ConfigError(f"data_shape must be (H, W, C) or (D,), got {tuple(shape)}")


def data_spec_for(spec, data_shape=None, data_kind=None, class_names=None, data=None):
    """The ``DataSpec`` a model is built for: from ``data`` (a DataSource or a
    DataSpec), else from a shape, a kind (default: what the shape says, or the
    model's first kind for images) and class names."""
    from tfgan_suite.data.spec import DataSpec
    if data is not None:
        return data if isinstance(data, DataSpec) else data.data_spec
    shape = tuple(data_shape or spec.default_shape)
    kind = data_kind or data_kind_of(shape)
    if data_kind is None and kind == "image" and kind not in spec.cls.data_kinds:
        kind = spec.cls.data_kinds[0]  # e.g. image-to-image models: their first kind
    return DataSpec(kind, shape, tuple(class_names or ()))


def build(name, data_shape=None, *, data=None, g_optimizer=None, d_optimizer=None,
          seed=None, jit_compile=False, steps_per_execution=1, data_kind=None,
          class_names=None, **hparams):
    """Build and compile model ``name`` for its data.

    The data is ``data`` (a ``DataSource`` from ``tfgan_suite.data.load`` or a
    ``DataSpec``), or described by ``data_shape`` (and ``data_kind`` /
    ``class_names``). ``hparams`` override the model's defaults (see
    ``registry.resolve_hparams``); unknown names raise ``ConfigError``, and so
    does data the model cannot train on. ``seed`` makes the model reproducible:
    it seeds the weight initialisers (``keras.utils.set_random_seed``, which
    also sets Python's, NumPy's and TensorFlow's global seeds, as ``train
    --seed`` does) and the model's own noise.
    """
    from tfgan_suite.optimizers import make_optimizer
    spec = registry.get(name)
    data_spec = data_spec_for(spec, data_shape, data_kind, class_names, data)
    hp = registry.resolve_hparams(name, hparams, data_spec)
    if seed is not None:
        import keras
        keras.utils.set_random_seed(int(seed))
    model = spec.cls.from_hparams(hp, data_spec, seed=seed)
    model.compile(g_optimizer or make_optimizer(hp, "g", spec.cls.optimizer_updates(hp, "g")),
                  d_optimizer or make_optimizer(hp, "d", spec.cls.optimizer_updates(hp, "d")),
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    return model


def load_model(model_dir, checkpoint=None):
    """Rebuild the model trained in ``model_dir`` and restore its latest checkpoint."""
    from tfgan_suite import model_dir as md
    return md.load_model(model_dir, checkpoint)


def load_generator(model_dir, checkpoint=None):
    """The trained generator (a ``keras.Model``) of ``model_dir``."""
    return load_model(model_dir, checkpoint).generator


#: The command-line apps ``run`` can start in this process.
APPS = ("train", "sample", "evaluate", "export")


def run(app, *args):
    """Run a command-line app in this Python process, for notebooks and scripts:
    ``run("train", "--flagfile=flags/dcgan_mnist_quick.cfg", "--train_steps=500")``
    does what ``python -m tfgan_suite.train --flagfile=... --train_steps=500`` does
    (the same flags, flagfiles, defaults and output) without starting a new
    Python and TensorFlow. Returns what the app returns (``train``: the trained
    model; ``evaluate``: the metrics). A bad flag raises ``absl.flags.Error``; bad
    input raises ``ConfigError`` / ``DataError`` instead of exiting."""
    import importlib

    from absl import flags
    if app not in APPS:
        raise ConfigError(f"run({app!r}): the apps are {', '.join(APPS)}")
    module = importlib.import_module(f"tfgan_suite.{app}")  # defines the app's flags
    FLAGS = flags.FLAGS
    FLAGS.unparse_flags()
    try:
        from absl import logging
        rest = FLAGS([f"tfgan_suite.{app}", *map(str, args)])
        if len(rest) > 1:
            raise ConfigError(f"run({app!r}): unexpected argument {rest[1]!r}; flags start "
                              f"with --")
        if not FLAGS["verbosity"].present:  # as the apps: absl's INFO lines off
            logging.set_verbosity(logging.WARNING)
        return module.main.body()
    finally:
        FLAGS.unparse_flags()


__all__ = ["build", "list_models", "load_model", "load_generator", "run", "ConfigError",
           "DataError", "__version__"]
