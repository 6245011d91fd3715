"""Image-to-image: image pool, two-domain data, pix2pix / CycleGAN / SimGAN."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data
from tfgan_suite.data import bundled_tasks, pairs
from tfgan_suite.errors import ConfigError, DataError
from tfgan_suite.image_pool import ImagePool
from tfgan_suite.models.translation import cycle_loss, identity_loss

from conftest import run_cli


# ----------------------------------------------------------------- image pool
def _fill(value, n=1, shape=(2, 2, 1)):
    return tf.fill((n, *shape), float(value))


def test_pool_fills_first_and_returns_the_new_images():
    pool = ImagePool(3, (2, 2, 1))
    seed = keras.random.SeedGenerator(0)
    out = pool.query(tf.constant(np.arange(2, dtype="float32")[:, None, None, None]
                                 * np.ones((2, 2, 2, 1), "float32")), seed)
    np.testing.assert_array_equal(out.numpy()[:, 0, 0, 0], [0, 1])
    assert int(pool.count.numpy()) == 2
    out = pool.query(_fill(7), seed)
    assert float(out[0, 0, 0, 0]) == 7 and int(pool.count.numpy()) == 3
    np.testing.assert_array_equal(pool.images.numpy()[:, 0, 0, 0], [0, 1, 7])


def test_full_pool_returns_a_stored_image_about_half_the_time_and_swaps_it_in():
    pool = ImagePool(10, (1, 1, 1))
    seed = keras.random.SeedGenerator(3)
    pool.query(tf.constant(np.arange(10, dtype="float32").reshape(10, 1, 1, 1)), seed)
    old, trials = 0, 400
    for t in range(trials):
        value = 100.0 + t
        before = set(pool.images.numpy().ravel().tolist())
        shown = float(pool.query(_fill(value, shape=(1, 1, 1)), seed)[0, 0, 0, 0])
        after = set(pool.images.numpy().ravel().tolist())
        if shown != value:
            old += 1
            assert shown in before  # a stored image ...
            assert value in after  # ... replaced by the new one
        else:
            assert after == before  # the pool is unchanged
    assert 0.4 < old / trials < 0.6


def test_pool_survives_a_checkpoint_round_trip(tmp_path):
    pool = ImagePool(4, (2, 2, 1))
    pool.query(tf.random.uniform((3, 2, 2, 1)), keras.random.SeedGenerator(0))
    path = tf.train.Checkpoint(pool=pool).save(str(tmp_path / "ckpt"))
    fresh = ImagePool(4, (2, 2, 1))
    tf.train.Checkpoint(pool=fresh).restore(path).assert_consumed()
    np.testing.assert_array_equal(fresh.images.numpy(), pool.images.numpy())
    assert int(fresh.count.numpy()) == 3


def test_pool_inside_tf_function_under_mirrored_strategy_keeps_one_pool_per_replica():
    strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        pool = ImagePool(2, (1, 1, 1))
        seed = keras.random.SeedGenerator(1)

    @tf.function
    def step(v):
        def replica_fn():
            rid = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                          tf.float32)
            return pool.query(tf.fill((1, 1, 1, 1), v * 10 + rid), seed)
        return strategy.run(replica_fn)

    for k in range(3):
        step(tf.constant(float(k)))
    per_replica = [v.numpy().ravel() for v in pool.images.values]
    np.testing.assert_array_equal(per_replica[0], [0, 10])  # replica 0's fakes
    np.testing.assert_array_equal(per_replica[1], [1, 11])  # replica 1's own


def test_history_half_mixes_current_and_stored_images():
    pool = ImagePool(8, (1, 1, 1))
    seed = keras.random.SeedGenerator(0)
    first = tf.constant(np.arange(8, dtype="float32").reshape(8, 1, 1, 1))
    np.testing.assert_array_equal(pool.history_half(first, seed).numpy(), first.numpy())
    new = tf.constant(np.arange(100, 108, dtype="float32").reshape(8, 1, 1, 1))
    out = pool.history_half(new, seed).numpy().ravel()
    np.testing.assert_array_equal(out[:4], [100, 101, 102, 103])  # current half
    assert all(v < 8 for v in out[4:])  # stored half
    stored = pool.images.numpy().ravel()
    assert 1 <= sum(v >= 104 for v in stored) <= 4  # new images replaced some slots


# --------------------------------------------------------------------- losses
def test_cycle_and_identity_losses_on_known_tensors():
    x = tf.constant([[[[1.0], [-1.0]]]])
    y = tf.constant([[[[0.5], [0.0]]]])
    assert float(cycle_loss(x, y)) == pytest.approx((0.5 + 1.0) / 2)
    assert float(identity_loss(x, x)) == 0.0
    assert float(identity_loss(x, -x)) == pytest.approx(2.0)


# ----------------------------------------------------------------------- data
def _write_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(np.asarray(array, np.uint8)))


def _random_images(n, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_paired_folders_stay_aligned_under_jitter(tmp_path):
    images = _random_images(6, 40)
    for i, im in enumerate(images):
        _write_png(tmp_path / "train" / "A" / f"img{i}.png", im)
        _write_png(tmp_path / "train" / "B" / f"img{i}.png", 255 - im)  # B = inverse of A
    _write_png(tmp_path / "train" / "B" / "only_in_b.png", images[0])
    source = data.load(f"paired:{tmp_path}", image_size=32)
    assert source.kind == "paired" and source.num_examples == 6
    assert source.load_size == round(32 * 286 / 256)
    seen = []
    for a, b in source.dataset(3, seed=5).take(6):
        # same crop and flip for both: b is still the inverse of a, pixel for pixel
        # (up to one grey level: resizing 40 -> 36 rounds x and 255 - x separately)
        np.testing.assert_allclose(b.numpy(), -a.numpy(), atol=1.01 / 127.5)
        seen.append(a.numpy())
    assert np.std([s.mean() for s in seen]) > 0  # the crops vary


def test_side_by_side_pairs_and_b2a_swap(tmp_path):
    left = _random_images(3, 32, seed=1)
    for i, im in enumerate(left):
        _write_png(tmp_path / f"{i}.png", np.concatenate([im, 255 - im], axis=1))
    source = data.load(f"paired:{tmp_path}", image_size=32, jitter=False)
    a, b = next(iter(source.pairs(3)))
    assert source.info["layout"] == "A|B side by side"
    np.testing.assert_allclose(b.numpy(), -a.numpy(), atol=1e-6)
    swapped = data.load(f"paired:{tmp_path}", image_size=32, jitter=False, swap=True)
    a2, b2 = next(iter(swapped.pairs(3)))
    np.testing.assert_array_equal(a2.numpy(), b.numpy())


def test_unpaired_layout_and_errors(tmp_path):
    with pytest.raises(DataError, match="trainA/ and trainB/"):
        data.load(f"unpaired:{tmp_path}")
    for side, n in (("A", 3), ("B", 5)):
        for i, im in enumerate(_random_images(n, 20, seed=n)):
            _write_png(tmp_path / f"train{side}" / f"{i}.png", im)
    source = data.load(f"unpaired:{tmp_path}", image_size=16)
    assert source.kind == "unpaired" and source.domain_sizes == (3, 5)
    assert source.num_examples == 5
    a, b = next(iter(source.dataset(2, seed=0)))
    assert a.shape == b.shape == (2, 16, 16, 3)
    with pytest.raises(DataError, match="testA/ and testB/"):
        data.load(f"unpaired:{tmp_path}", split="test")


def test_match_pairs_by_name_without_extension():
    found, unmatched = pairs.match_pairs(["/r/A/x.png", "/r/A/y.png"],
                                         ["/r/B/x.jpg", "/r/B/z.jpg"], "/r/A", "/r/B")
    assert found == [("/r/A/x.png", "/r/B/x.jpg")]
    assert unmatched == ["y", "z"]


def test_edges_are_sobel_edges_of_the_photo():
    image = np.zeros((8, 8, 1), np.uint8)
    image[:, 4:] = 255  # a vertical step
    e = bundled_tasks.edges(tf.constant(image)).numpy()[..., 0]
    assert set(np.unique(e)) == {0, 255}
    assert (e[:, 3:5] == 255).all() and (e[:, :2] == 0).all() and (e[:, 6:] == 0).all()


def test_glyphs_are_deterministic_and_digit_shaped():
    rng1, rng2 = np.random.default_rng(0), np.random.default_rng(0)
    one, seven = bundled_tasks.render_glyph(1, rng1), bundled_tasks.render_glyph(1, rng2)
    np.testing.assert_array_equal(one, seven)
    ink = bundled_tasks.render_glyph(8, np.random.default_rng(1)).astype(float)
    # an 8 has more ink than a 1, and both stay inside the canvas borders
    assert ink.sum() > one.sum()
    assert ink[0].sum() == 0 and ink[-1].sum() == 0


def test_cycle_gan_default_dataset_fails_fast_offline(flags_parsed):
    from tfgan_suite.data import tfds_source
    if tfds_source.can_reach_download_host(timeout=1.0):
        pytest.skip("this machine can reach the TFDS download host")
    with pytest.raises(DataError, match="bundled:sneakers2boots"):
        data.load("cycle_gan/horse2zebra", data_dir="/nonexistent_tfds_dir")


# --------------------------------------------------------------------- models
def _pair_batch(n=2, size=64, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, size, size, channels)).astype("float32")
    return a, np.tanh(a[..., ::-1] * 2).astype("float32")


def _snapshot(variables):
    return [v.numpy().copy() for v in variables]


def _moved(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


@pytest.mark.parametrize("name,hp", [
    ("pix2pix", dict(g_filters=8, d_filters=8)),
    ("cyclegan", dict(g_filters=8, d_filters=8, resnet_blocks=1, pool_size=3)),
    ("simgan", dict(g_filters=8, refiner_blocks=1, refiner_steps=1, pool_size=4,
                    refiner_pretrain_steps=0, disc_pretrain_steps=0)),
])
def test_each_model_trains_at_64px_with_finite_losses_and_moves_its_networks(name, hp):
    model = tg.build(name, (64, 64, 3), seed=0, **hp)
    a, b = _pair_batch()
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    nets = [model.generator, model.discriminator] + [
        getattr(model, n) for n in ("generator_b2a", "discriminator_a") if hasattr(model, n)]
    before = [_snapshot(n.trainable_variables) for n in nets]
    logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert model.step == 2
    for net, snap in zip(nets, before):
        assert all(_moved(snap, net.trainable_variables)), net.name
    out = model.translate(a)
    assert out.shape == a.shape and float(tf.reduce_max(tf.abs(out))) <= 1.0


def test_pix2pix_dropout_is_its_noise_at_test_time_unless_turned_off():
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    a, _ = _pair_batch(1, 32, 1)
    assert not np.allclose(model.translate(a).numpy(), model.translate(a).numpy())
    model.set_test_dropout(False)
    np.testing.assert_array_equal(model.translate(a).numpy(), model.translate(a).numpy())


def test_pix2pix_discriminator_sees_input_output_pairs():
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    assert len(model.discriminator.inputs) == 2
    assert model.size_multiple == 32


def test_pix2pix_losses_follow_the_paper_on_a_fixed_batch():
    """G's loss on a fixed batch falls with training (it is dominated by 100 x L1,
    which G minimises directly)."""
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=8, d_filters=8,
                     test_dropout=False, g_learning_rate=2e-3)
    a, b = _pair_batch(4, 32, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    _, g0 = model.losses_on(a, b)
    model.fit(ds, steps_per_epoch=15, epochs=1, verbose=0)
    _, g1 = model.losses_on(a, b)
    assert g1 < 0.9 * g0


def test_cyclegan_optimizers_cover_both_networks_of_each_kind():
    model = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                     resnet_blocks=1)
    g_ids = {id(v) for v in model.g_variables()}
    assert {id(v) for v in model.generator_b2a.trainable_variables} <= g_ids
    assert {id(v) for v in model.discriminator_a.trainable_variables} <= {
        id(v) for v in model.d_variables()}
    assert set(model.checkpoint_items()) >= {"generator_b2a", "discriminator_a", "pool_a",
                                             "pool_b"}


def test_cyclegan_identity_weight_zero_drops_the_term():
    model = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                     resnet_blocks=1, identity_weight=0.0)
    a, b = _pair_batch(2, 32, 1)
    _, logs, _, _ = model._generator_losses(a, b)
    assert float(logs["identity_loss"]) == 0.0
    with_id = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                       resnet_blocks=1)
    _, logs, _, _ = with_id._generator_losses(a, b)
    assert float(logs["identity_loss"]) > 0.0


def test_simgan_schedule_counts_training_steps():
    """Kg refiner updates per step stretch the refiner's schedule; the D
    pre-training updates shift the discriminator's."""
    model = tg.build("simgan", (16, 16, 1), g_filters=4, refiner_blocks=1, refiner_steps=2,
                     disc_steps=1, disc_pretrain_steps=5, lr_constant_steps=10,
                     lr_decay_steps=30)
    g = model.g_optimizer._learning_rate.get_config()  # the schedule object
    d = model.d_optimizer._learning_rate.get_config()
    assert (g["constant_steps"], g["decay_steps"]) == (20, 60)
    assert (d["constant_steps"], d["decay_steps"]) == (15, 30)


def test_simgan_pretraining_moves_only_the_network_of_its_phase():
    model = tg.build("simgan", (16, 16, 1), seed=0, g_filters=4, refiner_blocks=1,
                     refiner_pretrain_steps=2, disc_pretrain_steps=2, pool_size=4)
    a, b = _pair_batch(4, 16, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    r0, d0 = _snapshot(model.generator.trainable_variables), _snapshot(
        model.discriminator.trainable_variables)
    model._run_phase("refiner", ds, 2, 0)
    assert all(_moved(r0, model.generator.trainable_variables))
    assert not any(_moved(d0, model.discriminator.trainable_variables))
    r1 = _snapshot(model.generator.trainable_variables)
    model._run_phase("discriminator", ds, 2, 0)
    assert not any(_moved(r1, model.generator.trainable_variables))
    assert all(_moved(d0, model.discriminator.trainable_variables))
    assert model.step == 0 and int(model.g_optimizer.iterations.numpy()) == 0
    model.pretrained.assign(1)
    model.pretrain(ds, verbose=0)  # already done: a no-op
    assert not any(_moved(r1, model.generator.trainable_variables))


def test_cyclegan_trains_under_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        model = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                         resnet_blocks=1, pool_size=2)
    a, b = _pair_batch(4, 32, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert [int(c.numpy()) for c in model.pool_a.count.values] == [2, 2]


def test_translation_models_refuse_single_domain_data():
    with pytest.raises(ConfigError, match="two domains"):
        tg.build("cyclegan", (32, 32, 1), data_kind="image")
    with pytest.raises(ConfigError, match="paired"):
        tg.build("pix2pix", (32, 32, 1), data_kind="unpaired")


# --------------------------------------------------------------- evaluation
def test_evaluate_translation_identity_floor_matches_hand_computation():
    from tfgan_suite.metrics import evaluation, image_quality
    source = data.load("bundled:edges2shoes", split="test", jitter=False)
    model = tg.build("pix2pix", source.shape, seed=0, g_filters=4, d_filters=4)
    result = evaluation.evaluate_translation(model, source, None, num_samples=6,
                                             batch_size=4)
    a, b = next(iter(source.pairs(6, num=6)))
    assert result["num_images"] == 6
    assert result["identity_l1"]["value"] == pytest.approx(
        float(np.abs(a.numpy() - b.numpy()).mean()), rel=1e-5)
    assert result["identity_psnr"]["value"] == pytest.approx(
        float(image_quality.psnr(a, b).mean()), rel=1e-5)
    assert "l1" in result and "ssim" in result


# ------------------------------------------------------------------ the CLI
def test_cyclegan_cli_train_resume_translate_export(tmp_path):
    run_dir = tmp_path / "run"
    common = ["--flagfile=flags/cyclegan_sneakers2boots_quick.cfg", f"--model_dir={run_dir}",
              "--g_filters=4", "--d_filters=4", "--resnet_blocks=1", "--batch_size=2",
              "--save_every=2", "--sample_every=2", "--verbose=0"]
    r = run_cli("train", *common, "--train_steps=2")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (run_dir / "samples" / "step_0000002.png").exists()
    r = run_cli("train", *common, "--train_steps=4")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Resuming" in r.stdout and "at step 2" in r.stdout
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "cyclegan" and config["data_kind"] == "unpaired"

    # translate a folder of images of other sizes, both directions, names kept
    inputs = tmp_path / "in"
    _write_png(inputs / "a.png", _random_images(1, 30)[0][..., :1])
    _write_png(inputs / "sub" / "b.png", _random_images(1, 44, seed=2)[0])
    for direction in ("a2b", "b2a"):
        out = tmp_path / f"out_{direction}"
        r = run_cli("sample", f"--model_dir={run_dir}", f"--input_dir={inputs}",
                    f"--output_dir={out}", f"--direction={direction}")
        assert r.returncode == 0, r.stderr[-2000:]
        shapes = {p: tf.io.decode_png(tf.io.read_file(str(out / p))).shape
                  for p in ("a.png", "sub/b.png")}
        assert shapes == {"a.png": (30, 30, 1), "sub/b.png": (44, 44, 1)}

    # export: SavedModel with both directions, TFLite per direction
    export_dir = tmp_path / "export"
    r = run_cli("export", f"--model_dir={run_dir}", f"--export_dir={export_dir}",
                "--name=shoes")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (export_dir / "shoes.tflite").exists() and (export_dir / "shoes_b2a.tflite").exists()
    loaded = tf.saved_model.load(str(export_dir / "shoes" / "1"))
    assert set(loaded.signatures) == {"serving_default", "translate_b2a", "metadata"}
    model = tg.load_model(str(run_dir))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 36, 40, 1)).astype("float32")
    for sig, ref in (("serving_default", model.serve(x)), ("translate_b2a", model.serve_b2a(x))):
        got = loaded.signatures[sig](images=tf.constant(x))["images"].numpy()
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-5)
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["kind"] == "image_to_image" and meta["directions"] == ["a2b", "b2a"]
    assert "TFLite parity (b2a)" in r.stdout


def test_tfds_cycle_gan_path_with_mock_data(tmp_path, monkeypatch):
    """cycle_gan/* through TFDS on its mock data (standing in for the download)."""
    import tensorflow_datasets as tfds

    from tfgan_suite.data import tfds_source
    monkeypatch.setattr(tfds_source, "can_reach_download_host", lambda timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=6):
        source = data.load("cycle_gan/horse2zebra", data_dir=str(tmp_path), image_size=16)
        assert source.kind == "unpaired" and source.shape == (16, 16, 3)
        assert source.load_size == 18
        a, b = next(iter(source.dataset(2, seed=0)))
    assert a.shape == b.shape == (2, 16, 16, 3)
    assert -1.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(b)) <= 1.0


def test_pix2pix_cli_with_periodic_evaluation_and_evaluate(tmp_path):
    run_dir = tmp_path / "p2p"
    r = run_cli("train", "--model=pix2pix", "--dataset=bundled:edges2shoes",
                f"--model_dir={run_dir}", "--g_filters=4", "--d_filters=4", "--train_steps=2",
                "--receptive_field=16", "--eval_every=2", "--eval_num_samples=16",
                f"--stats_dir={tmp_path}/stats", "--verbose=0")
    assert r.returncode == 0, r.stderr[-2000:]
    # the paper's batch size 1 is pix2pix's default, and flags.txt records it
    assert "batch 1," in r.stdout
    assert "--batch_size=1" in (run_dir / "flags.txt").read_text().splitlines()
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert best["step"] == 2 and best["num_images"] == 16
    assert best["identity_psnr"]["value"] < 20 and np.isfinite(best["fid"]["value"])
    r = run_cli("evaluate", f"--model_dir={run_dir}", "--num_samples=16",
                f"--stats_dir={tmp_path}/stats")
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["split"] == "test" and set(metrics) >= {"l1", "psnr", "ssim", "fid"}


def test_pix2pix_tflite_is_converted_without_test_dropout_and_matches_keras():
    pytest.importorskip("ai_edge_litert")
    from tfgan_suite import exporter
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    flat = exporter.convert_tflite(model)  # dropout (random ops) would not convert
    report = exporter.parity(model, {"float32": flat}, num=2)
    assert report["float32_max_abs_diff"] < 1e-4
    # the SavedModel side keeps the paper's noise
    a, _ = _pair_batch(1, 32, 1)
    assert not np.allclose(model.translate(a).numpy(), model.translate(a).numpy())


def test_epoch_schedule_flags_become_steps(flags_parsed):
    from tfgan_suite import registry, train
    flags_parsed(["--model=cyclegan", "--lr_constant_epochs=2", "--lr_decay_epochs=3"])
    source = data.load("bundled:sneakers2boots")
    hp = registry.resolve_hparams("cyclegan", {}, source.kind)
    out = train.epoch_schedule(hp, {}, source, 4, "cyclegan")
    per_epoch = 3021 // 4  # the larger domain, as in CycleGAN
    assert (out["lr_constant_steps"], out["lr_decay_steps"]) == (2 * per_epoch, 3 * per_epoch)
    with pytest.raises(ConfigError, match="epochs or in steps"):
        train.epoch_schedule(hp, {"lr_decay_steps": 5}, source, 4, "cyclegan")
