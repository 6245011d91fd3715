"""Keras callbacks for GAN training: checkpoints, sample grids, TensorBoard, stopping.

All of them count in *training steps* (generator updates, ``model.step``), not
in Keras epochs, so a resumed run keeps the same schedule.
"""
import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_suite import console, visualize
from tfgan_suite.model_dir import atomic_write


class StepCallback(keras.callbacks.Callback):
    """Base: calls ``on_step(step)`` each time ``model.step`` passes a multiple
    of ``every``, and at the end.

    With ``--steps_per_execution=N`` Keras calls back once per N steps, so the
    step jumps by N: ``on_step`` runs at the first step at or past each
    multiple (every 50 with N = 8: at 56, 104, ...)."""

    def __init__(self, every):
        super().__init__()
        self.every = int(every)
        self._last = None  # the step of the last on_step
        self._seen = None  # the step at the previous callback

    def on_step(self, step):
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        self._seen = self.model.step

    def _maybe(self, step, force=False):
        seen, self._seen = self._seen, step
        passed = self.every > 0 and (step % self.every == 0 if seen is None
                                     else step // self.every > seen // self.every)
        if step != self._last and (force or passed):
            self._last = step
            self.on_step(step)

    def on_train_batch_end(self, batch, logs=None):
        self._maybe(self.model.step)

    def on_train_end(self, logs=None):
        self._maybe(self.model.step, force=True)


class StartupReport(keras.callbacks.Callback):
    """Prints, once the run's first step has finished, where the start-up went
    (``console.StartupTimer``: import, data, model, ..., ``begin`` = Keras' set-up
    of the first ``fit`` and the callbacks' own start (the step-0 sample grid),
    then the first step, whose time is mostly tracing the step and filling the
    input pipeline). Place it after the callbacks whose start it should count."""

    def __init__(self, timer, begin="fit start", stream=None):
        super().__init__()
        self.timer, self.begin, self.stream = timer, begin, stream or sys.stdout
        self.done = False

    def on_train_begin(self, logs=None):
        if not self.done:
            self.timer.mark(self.begin)

    def on_train_batch_end(self, batch, logs=None):
        if not self.done:
            self.done = True
            self.timer.mark("first step")
            self.stream.write(self.timer.line() + "\n")
            self.stream.flush()


class Progress(keras.callbacks.Callback):
    """The run's progress in steps ``model.step`` of ``total`` (not Keras epochs).

    On a terminal: one bar redrawn in place (at most 5 times a second). Else
    (CI, ``nohup``, a notebook, ``| tee``): a line every ``every`` steps and one
    at the end, with the losses, steps/s since the previous line and the ETA.
    The speed leaves out each fit's first step (tracing).
    """

    def __init__(self, total, every, tty=False, stream=None):
        super().__init__()
        self.total, self.every, self.tty = int(total), int(every), tty
        self.stream = stream or sys.stdout
        self.clock, self.rate, self.logs = None, 0.0, {}
        self._printed, self._drawn, self._width, self._batch_end = None, 0.0, 0, None

    def on_train_begin(self, logs=None):
        self.clock = None  # each fit traces its step again

    def _emit(self, step, end=False):
        if self.tty:
            line = console.progress_line(step, self.total, self.logs, self.rate, bar_width=24)
            pad = " " * max(0, self._width - len(line))  # clear a longer previous line
            self._width = len(line)
            self.stream.write("\r" + line + pad + ("\n" if end else ""))
        else:
            self.stream.write(console.progress_line(step, self.total, self.logs, self.rate) +
                              "\n")
        self.stream.flush()
        self._printed = step

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.step
        self._batch_end = time.perf_counter()
        self.logs = {k: float(np.mean(v)) for k, v in (logs or {}).items()
                     if not k.startswith("skipped")}
        if self.clock is None:
            self.clock = console.Clock(step)
            return
        if self.tty:
            now = time.perf_counter()
            if now - self._drawn >= 0.2 and step > self.clock.step:
                self._drawn = now
                self.rate = self.clock.lap(step, now) or self.rate
                self._emit(step)
        elif step % self.every == 0 and step != self._printed:
            self.rate = self.clock.lap(step) or self.rate
            self._emit(step)

    def on_train_end(self, logs=None):
        step = self.model.step
        if step != self._printed or self.tty:
            if self.clock is not None and step > self.clock.step:
                # up to the last step's end: not the checkpoint saved after it
                self.rate = self.clock.lap(step, self._batch_end)
            self._emit(step, end=True)


class Checkpointer(StepCallback):
    """Save through a ``tf.train.CheckpointManager`` every ``every`` steps and at the end.

    The manager writes the checkpoint files first and then atomically replaces
    its ``checkpoint`` index, so a process killed mid-save leaves the previous
    checkpoint as the latest readable one.
    """

    def __init__(self, manager, every, guard=None):
        super().__init__(every)
        self.manager = manager
        self.guard = guard

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last = self.model.step

    def on_step(self, step):
        save_checked(self.manager, self.model, self.guard)


def save_checked(manager, model, guard=None):
    """Save a checkpoint of ``model`` unless a weight is not finite or the run
    diverged (``guard``): a diverged model never replaces the last good
    checkpoint. Returns the path or None."""
    from tfgan_suite.model_dir import all_finite
    if guard is not None and guard.diverged:
        return None
    if not all_finite(model):
        logging.warning("step %d: weights are not finite; checkpoint not saved", model.step)
        return None
    try:
        path = manager.save(checkpoint_number=model.step)
    except (tf.errors.OpError, OSError) as e:
        # Raised as TrainingError: Keras would take the OutOfRangeError of a
        # full disk ("File too large") for the end of the data and go on.
        from tfgan_suite.errors import TrainingError
        from tfgan_suite.model_dir import clean_temporaries
        clean_temporaries(os.path.dirname(manager.directory))
        reason = str(e).strip().splitlines()[-1].split("; ")[-1][:200]
        raise TrainingError(
            f"could not save checkpoint ckpt-{model.step} in {manager.directory}: {reason} "
            f"(is the disk full?); the latest checkpoint is still "
            f"{manager.latest_checkpoint}") from None
    logging.info("step %d: saved %s", model.step, path)
    return path


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop training when it diverged; ``diverged`` is then (step, name, value).

    ``--nan_policy=stop``: at the first step whose logged losses are not
    finite. ``--nan_policy=skip_step``: the model drops such updates itself and
    logs ``skipped_in_a_row``; the run stops once ``skip_limit`` updates in a
    row were dropped.
    """

    def __init__(self, skip_limit=None):
        super().__init__()
        self.skip_limit = skip_limit
        self.diverged = None

    def on_train_batch_end(self, batch, logs=None):
        logs = dict(logs or {})
        in_a_row = logs.pop("skipped_in_a_row", None)
        logs.pop("skipped_updates", None)
        if in_a_row is not None:
            in_a_row = float(np.asarray(in_a_row).mean())
            if self.skip_limit and in_a_row >= self.skip_limit:
                self.diverged = (self.model.step, "skipped_in_a_row", in_a_row)
                self.model.stop_training = True
            return
        for name, value in logs.items():
            value = np.asarray(value, np.float64)
            if not np.all(np.isfinite(value)):
                self.diverged = (self.model.step, name, float(value.mean()))
                self.model.stop_training = True
                return


class SampleGrid(StepCallback):
    """The model's sample grid every ``every`` steps.

    ``render()`` returns a ``Grid`` of the current model on inputs fixed when
    training started (``model.grid_renderer``). Images:
    ``samples/step_XXXXXXX.png`` and TensorBoard images; points (toy data):
    ``samples/step_XXXXXXX.npy`` with the samples in data coordinates and a
    PNG plot over real samples.
    """

    def __init__(self, model_dir, every, render, writer=None):
        super().__init__(every)
        # model_dir None: render only (a non-chief worker keeps step with the chief)
        self.dir = None if model_dir is None else os.path.join(model_dir, "samples")
        self.render = render
        self.writer = writer

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.model.step == 0:
            self._maybe(0, force=True)

    def on_step(self, step):
        grid = self.render()
        if self.dir is None:
            return
        base = os.path.join(self.dir, f"step_{step:07d}")
        if grid.is_points:
            os.makedirs(self.dir, exist_ok=True)
            np.save(base + ".npy", np.asarray(grid.images))
        picture = visualize.picture(grid)
        visualize.save_png(base + ".png", picture)
        if self.writer is not None:
            with self.writer.as_default():
                tf.summary.image("samples", picture[None], step=step)


class ScalarSummaries(StepCallback):
    """TensorBoard scalars: each logged metric averaged over the last ``every`` steps.

    Keras hands callbacks running means since the epoch started; from the
    running mean m1 after b1 batches and m2 after b2 the mean over the batches
    in between is (m2*b2 - m1*b1) / (b2 - b1). (Working from the logs, rather
    than reading the metric variables, keeps every worker of a multi-worker run
    out of extra collective ops: only the chief writes summaries.)
    """

    def __init__(self, writer, every):
        super().__init__(every)
        self.writer = writer
        self._batch = 0
        self._logs = {}
        self._prev = (0, {})

    def on_train_batch_end(self, batch, logs=None):
        self._batch, self._logs = batch + 1, dict(logs or {})
        super().on_train_batch_end(batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._prev = (0, {})

    def on_step(self, step):
        b1, prev = self._prev
        b2 = self._batch
        with self.writer.as_default():
            for name, value in self._logs.items():
                m2 = float(np.asarray(value).mean())
                mean = m2 if b2 <= b1 else (m2 * b2 - prev.get(name, 0.0) * b1) / (b2 - b1)
                tf.summary.scalar(name, mean, step=step)
            lr = getattr(self.model.g_optimizer, "learning_rate", None)
            if lr is not None:
                tf.summary.scalar("g_learning_rate", float(np.asarray(lr)), step=step)
        self.writer.flush()
        self._prev = (b2, {k: float(np.asarray(v).mean()) for k, v in self._logs.items()})


class PeriodicEvaluation(StepCallback):
    """Every ``every`` steps: ``measure(model)`` -> metrics dict; scalars under
    ``eval/`` in TensorBoard; the checkpoint with the lowest FID so far kept in
    ``best_manager``'s directory with ``best.json`` beside it."""

    def __init__(self, every, measure, writer, best_manager):
        super().__init__(every)
        self.measure = measure
        self.writer = writer
        self.best_manager = best_manager
        self.best_json = os.path.join(best_manager.directory, "best.json")
        self.best = float("inf")
        if os.path.exists(self.best_json):
            with open(self.best_json) as f:
                self.best = json.load(f)["fid"]["value"]

    def on_step(self, step):
        if step == 0:
            return
        result = self.measure(self.model)
        with self.writer.as_default():
            for name, entry in result.items():
                if isinstance(entry, dict):
                    tf.summary.scalar(f"eval/{name}", entry["value"], step=step)
        self.writer.flush()
        fid = result["fid"]["value"]
        logging.info("step %d: FID %.4g (best %.4g)", step, fid, self.best)
        if fid < self.best:
            self.best = fid
            self.best_manager.save(checkpoint_number=step)
            atomic_write(self.best_json, json.dumps(result, indent=2))


class StopAtStep(keras.callbacks.Callback):
    """Stop training once ``model.step`` reaches ``train_steps``."""

    def __init__(self, train_steps):
        super().__init__()
        self.train_steps = int(train_steps)

    def on_train_batch_end(self, batch, logs=None):
        if self.model.step >= self.train_steps:
            self.model.stop_training = True


class Profile(keras.callbacks.Callback):
    """``--profile_steps=START,END``: the TensorFlow profiler over steps
    START+1..END, written to ``logdir/plugins/profile/`` (TensorBoard's Profile
    tab; ``tfgan_suite.profiling.summarize`` reads it back)."""

    def __init__(self, logdir, start, end):
        super().__init__()
        self.logdir, self.start, self.end = logdir, int(start), int(end)
        self.running, self.done = False, False

    def on_train_batch_begin(self, batch, logs=None):
        if not self.running and not self.done and self.model.step >= self.start:
            tf.profiler.experimental.start(self.logdir)
            self.running = True

    def on_train_batch_end(self, batch, logs=None):
        if self.running and self.model.step >= self.end:
            self._stop()

    def on_train_end(self, logs=None):
        if self.running:
            self._stop()

    def _stop(self):
        tf.profiler.experimental.stop()
        self.running, self.done = False, True
        print(f"Profiled steps {self.start + 1}..{self.model.step} -> "
              f"{os.path.join(self.logdir, 'plugins', 'profile')}", flush=True)
