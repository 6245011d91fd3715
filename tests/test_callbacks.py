"""Callbacks: TensorBoard window means, sample outputs for toy data."""
import os
import types

import keras
import numpy as np
import tensorflow as tf

from tfgan_suite import callbacks
from tfgan_suite.models.contract import Grid


def _scalars(logdir, tag):
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={"tensors": 0})
    acc.Reload()
    return {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)}


def test_scalar_summaries_are_means_over_the_window(tmp_path):
    losses = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0]
    writer = tf.summary.create_file_writer(str(tmp_path))
    cb = callbacks.ScalarSummaries(writer, every=2)
    model = types.SimpleNamespace(step=0, g_optimizer=types.SimpleNamespace(learning_rate=0.5))
    cb.set_model(model)
    # Epoch 1: steps 1-4, Keras logs running means since the epoch began.
    cb.on_epoch_begin(0)
    for b, loss in enumerate(losses[:4]):
        model.step += 1
        cb.on_train_batch_end(b, {"d_loss": np.mean(losses[:b + 1])})
    # Epoch 2 restarts the running mean.
    cb.on_epoch_begin(1)
    for b, loss in enumerate(losses[4:]):
        model.step += 1
        cb.on_train_batch_end(b, {"d_loss": np.mean(losses[4:4 + b + 1])})
    writer.flush()
    got = _scalars(str(tmp_path), "d_loss")
    assert got == {2: 1.5, 4: 3.5, 6: 5.5}
    assert _scalars(str(tmp_path), "g_learning_rate")[4] == 0.5


def test_sample_grid_for_toy_data_writes_points_and_plot(tmp_path):
    gen = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model = types.SimpleNamespace(step=0, generator=gen)
    z = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    real = np.random.default_rng(1).normal(size=(50, 2))
    cb = callbacks.SampleGrid(str(tmp_path), every=5,
                              render=lambda: Grid(gen(z).numpy(), reference=real))
    cb.set_model(model)
    cb.on_train_begin()
    model.step = 5
    cb.on_train_batch_end(0)
    files = sorted(os.listdir(tmp_path / "samples"))
    assert files == ["step_0000000.npy", "step_0000000.png", "step_0000005.npy",
                     "step_0000005.png"]
    np.testing.assert_allclose(np.load(tmp_path / "samples" / "step_0000005.npy"),
                               gen(z).numpy(), rtol=1e-6)
    png = tf.io.decode_png(open(tmp_path / "samples" / "step_0000005.png", "rb").read())
    assert png.shape == (256, 256, 3)
    # red generated points are drawn
    assert ((png[..., 0] == 220) & (png[..., 1] == 30)).numpy().sum() > 20


class _Recorder(callbacks.StepCallback):
    def __init__(self, every):
        super().__init__(every)
        self.steps = []

    def on_step(self, step):
        self.steps.append(step)


def test_step_callbacks_fire_once_past_each_multiple_when_steps_jump():
    model = types.SimpleNamespace(step=0)
    one, eight = _Recorder(20), _Recorder(20)
    for cb, jump in ((one, 1), (eight, 8)):
        model.step = 0
        cb.set_model(model)
        cb.on_train_begin()
        while model.step < 60:  # --steps_per_execution=jump: one callback per jump steps
            model.step += jump
            cb.on_train_batch_end(model.step - 1)
        cb.on_train_end()
    assert one.steps == [20, 40, 60]
    assert eight.steps == [24, 40, 64]  # the first step at or past 20, 40, 60
    # resumed at 40 with jumps of 8: 56 -> 64 passes 60; the end (64) is not run twice
    resumed = _Recorder(20)
    model.step = 40
    resumed.set_model(model)
    resumed.on_train_begin()
    for _ in range(3):
        model.step += 8
        resumed.on_train_batch_end(0)
    resumed.on_train_end()
    assert resumed.steps == [64]
