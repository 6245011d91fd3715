r"""Train a GAN of the suite.

    python -m tfgan_suite.train --model=dcgan --dataset=bundled:mnist \
        --train_steps=2000 --model_dir=runs/dcgan_mnist
    python -m tfgan_suite.train --flagfile=flags/dcgan_mnist_quick.cfg

Flags shared by all models are defined here; hyper-parameter flags
(``--latent_dim``, ``--g_learning_rate``, ``--generator_loss``, ...) default to
the model's own values (``tfgan_suite.registry``) and override them only when
given. Re-running on the same ``--model_dir`` resumes from the latest
checkpoint. ``model_dir/flags.txt`` holds the effective flags of the run and can
be passed back with ``--flagfile``.
"""
import json
import math
import os
import signal
import sys

from tfgan_suite import console

console.quiet_start()  # before TensorFlow is imported: no start-up noise

from absl import app, flags, logging  # noqa: E402

from tfgan_suite import cli
from tfgan_suite.errors import ConfigError, DataError, TrainingError

FLAGS = flags.FLAGS

flags.DEFINE_string("model", "dcgan", "Model name; see --helpfull or tfgan_suite.list_models().")
flags.DEFINE_integer("image_size", None, "Square image size (default: the data's own; "
                     "64 for folders).", lower_bound=1)
flags.DEFINE_integer("channels", 0, "Image channels, 1 or 3 (0: the data's own).")
flags.DEFINE_float("toy_mu", 4.0, "toy:gaussian1d mean.")
flags.DEFINE_float("toy_sigma", 0.5, "toy:gaussian1d standard deviation.", lower_bound=0.0)
flags.DEFINE_integer("batch_size", 64, "Global batch size of one update (default 64; "
                     "1 for pix2pix and cyclegan, as in their papers).", lower_bound=1)
flags.DEFINE_integer("train_steps", None, "Generator updates to train for (default 10000 "
                     "unless --epochs is given).", lower_bound=1)
flags.DEFINE_integer("epochs", None, "Passes over the data (finite datasets); "
                     "alternative to --train_steps.", lower_bound=1)
flags.DEFINE_integer("steps_per_epoch", 0, "Steps per Keras epoch (progress bar unit); "
                     "0: one pass over the data, 1000 for infinite data.", lower_bound=0)
flags.DEFINE_boolean("jit_compile", None, "Compile the train step with XLA (default: on "
                     "when a GPU is present; off on CPU, where XLA measured ~30% slower "
                     "for DCGAN, see benchmarks/throughput.py).")
flags.DEFINE_boolean("mixed_precision", None, "Mixed precision: float16 on GPU, bfloat16 "
                     "on CPU; variables, losses and images stay float32. Default: on for "
                     "CPUs with native bfloat16 (avx512_bf16 / amx_bf16), where DCGAN trained "
                     "1.3-1.5x faster; off elsewhere.")
flags.DEFINE_integer("steps_per_execution", 1, "Train steps per tf.function call.",
                     lower_bound=1)
flags.DEFINE_integer("save_every", 500, "Checkpoint every N steps.", lower_bound=1)
flags.DEFINE_integer("keep_checkpoints", 5, "Checkpoints kept.", lower_bound=1)
flags.DEFINE_integer("sample_every", 500, "Sample grid every N steps (0: only at the end).",
                     lower_bound=0)
flags.DEFINE_integer("log_every", 100, "TensorBoard scalars, and a progress line when the "
                     "output is not a terminal, every N steps.", lower_bound=1)
flags.DEFINE_integer("num_grid", None, "Samples in each sample grid (default: the model's, "
                     "64 noise samples; 8 held-out images, 4 at 256 px, 2 at 512; 2000 toy "
                     "points).", lower_bound=1)
flags.DEFINE_string("cache", "auto", "Cache decoded images: auto (in memory if < 2 GiB), "
                    "true, false, or a file path.")
flags.DEFINE_integer("eval_every", 0, "Measure --eval_metrics every N steps, log them to "
                     "TensorBoard and keep the best checkpoint by FID in model_dir/best/ "
                     "(0: never).", lower_bound=0)
flags.DEFINE_integer("eval_num_samples", 2000, "Images per periodic evaluation.", lower_bound=2)
flags.DEFINE_list("eval_metrics", ["fid"], "Metrics of the periodic evaluation.")
flags.DEFINE_boolean("jitter", True, "Image-to-image data: random jitter (resize to "
                     "286/256 of --image_size, random crop, random mirroring).")
flags.DEFINE_integer("lr_constant_epochs", None, "Epochs at the initial learning rate "
                     "before a linear decay (pix2pix/CycleGAN schedule; sets "
                     "--lr_constant_steps).", lower_bound=0)
flags.DEFINE_integer("lr_decay_epochs", None, "Epochs of linear decay of the learning "
                     "rates to 0 (sets --lr_decay_steps).", lower_bound=0)
flags.DEFINE_integer("num_labeled", None, "Keep the labels of N training examples (balanced "
                     "over the classes, chosen by --seed, their indices written to "
                     "model_dir/labeled_indices.json); the others are unlabelled.",
                     lower_bound=1)
flags.DEFINE_integer("verbose", None, "Keras' own progress instead of the suite's: 1 bar, "
                     "2 one line per epoch, 0 none (default: the suite's progress in run "
                     "steps: a bar on a terminal, a line every --log_every steps otherwise).",
                     lower_bound=0, upper_bound=2)

flags.DEFINE_list("profile_steps", [], "START,END: record steps START+1..END with the "
                  "TensorFlow profiler into MODEL_DIR/plugins/profile (TensorBoard's Profile "
                  "tab; benchmarks/profile_step.py summarises it).")
flags.DEFINE_enum("nan_policy", "stop", ["stop", "skip_step"], "A non-finite loss: stop "
                  "the run (keeping the last finite checkpoint), or skip_step: drop that "
                  "update, count it, and stop after --nan_skip_limit in a row.")
flags.DEFINE_integer("nan_skip_limit", 20, "--nan_policy=skip_step: dropped updates in a "
                     "row that stop the run.", lower_bound=1)

DEFAULT_TRAIN_STEPS = 10000


def hparam_overrides(spec, resuming=False):
    """Hyper-parameters given explicitly on the command line (or in a flagfile).

    A hyper-parameter flag the model does not read is refused, naming it --
    except when resuming a run of this model: the ``flags.txt`` of runs made
    before the flags were declared per model lists knobs the model never read
    (e.g. ``--latent_dim`` of pix2pix), which are then ignored with a warning.
    """
    from tfgan_suite.cli import HPARAM_FLAGS
    unread = [n for n in HPARAM_FLAGS if FLAGS[n].present and n not in spec.declarations]
    if unread and resuming:
        logging.warning("ignoring %s: not read by --model=%s",
                        ", ".join("--" + n for n in unread), spec.name)
    elif unread:
        raise ConfigError(f"--{unread[0]} is not read by --model={spec.name}; its "
                          f"hyper-parameters are: "
                          f"{', '.join('--' + n for n in sorted(spec.declarations))}")
    return {k: FLAGS[k].value for k in spec.declarations if FLAGS[k].present}


def resumes(model_dir, name):
    """Whether ``model_dir`` holds a run of model ``name`` (a resume)."""
    from tfgan_suite import model_dir as md
    try:
        return md.read_config(model_dir).get("model") == name
    except (ConfigError, ValueError, OSError):
        return False


def check_resume(model_dir, config):
    """Refuse to resume a run of another model or with other hyper-parameters."""
    from tfgan_suite import model_dir as md
    if not os.path.exists(os.path.join(model_dir, md.CONFIG)):
        return
    old = md.read_config(model_dir)
    new = json.loads(json.dumps(config, default=list))  # tuples -> lists, as stored
    # Everything that changes what is trained; keys a run of an older version
    # did not store are not compared. (--train_steps, logging and saving may change.)
    diffs = [f"{key}: {old.get(key)} -> {new[key]}"
             for key in ("model", "data_shape", "dataset", "seed", "batch_size")
             if key in old and old.get(key) != new[key]]
    old_data, new_data = old.get("data") or {}, new.get("data") or {}
    diffs += [f"--{key}: {old_data[key]} -> {new_data.get(key)}"
              for key in ("direction", "split", "toy_mu", "toy_sigma", "num_labeled", "view",
                          "scale")
              if key in old_data and old_data[key] != new_data.get(key)]
    diffs += [f"--{key}: {old['hparams'][key]} -> {value}"
              for key, value in new["hparams"].items()
              if key in old["hparams"] and old["hparams"][key] != value]
    if diffs:
        raise ConfigError(f"--model_dir={model_dir} holds a run with different settings "
                          f"({'; '.join(diffs)}); use a new --model_dir to start over, or "
                          f"--flagfile={os.path.join(model_dir, 'flags.txt')} to resume it")


def write_flags(model_dir, hparams):
    """flags.txt: every run flag of the suite and the model's hyper-parameters,
    with their effective values."""
    from tfgan_suite import model_dir as md
    from tfgan_suite.cli import HPARAM_FLAGS
    lines = []
    skip = {"flagfile"} | (set(HPARAM_FLAGS) - set(hparams))
    for module in sorted(FLAGS.flags_by_module_dict()):
        if module in ("tfgan_suite.evaluate", "tfgan_suite.sample") or (
                not module.startswith("tfgan_suite") and module not in ("__main__", sys.argv[0])):
            continue
        for flag in FLAGS.flags_by_module_dict()[module]:
            if flag.name in skip:
                continue
            value = hparams.get(flag.name, flag.value)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            if isinstance(value, bool):
                lines.append(f"--{flag.name}" if value else f"--no{flag.name}")
            else:
                lines.append(f"--{flag.name}={value}")
    md.atomic_write(os.path.join(model_dir, "flags.txt"), "\n".join(sorted(set(lines))) + "\n")


def data_options(dataset_spec, **model_options):
    """The run's ``DataOptions`` from the flags and the model's own
    (``model.data_options``: e.g. the super-resolution view and scale)."""
    from tfgan_suite import data
    return data.DataOptions(dataset=dataset_spec, split=FLAGS.split, data_dir=FLAGS.data_dir,
                            image_size=FLAGS.image_size, channels=FLAGS.channels or None,
                            direction=FLAGS.direction, jitter=FLAGS.jitter,
                            toy_mu=FLAGS.toy_mu, toy_sigma=FLAGS.toy_sigma,
                            num_labeled=FLAGS.num_labeled, label_seed=FLAGS.seed,
                            **model_options)


def model_data_options(spec, overrides, dataset_spec):
    """``data_options`` with what the model asks of its data (``data_options``)."""
    from tfgan_suite import registry
    return data_options(dataset_spec, **spec.cls.data_options(
        registry.resolve_hparams(spec.name, overrides)))


def train():
    from tfgan_suite import registry
    from tfgan_suite import model_dir as md

    # --- everything that can be checked before building anything -------------
    spec = registry.get(FLAGS.model)
    model_dir = FLAGS.model_dir or os.path.join("runs", spec.name)
    md.check_writable(model_dir)
    lock = md.RunLock(model_dir)
    try:  # SIGTERM handled like Ctrl-C (only the main thread can set a handler)
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:
        previous = None
    import keras
    policy = keras.mixed_precision.global_policy()
    try:
        return _train(spec, model_dir, lock)
    finally:
        keras.mixed_precision.set_global_policy(policy)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        lock.release()


class Terminated(KeyboardInterrupt):
    """SIGTERM (preemption): handled like Ctrl-C, with a checkpoint first."""


# Inside ``fit`` a SIGTERM is raised at the end of the current step, not at
# whatever Python line happens to run: that line may be a ``__del__`` run by the
# garbage collector, where an exception is printed and swallowed and the run
# would go on. A second SIGTERM raises at once.
_SIGTERM = {"defer": False, "pending": False}


def _terminate(signum, frame):
    if _SIGTERM["defer"] and not _SIGTERM["pending"]:
        _SIGTERM["pending"] = True
        return
    raise Terminated()


def terminate_callback():
    """The callback that raises a deferred SIGTERM at the end of a step."""
    import keras

    class RaiseDeferredSigterm(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if _SIGTERM["pending"]:
                raise Terminated()

    return RaiseDeferredSigterm()


def _train(spec, model_dir, lock):
    import keras
    import tensorflow as tf

    import tfgan_suite
    from tfgan_suite import callbacks, data, distribute, registry
    from tfgan_suite import model_dir as md

    startup = console.StartupTimer()
    startup.mark("import")
    overrides = hparam_overrides(spec, resuming=resumes(model_dir, spec.name))
    if FLAGS.train_steps is not None and FLAGS.epochs is not None:
        raise ConfigError("give --train_steps or --epochs, not both")
    if FLAGS.cache not in ("auto", "true", "false") and not FLAGS.cache:
        raise ConfigError("--cache must be auto, true, false or a path")
    if FLAGS.channels not in (0, 1, 3):
        raise ConfigError(f"--channels must be 1 or 3 (or 0 for the data's own), got "
                          f"{FLAGS.channels}")
    profile = profile_window(FLAGS.profile_steps) if FLAGS.profile_steps else None
    batch_size = FLAGS.batch_size
    if not FLAGS["batch_size"].present and spec.default_batch_size:
        batch_size = spec.default_batch_size  # e.g. pix2pix / CycleGAN: 1, as in the papers
    distribute.split_cpu(FLAGS.cpu_replicas)
    strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.cpu_replicas)
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(f"--batch_size={batch_size} must be divisible by the "
                          f"{replicas} replicas")
    policy = distribute.precision_policy(FLAGS.mixed_precision)
    if policy == "mixed_bfloat16" and not distribute.cpu_has_native_bfloat16():
        print("warning: --mixed_precision on a CPU without native bfloat16 (no "
              "avx512_bf16 / amx_bf16): TensorFlow emulates it, and DCGAN trained 7x "
              "slower here (benchmarks/throughput.py); leave it off on this machine",
              file=sys.stderr, flush=True)
    # The networks take the policy when they are built (train() restores the
    # previous one when the run ends).
    keras.mixed_precision.set_global_policy(policy)

    dataset_spec = FLAGS.dataset or spec.default_dataset
    options = model_data_options(spec, overrides, dataset_spec)
    source = options.load()
    run_data = data.RunData(options, train=source)
    startup.mark("data")
    hparams = registry.resolve_hparams(spec.name, overrides, source.data_spec)
    k = spec.cls.batches_per_step(hparams)
    step_batch = batch_size * k
    hparams = epoch_schedule(hparams, overrides, source, step_batch, spec.name)
    full_batches = source.steps_per_epoch(step_batch)
    per_epoch = FLAGS.steps_per_epoch or full_batches or 1000
    if full_batches == 0:
        raise DataError(f"--dataset={dataset_spec} has {source.num_examples} examples, fewer "
                        f"than one step ({step_batch} = --batch_size x minibatches per step)")
    if FLAGS.epochs is None and FLAGS.train_steps is None and (
            FLAGS.lr_constant_epochs or FLAGS.lr_decay_epochs):
        FLAGS.epochs = (FLAGS.lr_constant_epochs or 0) + (FLAGS.lr_decay_epochs or 0)
    if FLAGS.epochs is not None:
        if source.num_examples is None:
            raise ConfigError(f"--epochs needs a finite dataset; {dataset_spec} is "
                              f"infinite, use --train_steps")
        train_steps = FLAGS.epochs * source.steps_per_epoch(step_batch)
    else:
        train_steps = FLAGS.train_steps or DEFAULT_TRAIN_STEPS
    per_epoch = min(per_epoch, train_steps)
    config = dict(model=spec.name, hparams=hparams, data_shape=list(source.shape),
                  data_kind=source.kind, dataset=dataset_spec,
                  class_names=list(source.class_names or []), seed=FLAGS.seed,
                  batch_size=batch_size, data=options.to_json())
    chief = distribute.is_chief()
    write_dir = distribute.write_dir(model_dir)
    os.makedirs(write_dir, exist_ok=True)
    if chief:
        lock.acquire()  # one training process per run directory
    check_resume(model_dir, config)
    logging.info("data %s", source.describe())
    removed = md.clean_temporaries(write_dir)
    if removed:
        print(f"Removed {len(removed)} unfinished checkpoint save(s): {', '.join(removed)}")

    # --- model, checkpoint, data ----------------------------------------------
    jit = FLAGS.jit_compile
    if jit is None:
        jit = bool(tf.config.list_logical_devices("GPU"))
    with strategy.scope():
        model = tfgan_suite.build(spec.name, data=source, seed=FLAGS.seed, jit_compile=jit,
                                  steps_per_execution=FLAGS.steps_per_execution, **hparams)
    model.config = config
    model.nan_policy = FLAGS.nan_policy
    model.run_steps = train_steps
    ckpt, manager = md.checkpoint_manager(model, write_dir, FLAGS.keep_checkpoints)
    # Every worker resumes from the chief's checkpoints: a worker's own (in
    # .worker_tmp) can stop at another step when it was killed, and workers at
    # different steps desynchronise the collective ops. Only the chief sets
    # damaged files aside.
    required, late = md.checkpoint_parts(model, ckpt)
    restored, damaged = md.restore_newest_readable(required, model_dir, set_aside=chief,
                                                   late=late)
    for name in damaged:
        print(f"warning: checkpoint {name} is damaged; set aside as *.damaged", flush=True)
    if damaged and not restored:
        raise ConfigError(f"--model_dir={model_dir}: no checkpoint can be read "
                          f"({'; '.join(damaged)}); use a new --model_dir to start over")
    if restored:
        model.after_restore()
        print(f"Resuming {restored} at step {model.step}", flush=True)
    else:
        model.warm_start(source)  # e.g. SRGAN's G from an SRResNet run (--init_from)
    startup.mark("model")
    # --- files of the run: written once the model and its data are built ------
    if chief:
        md.write_config(model_dir, **config)
        write_flags(model_dir, {**hparams, "dataset": dataset_spec, "batch_size": batch_size})
        if source.labeled is not None:
            md.atomic_write(os.path.join(model_dir, "labeled_indices.json"), json.dumps(
                {"num_labeled": len(source.labeled), "seed": FLAGS.seed,
                 "indices": [int(i) for i in source.labeled]}))
    start = model.step
    if start >= train_steps:
        print(f"{model_dir} is already trained to step {start} (--train_steps={train_steps}).")
        return model
    targets = [b for b in model.stage_boundaries() if start < b < train_steps] + [train_steps]
    phases = model.training_phases()  # e.g. SimGAN's refiner/discriminator pre-training
    per_epoch = check_steps_per_execution(FLAGS.steps_per_execution, start, targets, phases,
                                          per_epoch)
    cache = {"true": True, "false": False}.get(FLAGS.cache, FLAGS.cache)
    ds = source.dataset(batch_size, disc_steps=k, num_replicas=replicas,
                        seed=FLAGS.seed + start, cache=cache,
                        fields=spec.cls.batch_fields)
    startup.mark("pipeline")

    # --- callbacks ---------------------------------------------------------------
    guard = callbacks.NonFiniteGuard(FLAGS.nan_skip_limit)
    stop = callbacks.StopAtStep(train_steps)
    cbs = [terminate_callback(), guard, stop,
           callbacks.Checkpointer(manager, FLAGS.save_every, guard)]
    # Every worker renders the grids (a generator call may run collective ops under
    # MultiWorkerMirroredStrategy, which every worker must run alike); the chief
    # writes them.
    render = model.grid_renderer(run_data, FLAGS.num_grid or model.grid_size, FLAGS.seed)
    writer = tf.summary.create_file_writer(model_dir) if chief else None
    cbs.append(callbacks.SampleGrid(model_dir if chief else None, FLAGS.sample_every, render,
                                    writer))
    cbs.append(callbacks.StartupReport(
        startup, "step-0 grid" if start == 0 and FLAGS.sample_every else "fit start"))
    if chief:
        cbs.append(callbacks.ScalarSummaries(writer, FLAGS.log_every))
        if FLAGS.eval_every:
            cbs.append(periodic_evaluation(model, run_data, dataset_spec, model_dir, writer,
                                           strategy))
    if profile and chief:
        cbs.append(callbacks.Profile(model_dir, *profile))
    # Progress in run steps (callbacks.Progress) unless --verbose asks for Keras' own.
    verbose = FLAGS.verbose if FLAGS.verbose is not None else 0
    if FLAGS.verbose is None:
        cbs.append(callbacks.Progress(train_steps, FLAGS.log_every, tty=sys.stdout.isatty()))
    for phase in phases:
        # a phase is one whole Keras epoch: Keras' own line reports it correctly
        model.run_phase(phase, ds, verbose=FLAGS.verbose if FLAGS.verbose is not None
                        else (1 if sys.stdout.isatty() else 2))
    if phases:
        callbacks.save_checked(manager, model)
        startup.mark("phases")
    print(f"Training {spec.name} on {source.describe()} for steps {start}..{train_steps} "
          f"({replicas} replica(s), batch {batch_size}, k={k}, {policy}) -> {model_dir}",
          flush=True)
    # A growing model's graph changes at its stage boundaries: one fit per stretch
    # (each fit ends with a checkpoint and a grid).
    _SIGTERM.update(defer=True, pending=False)
    try:
        for target in targets:
            stop.train_steps = target
            while True:
                epochs = start // per_epoch + math.ceil((target - start) / per_epoch)
                model.fit(ds, epochs=epochs, initial_epoch=start // per_epoch,
                          steps_per_epoch=per_epoch, callbacks=cbs, verbose=verbose,
                          shuffle=False)
                start = model.step
                # Skipped updates (--nan_policy=skip_step) leave steps to make up.
                if start >= target or guard.diverged or model.stop_training:
                    break
            if guard.diverged or start < target:
                break
        if _SIGTERM["pending"]:  # arrived after the last step
            raise Terminated()
    except KeyboardInterrupt as e:
        path = callbacks.save_checked(manager, model) or manager.latest_checkpoint
        how = "Terminated (SIGTERM)" if isinstance(e, Terminated) else "Interrupted"
        print(f"\n{how} at step {model.step}; saved {path}. Re-run to resume.", flush=True)
        raise SystemExit(143 if isinstance(e, Terminated) else 130)
    finally:
        _SIGTERM.update(defer=False, pending=False)
    skipped = int(model.skipped_updates.numpy())
    if skipped:
        print(f"Skipped {skipped} update(s) with non-finite losses or gradients "
              f"(--nan_policy=skip_step)", flush=True)
    if guard.diverged and guard.diverged[1] == "skipped_in_a_row":
        raise TrainingError(
            f"training diverged at step {guard.diverged[0]}: {FLAGS.nan_skip_limit} updates "
            f"in a row had non-finite losses or gradients and were skipped; stopped. The "
            f"latest checkpoint is {manager.latest_checkpoint}")
    if guard.diverged:
        step, name, value = guard.diverged
        raise TrainingError(
            f"training diverged at step {step}: {name} = {value}; stopped. The last finite "
            f"checkpoint, {manager.latest_checkpoint}, is kept as the latest (no non-finite "
            f"checkpoint is saved); lower the learning rates and resume, or start a new "
            f"--model_dir")
    print(f"Done: step {model.step}; checkpoints in {manager.directory}, "
          f"samples in {os.path.join(model_dir, 'samples')}", flush=True)
    return model


def check_steps_per_execution(spe, start, targets, phases, per_epoch):
    """With ``--steps_per_execution=N`` > 1 Keras runs N steps per call and
    cannot stop between them: every stretch of the run (to ``--train_steps``,
    to a growing model's stage boundary, a pre-training phase) must be a
    multiple of N, and so is each epoch. Returns the epoch length, a multiple
    of N."""
    if spe <= 1:
        return per_epoch
    if FLAGS.nan_policy == "skip_step":
        raise ConfigError(f"--steps_per_execution={spe} cannot be used with "
                          f"--nan_policy=skip_step: a skipped update is made up by one more "
                          f"step, which N-step calls cannot do; use --steps_per_execution=1")
    for a, b in zip([start] + targets[:-1], targets):
        if (b - a) % spe:
            what = "--train_steps" if b == targets[-1] else "the stage boundary"
            raise ConfigError(f"--steps_per_execution={spe}: this run goes from step {a} to "
                              f"{b} ({what}), {b - a} steps, not a multiple of {spe}; choose "
                              f"--train_steps (and stage lengths) that are")
    for phase in phases:
        if phase.steps % spe:
            raise ConfigError(f"--steps_per_execution={spe}: the {phase.name} phase has "
                              f"{phase.steps} steps, not a multiple of {spe}")
    return max(spe, per_epoch // spe * spe)


def profile_window(values):
    """--profile_steps=START,END as two ints, START < END."""
    try:
        start, end = (int(v) for v in values)
    except ValueError:
        start = end = None
    if start is None or not 0 <= start < end:
        raise ConfigError(f"--profile_steps={','.join(values)}: give START,END with "
                          f"0 <= START < END (steps START+1..END are profiled)")
    return start, end


def epoch_schedule(hparams, overrides, source, step_batch, name):
    """--lr_constant_epochs / --lr_decay_epochs -> lr_constant_steps / lr_decay_steps."""
    if FLAGS.lr_constant_epochs is None and FLAGS.lr_decay_epochs is None:
        return hparams
    clash = [k for k in ("lr_constant_steps", "lr_decay_steps") if k in overrides]
    if clash:
        raise ConfigError(f"give the learning-rate schedule in epochs or in steps, not both "
                          f"(--{clash[0]} with --lr_*_epochs)")
    per_epoch = source.steps_per_epoch(step_batch)
    if per_epoch is None:
        raise ConfigError(f"--lr_constant_epochs/--lr_decay_epochs need a finite dataset; "
                          f"{source.spec} is infinite, use --lr_constant_steps/--lr_decay_steps")
    from tfgan_suite import registry
    return registry.resolve_hparams(name, dict(
        overrides, lr_constant_steps=(FLAGS.lr_constant_epochs or 0) * per_epoch,
        lr_decay_steps=(FLAGS.lr_decay_epochs or 0) * per_epoch), source.data_spec)


def periodic_evaluation(model, run_data, dataset_spec, model_dir, writer, strategy=None):
    """The --eval_every callback: metrics to TensorBoard, best checkpoint by FID."""
    import tensorflow as tf

    from tfgan_suite import callbacks
    from tfgan_suite.metrics import evaluation
    evaluation.needed(FLAGS.eval_metrics)
    if "fid" not in FLAGS.eval_metrics:
        raise ConfigError("--eval_metrics must include fid: the best checkpoint is chosen by it")
    split = model.evaluation_split if model.evaluation_split != "train" else FLAGS.split
    source, split = run_data.split(split)
    model.evaluation_reference(source)  # refuses models it cannot measure, before training
    extractor = evaluation.sharded(  # once: its traced function serves every evaluation
        evaluation.make_extractor(FLAGS.extractor, dataset_spec, FLAGS.inception_weights,
                                  FLAGS.inception_graph), strategy)

    def measure(m):
        return evaluation.evaluate(m, source, extractor, FLAGS.eval_metrics,
                                   FLAGS.eval_num_samples, FLAGS.eval_batch_size,
                                   FLAGS.seed, FLAGS.stats_dir, split)

    best = tf.train.CheckpointManager(tf.train.Checkpoint(**model.checkpoint_items()),
                                      os.path.join(model_dir, "best"), max_to_keep=1)
    return callbacks.PeriodicEvaluation(FLAGS.eval_every, measure, writer, best)


main = cli.app_main(train)


def run():
    """Console script entry point (``tfgan-train``)."""
    app.run(main)


if __name__ == "__main__":
    run()
