"""The model contract, for every registered model: a model added to the registry
is covered here without editing this file.

For each model, on tiny random data of the first kind it trains on: build ->
its training phases and one training step (weights must move) -> its sample
grid -> one evaluation batch -> SavedModel export -> reload it and call every
signature -> TFLite float32 conversion and parity. (A second version beside the
first is the export tests' subject, on one model.)
"""
import json

import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data, exporter, registry
from tfgan_suite.data import synthetic
from tfgan_suite.models.contract import Grid

pytestmark = pytest.mark.slow

SHAPES = {"vector": (2,), "image": (16, 16, 1), "paired": (16, 16, 1),
          "unpaired": (16, 16, 1), "superres": (16, 16, 1)}


def _tiny(name):
    spec = registry.get(name)
    kind = spec.cls.data_kinds[0]
    source = synthetic.source(kind, SHAPES[kind], num=8, seed=0,
                              num_classes=3 if spec.cls.needs_labels else 0)
    model = tg.build(name, data=source, seed=0, **spec.tiny)
    run_data = data.RunData(data.DataOptions("synthetic"), train=source,
                            held_out=(source, "train"))
    return spec, source, run_data, model


def _weights(model, names):
    return [v.numpy().copy() for n in names for v in getattr(model, n).trainable_variables]


@pytest.mark.parametrize("name", registry.list_models())
def test_model_honours_the_contract(name, tmp_path):
    spec, source, run_data, model = _tiny(name)
    assert model.data_spec == source.data_spec
    # A discriminator unless the model has no adversary (SRResNet: MSE only).
    assert set(model.network_names) >= {"generator", *model.discriminator_networks}
    assert set(model.generator_networks) <= set(model.network_names)
    assert set(spec.declarations) == set(model.hparams)

    # --- training: declared phases, then one step that moves both sides
    k = spec.cls.batches_per_step(model.hparams)
    ds = source.dataset(4, disc_steps=k, seed=0, fields=model.batch_fields)
    g0 = _weights(model, model.generator_networks)
    d0 = _weights(model, model.discriminator_networks)
    for phase in model.training_phases():
        model.run_phase(phase, ds, verbose=0)
    assert model.training_phases() == []  # done phases are not run again
    logs = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history
    assert model.step == 1
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    # its declared metrics, and the trackers tricks add (e.g. StyleGAN's default R1)
    assert set(model.metric_names) <= set(logs) == {m.name for m in model.metrics}
    for before, after in ((g0, _weights(model, model.generator_networks)),
                          (d0, _weights(model, model.discriminator_networks))):
        assert not before or any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert g0

    # --- a checkpoint holds every variable of every network (the EMA copy included)
    fresh = tg.build(name, data=source, seed=1, **spec.tiny)
    saved = tf.train.Checkpoint(**model.checkpoint_items()).save(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(**fresh.checkpoint_items()).restore(saved).assert_consumed()
    for net in list(model.network_names) + ["generator_ema"]:
        if getattr(model, net, None) is None:
            continue
        for a, b in zip(getattr(model, net).variables, getattr(fresh, net).variables):
            if a.path.endswith("seed_generator_state"):  # dropout RNGs are not saved
                continue
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{net}: {a.path}")

    # --- generator inputs and the sample grid
    inputs = model.sample_inputs(3, seed=5, data=run_data)
    again = model.sample_inputs(3, seed=5, data=run_data)
    assert all(np.array_equal(inputs[k_], again[k_]) for k_ in inputs)
    out = np.asarray(model.generate_from(inputs))
    assert out.shape == (3, *source.shape)
    grid = model.grid_renderer(run_data, 4, seed=0)()
    assert isinstance(grid, Grid) and np.all(np.isfinite(grid.images))
    assert np.shape(grid.images)[1:] == tuple(source.shape)
    if not grid.is_points:
        assert np.abs(grid.images).max() <= 1.0

    # --- evaluation (vector models refuse it with a ConfigError)
    if source.kind == "vector":
        with pytest.raises(tg.ConfigError):
            model.evaluation_reference(source)
        with pytest.raises(tg.ConfigError):
            model.export_signatures()
        return
    batch = next(iter(model.evaluation_batches(source, 4, 4, seed=0)))
    # 4 images of the data's shape (super-resolution: one full image per batch)
    assert np.shape(batch.generated)[0] in (1, 4)
    assert np.shape(batch.generated)[-1] == source.shape[-1]
    if batch.targets is not None:
        assert np.shape(batch.targets) == np.shape(batch.generated)
    reference = model.evaluation_reference(source)
    assert tuple(reference.shape) == tuple(source.shape)

    # --- export: every signature callable after reload
    export_dir = tmp_path / "export"
    exporter.write_saved_model(model, str(export_dir), name)
    loaded = tf.saved_model.load(str(export_dir / name / "1"))
    sigs = model.export_signatures()
    assert set(loaded.signatures) == {s.name for s in sigs} | {"metadata"}
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["model"] == name and meta["signatures"][0] == "serving_default"
    assert set(meta["inputs"]) == {s.name for s in sigs[0].inputs}
    rng = np.random.default_rng(0)
    for sig in sigs:
        if sig.draw is not None:
            feed = sig.draw(rng, sig.static_inputs(2))
            expected = sig.fn(*[feed[s.name] for s in sig.inputs])
            expected = ({k_: np.asarray(v) for k_, v in expected.items()}
                        if isinstance(expected, dict) else np.asarray(expected))
        else:  # in-graph sampling (generate): scalar inputs, -1 = "draw it" / "off"
            feed = {s.name: np.array({"num_samples": 2, "seed": 7}.get(s.name, -1),
                                     s.dtype.as_numpy_dtype) for s in sig.inputs}
            expected = None
        result = loaded.signatures[sig.name](**{k_: tf.constant(v) for k_, v in feed.items()})
        assert set(result) == set(sig.outputs), sig.name
        if "images" not in sig.outputs:  # e.g. a classifier: same outputs as Keras
            for key, value in expected.items():
                np.testing.assert_allclose(result[key].numpy(), value, atol=1e-5)
            continue
        images = result["images"].numpy()
        shape = np.shape(expected) if expected is not None else (2, *source.shape)
        assert images.shape == shape and np.abs(images).max() <= 1.0
        assert result["images_uint8"].dtype == tf.uint8
        deterministic = expected is not None and np.array_equal(
            expected, np.asarray(sig.fn(*[feed[s.name] for s in sig.inputs])))
        if deterministic:
            np.testing.assert_allclose(images, expected, atol=1e-5)

    # --- TFLite float32, builtin ops only, matching Keras
    litert = pytest.importorskip("ai_edge_litert")
    del litert
    for sig in exporter.tflite_signatures(model):
        flat = exporter.convert_tflite(model, signature=sig.name)
        report = exporter.parity(model, {"float32": flat}, num=1, signature=sig.name)
        assert report["float32_max_abs_diff"] < 1e-4, (sig.name, report)


@pytest.mark.parametrize("name", registry.list_models())
def test_model_trains_under_mixed_bfloat16(name):
    """``train`` turns mixed bfloat16 on by itself on CPUs with native bfloat16,
    so every model must train under it: finite losses, moved weights, float32
    images out (the policy is reset after each test by conftest)."""
    import keras
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    spec, source, run_data, model = _tiny(name)
    k = spec.cls.batches_per_step(model.hparams)
    ds = source.dataset(4, disc_steps=k, seed=0, fields=model.batch_fields)
    g0 = _weights(model, model.generator_networks)
    for phase in model.training_phases():
        model.run_phase(phase, ds, verbose=0)
    logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    assert any(not np.array_equal(a, b)
               for a, b in zip(g0, _weights(model, model.generator_networks)))
    assert "bfloat16" in {layer.compute_dtype for layer in model.generator._flatten_layers()}
    out = model.generate_from(model.sample_inputs(2, seed=5, data=run_data))
    assert out.dtype == tf.float32 and np.all(np.isfinite(out))


def test_every_model_declares_tiny_settings_it_reads():
    for spec in registry.specs():
        assert set(spec.tiny) <= set(spec.declarations), spec.name
        assert spec.cls.data_kinds, spec.name


def test_the_readme_example_model_registers_and_trains(tmp_path):
    """The "Adding a model" example of the README, run as written (in a fresh
    process, so the registry of this one stays as it is)."""
    import os
    import subprocess
    import sys

    from conftest import REPO
    text = open(os.path.join(REPO, "README.md")).read()
    section = text[text.index("### Adding a model"):]
    start = section.index("```python\n") + 10
    code = section[start:section.index("\n```", start)]
    check = code + '''
import numpy as np, tfgan_suite as tg
from tfgan_suite import registry, hparams
from absl import flags
m = tg.build("my_gan", (16, 16, 1), seed=0, margin=2.0, **registry.get("my_gan").tiny)
x = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
import tensorflow as tf
m.fit(tf.data.Dataset.from_tensors(x).repeat(), steps_per_epoch=1, epochs=1, verbose=0)
hparams.define_flags(registry.specs())
assert m.step == 1 and "my_gan 2" not in flags.FLAGS["margin"].help
assert "my_gan 1" in flags.FLAGS["margin"].help
print("OK", sorted(registry.get("my_gan").declarations)[:3])
'''
    r = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                       cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK" in r.stdout
