"""Image-to-image models from the command line: train, resume, translate a folder,
evaluate, export both directions."""
import json

import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg

from conftest import random_images, run_cli, write_png

pytestmark = [pytest.mark.cli, pytest.mark.slow]


def test_cyclegan_cli_train_resume_translate_export(tmp_path, flags_parsed, capsys):
    """Every app runs in this process (tg.run / its main function: the same code
    after flag parsing, without a TensorFlow start-up each; tests/test_cli.py
    runs them as processes)."""
    import tfgan_suite.export  # noqa: F401  (defines its flags)
    from tfgan_suite import export, sample
    run_dir = tmp_path / "run"
    common = ["--flagfile=flags/cyclegan_sneakers2boots_quick.cfg", f"--model_dir={run_dir}",
              "--g_filters=4", "--d_filters=4", "--resnet_blocks=1", "--batch_size=2",
              "--image_size=16",
              "--save_every=2", "--sample_every=2", "--verbose=0"]
    tg.run("train", *common, "--train_steps=2")
    assert (run_dir / "samples" / "step_0000002.png").exists()
    tg.run("train", *common, "--train_steps=4")
    out = capsys.readouterr().out
    assert "Resuming" in out and "at step 2" in out
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "cyclegan" and config["data_kind"] == "unpaired"

    # translate a folder of images of other sizes, both directions, names kept
    inputs = tmp_path / "in"
    write_png(inputs / "a.png", random_images(1, 30)[0][..., :1])
    write_png(inputs / "sub" / "b.png", random_images(1, 44, seed=2)[0])
    for direction in ("a2b", "b2a"):
        out = tmp_path / f"out_{direction}"
        flags_parsed([f"--model_dir={run_dir}", f"--input_dir={inputs}",
                      f"--output_dir={out}", f"--direction={direction}"])
        sample.sample_main()
        shapes = {p: tf.io.decode_png(tf.io.read_file(str(out / p))).shape
                  for p in ("a.png", "sub/b.png")}
        assert shapes == {"a.png": (30, 30, 1), "sub/b.png": (44, 44, 1)}

    # export: SavedModel with both directions, TFLite per direction
    export_dir = tmp_path / "export"
    # (TFLite of both directions, with parity: tests/test_contract.py)
    flags_parsed([f"--model_dir={run_dir}", f"--export_dir={export_dir}", "--name=shoes",
                  "--formats=saved_model"])
    export.export_main()
    loaded = tf.saved_model.load(str(export_dir / "shoes" / "1"))
    assert set(loaded.signatures) == {"serving_default", "translate_b2a", "metadata"}
    model = tg.load_model(str(run_dir))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 36, 40, 1)).astype("float32")
    for sig, ref in (("serving_default", model.translate(x)),
                     ("translate_b2a", model.translate(x, "b2a"))):
        got = loaded.signatures[sig](images=tf.constant(x))["images"].numpy()
        np.testing.assert_allclose(got, ref.numpy(), atol=1e-5)
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["kind"] == "image_to_image" and meta["directions"] == ["a2b", "b2a"]
    assert meta["tflite"] == {"serving_default": "", "translate_b2a": "_b2a"}


def test_pix2pix_cli_with_periodic_evaluation_and_evaluate(tmp_path, flags_parsed):
    """Training runs as a process; sample and evaluate run their main function
    in this process."""
    from tfgan_suite import evaluate, sample
    run_dir = tmp_path / "p2p"
    r = run_cli("train", "--model=pix2pix", "--dataset=bundled:edges2shoes",
                f"--model_dir={run_dir}", "--g_filters=4", "--d_filters=4", "--train_steps=2",
                "--receptive_field=16", "--eval_every=2", "--eval_num_samples=16",
                f"--stats_dir={tmp_path}/stats", "--verbose=0", "--direction=b2a")
    assert r.returncode == 0, r.stderr[-2000:]
    # the direction is part of the run: sample and evaluate reload the data swapped
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"]["direction"] == "b2a" and "latent_dim" not in config["hparams"]
    flags_parsed([f"--model_dir={run_dir}", "--num=4", f"--out={tmp_path}/grid.npy"])
    sample.sample_main()
    grid = np.load(tmp_path / "grid.npy")
    from tfgan_suite import data
    unswapped = data.load("bundled:edges2shoes", split="test", jitter=False)
    edges, photos = next(iter(unswapped.pairs(4, num=4)))
    np.testing.assert_allclose(grid[:4], photos.numpy(), atol=1e-6)  # inputs: domain B
    np.testing.assert_allclose(grid[8:], edges.numpy(), atol=1e-6)  # targets: domain A
    # the paper's batch size 1 is pix2pix's default, and flags.txt records it
    assert "batch 1," in r.stdout
    assert "--batch_size=1" in (run_dir / "flags.txt").read_text().splitlines()
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert best["step"] == 2 and best["num_images"] == 16
    assert best["identity_psnr"]["value"] < 20 and np.isfinite(best["fid"]["value"])
    flags_parsed([f"--model_dir={run_dir}", "--num_samples=16",
                  f"--stats_dir={tmp_path}/stats"])
    evaluate.run_evaluation()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["split"] == "test" and set(metrics) >= {"l1", "psnr", "ssim", "fid"}
