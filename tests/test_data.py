"""The data layer: bundled sets, folders with bad files, toy sets, TFDS, errors."""
import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite import data
from tfgan_suite.data import tfds_source, toy
from tfgan_suite.errors import DataError


def _png(path, value, size=(12, 10), channels=3):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((*size, channels), value, np.uint8)
    path.write_bytes(tf.io.encode_png(img).numpy())


@pytest.fixture
def image_folder(tmp_path):
    _png(tmp_path / "cats" / "a.png", 10)
    _png(tmp_path / "cats" / "sub" / "b.png", 20, channels=1)
    _png(tmp_path / "dogs" / "c.png", 200)
    (tmp_path / "dogs" / "x.jpg").write_bytes(tf.io.encode_jpeg(
        np.full((16, 16, 3), 250, np.uint8)).numpy())
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path


def test_bundled_mnist_is_real_data():
    src = data.load("bundled:mnist")
    assert src.shape == (28, 28, 1) and src.num_examples == 60000 and src.num_classes == 10
    x, y = next(iter(src.dataset(500, shuffle=False, seed=0).take(1)))
    x = x.numpy()
    assert x.shape == (500, 28, 28, 1)
    assert x.min() == -1.0 and x.max() == 1.0
    # MNIST is mostly background: about 80% of the pixels are exactly 0 (-1 here).
    assert 0.7 < (x == -1.0).mean() < 0.9
    assert set(np.unique(y.numpy())) == set(range(10))
    assert data.load("bundled:mnist", split="test").num_examples == 10000


def test_bundled_fashion_resized_to_rgb():
    src = data.load("bundled:fashion_mnist", image_size=32, channels=3)
    assert src.shape == (32, 32, 3) and src.class_names[9] == "ankle boot"
    x, _ = next(iter(src.dataset(8, seed=0)))
    assert x.shape == (8, 32, 32, 3)
    np.testing.assert_allclose(x[..., 0], x[..., 2])  # grey tiled to RGB


def test_folder_skips_corrupt_and_non_image_files(image_folder, caplog):
    src = data.load(f"folder:{image_folder}", image_size=8)
    assert src.num_examples == 4  # a.png, b.png (nested), c.png, x.jpg
    assert src.skipped == 2  # broken.png, notes.txt
    assert src.class_names == ("cats", "dogs")
    assert any("skipped 2" in r.getMessage() for r in caplog.records)
    batches = list(src.dataset(2, shuffle=False, repeat=False))
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert images.shape == (4, 8, 8, 3)
    assert sorted(labels.tolist()) == [0, 0, 1, 1]
    # Values survive decode/resize/scale: constant images stay constant.
    expected = {0: {10 / 127.5 - 1, 20 / 127.5 - 1}, 1: {200 / 127.5 - 1, 250 / 127.5 - 1}}
    for img, lab in zip(images, labels):
        assert np.ptp(img) < 0.02
        assert min(abs(img.mean() - e) for e in expected[lab]) < 0.02


def test_folder_without_subfolders_has_no_labels(tmp_path):
    _png(tmp_path / "a.png", 1)
    _png(tmp_path / "b.png", 2)
    src = data.load(f"folder:{tmp_path}", image_size=4)
    assert src.class_names is None and not src.has_labels
    x = next(iter(src.dataset(2, seed=0)))
    assert x.shape == (2, 4, 4, 3)


@pytest.mark.parametrize("setup, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "no readable images"),
])
def test_folder_errors(tmp_path, setup, message):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=message) as e:
        data.load(f"folder:{setup(tmp_path)}")
    assert "--dataset=folder:" in str(e.value)


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(DataError) as e:
        data.load("mnsit")
    msg = str(e.value)
    assert "mnsit" in msg and "Did you mean 'mnist'" in msg
    for valid in ("bundled:mnist", "toy:ring8", "folder:PATH", "TFDS"):
        assert valid in msg
    with pytest.raises(DataError, match="toy:ring8"):
        data.load("toy:ring9")
    with pytest.raises(DataError, match="bundled:mnist"):
        data.load("bundled:cifar10")


def test_tfds_offline_stops_with_alternatives(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "can_reach_download_host", lambda timeout=3.0: False)
    with pytest.raises(DataError) as e:
        data.load("mnist", data_dir=str(tmp_path))
    msg = str(e.value)
    assert "--dataset=mnist" in msg and "cannot be downloaded" in msg
    for alternative in ("bundled:", "folder:", "--data_dir"):
        assert alternative in msg


def test_tfds_path_with_mock_data(tmp_path, monkeypatch):
    """The TFDS path end to end on TFDS's mock data (which also stands in for
    the download, so the host is declared reachable)."""
    import tensorflow_datasets as tfds
    monkeypatch.setattr(tfds_source, "can_reach_download_host", lambda timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=20):
        src = data.load("mnist", data_dir=str(tmp_path), image_size=16)
        assert src.shape == (16, 16, 1) and src.num_classes == 10
        x, y = next(iter(src.dataset(5, seed=0)))
    assert x.shape == (5, 16, 16, 1)
    assert -1.0 <= x.numpy().min() and x.numpy().max() <= 1.0


@pytest.mark.parametrize("name, std, n_modes", [("ring8", 0.02, 8), ("grid25", 0.05, 25)])
def test_toy_mixtures_in_their_coordinates(name, std, n_modes):
    src = data.load(f"toy:{name}")
    x = next(iter(src.dataset(5000, seed=3))).numpy()
    means, s = toy.mixture(name)
    assert s == std and len(means) == n_modes
    d = np.linalg.norm(x[:, None] - means[None], axis=-1)
    nearest = d.argmin(1)
    assert d.min(1).max() < 6 * std  # every point belongs to a mode
    assert len(set(nearest)) == n_modes  # every mode is used
    assert np.std(x - means[nearest]) == pytest.approx(std, rel=0.1)
    if name == "ring8":
        np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0)
    else:
        assert means.min() == -4 and means.max() == 4


def test_toy_gaussian1d_and_repeatability():
    src = data.load("toy:gaussian1d", toy_mu=-3.0, toy_sigma=2.0)
    a = next(iter(src.dataset(20000, seed=1))).numpy()
    b = next(iter(src.dataset(20000, seed=1))).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20000, 1)
    assert a.mean() == pytest.approx(-3.0, abs=0.05) and a.std() == pytest.approx(2.0, rel=0.03)


def test_interleave_for_replicas_layout():
    """Replica r's minibatch j must be rows [j*B + r*B/n, j*B + (r+1)*B/n)."""
    k, n, b = 3, 2, 4
    x = tf.range(k * b)
    out = data.interleave_for_replicas((x,), k, n).numpy()
    per_replica = out.reshape(n, k * b // n)
    for r in range(n):
        chunks = np.split(per_replica[r], k)
        for j in range(k):
            np.testing.assert_array_equal(chunks[j], np.arange(j * b + r * b // n,
                                                                j * b + (r + 1) * b // n))


def test_resize_and_crop_and_channels():
    img = np.zeros((40, 20, 4), np.uint8)
    img[:, :, 0] = np.arange(40)[:, None] * 6  # vertical ramp
    img[..., 3] = 255  # alpha, dropped
    out = data.resize_and_crop(data.to_channels(tf.constant(img), 3), 10).numpy()
    assert out.shape == (10, 10, 3)
    # Shorter side 20 -> 10 (scale 1/2), the 20-row image keeps the centre rows.
    assert 60 < out[:, :, 0].mean() < 180 and out[0, 0, 0] < out[-1, 0, 0]
    grey = data.to_channels(tf.constant(np.full((3, 3, 3), 100, np.uint8)), 1).numpy()
    assert grey.shape == (3, 3, 1) and (grey == 100).all()


def test_image_size_and_channel_errors():
    with pytest.raises(DataError, match="--image_size"):
        data.load("bundled:mnist", image_size=-2)
    with pytest.raises(DataError, match="--channels"):
        data.load("bundled:mnist", channels=2)


def test_run_data_options_round_trip_through_config_and_keep_data_dir_and_direction(tmp_path):
    options = data.DataOptions("bundled:edges2shoes", data_dir=str(tmp_path), direction="b2a",
                               image_size=None, channels=None)
    config = {"dataset": "bundled:edges2shoes", "data_shape": [32, 32, 1],
              "data": options.to_json()}
    back = data.DataOptions.from_config(config)
    assert (back.data_dir, back.direction, back.image_size, back.channels) == (
        str(tmp_path), "b2a", 32, 1)
    # a flag given to sample/evaluate wins; None leaves the run's value
    assert data.DataOptions.from_config(config, data_dir=None).data_dir == str(tmp_path)
    assert data.DataOptions.from_config(config, direction="a2b").direction == "a2b"
    # runs written before the options were stored: dataset and shape only
    old = data.DataOptions.from_config({"dataset": "bundled:mnist", "data_shape": [28, 28, 1]})
    assert (old.dataset, old.direction, old.image_size) == ("bundled:mnist", "a2b", 28)


def test_run_data_falls_back_to_the_training_split_only_for_a_missing_split(tmp_path):
    missing = data.RunData(data.DataOptions(f"folder:{tmp_path / 'nothing'}"))
    with pytest.raises(DataError, match="nothing"):  # the training data itself: an error
        missing.held_out()
    run = data.RunData(data.DataOptions("bundled:mnist"))
    source, split = run.split("validation")  # no such split in the bundled MNIST
    assert split == "train" and source.num_examples == 60000
    with pytest.raises(DataError, match="validation"):  # a split asked for by name
        run.split("validation", fallback=False)
    source, split = run.held_out()
    assert split == "test" and source.num_examples == 10000


@pytest.mark.parametrize("size,channels", [(16, 1), (20, 3)])
def test_in_memory_images_resized_in_batches_match_the_per_example_pipeline(size, channels):
    from tfgan_suite.data import bundled
    from tfgan_suite.data.images import array_examples
    x, y, _ = bundled.load_arrays("mnist", "train")
    x, y = x[:300], y[:300]

    def transform(a, b):
        return data.resize_and_crop(data.to_channels(a, channels), size), b
    nbytes = size * size * channels
    batched = array_examples((x, y), transform, nbytes, chunk=128)
    streamed = array_examples((x, y), transform, nbytes, limit_bytes=0)  # per example
    (bx, by), = batched().batch(300).as_numpy_iterator()
    (sx, sy), = streamed().batch(300).as_numpy_iterator()
    assert bx.shape == (300, size, size, channels) and bx.dtype == np.uint8
    np.testing.assert_array_equal(bx, sx)
    np.testing.assert_array_equal(by, y)
    np.testing.assert_array_equal(sy, y)
    # a second epoch reuses the resized arrays and gives the same elements
    (again, _), = batched().batch(300).as_numpy_iterator()
    np.testing.assert_array_equal(again, bx)


def test_bundled_edges2shoes_pairs_are_edges_and_photo_in_either_direction():
    from tfgan_suite.data import bundled_tasks
    a2b = data.load("bundled:edges2shoes", split="test", image_size=16, channels=3,
                    jitter=False)
    b2a = data.load("bundled:edges2shoes", split="test", image_size=16, channels=3,
                    jitter=False, swap=True)
    edge, photo = next(a2b.pair_examples().batch(5).as_numpy_iterator())
    photo2, edge2 = next(b2a.pair_examples().batch(5).as_numpy_iterator())
    np.testing.assert_array_equal(edge, edge2)
    np.testing.assert_array_equal(photo, photo2)
    assert edge.shape == photo.shape == (5, 16, 16, 3)
    assert set(np.unique(edge)) == {0, 255} and len(np.unique(photo)) > 10
    for e, p in zip(edge, photo):  # each edge map is its own photo's, computed alone
        np.testing.assert_array_equal(
            e, np.repeat(bundled_tasks.edges(tf.constant(p[..., :1])).numpy(), 3, -1))


@pytest.mark.parametrize("spec, kwargs", [("bundled:mnist", {"image_size": 16}),
                                          ("toy:ring8", {}),
                                          ("bundled:edges2shoes", {"image_size": 16})])
def test_training_streams_shard_by_data_and_run_without_the_autotune_thread(spec, kwargs):
    """Every training stream (images, vectors, pairs): DATA auto-sharding for
    multi-worker strategies, and tf.data's autotuner off (its sleeping thread
    made an iterator freed by the garbage collector wait up to a minute)."""
    source = data.load(spec, **kwargs)
    ds = source.dataset(4, seed=0)
    options = ds.options()
    assert options.autotune.enabled is False
    assert options.experimental_distribute.auto_shard_policy == \
        tf.data.experimental.AutoShardPolicy.DATA
    assert next(iter(ds)) is not None


@pytest.mark.parametrize("limit_bytes", [1 << 20, 10])
def test_array_examples_head_transforms_only_the_rows_it_gives(limit_bytes):
    """``head(n)`` yields the first n transformed examples, the same as the
    whole stream's first n; precomputed sources transform only those rows
    (a grid of 4 does not resize the whole split), streamed ones stay streamed."""
    import tensorflow as tf

    from tfgan_suite.data.images import array_examples
    rows = []

    def transform(x):
        if tf.executing_eagerly():
            rows.append(int(x.shape[0]))
        return (x * 2,)

    arrays = (np.arange(30, dtype=np.int32).reshape(10, 3),)
    examples = array_examples(arrays, transform, out_bytes=12, limit_bytes=limit_bytes)
    head = [t.numpy() for t in examples.head(4)]
    assert rows == ([4] if limit_bytes > 120 else [])  # streamed: traced, never eager
    np.testing.assert_array_equal(head, arrays[0][:4] * 2)
    whole = [t.numpy() for t in examples()]
    np.testing.assert_array_equal(whole[:4], head)
    assert len([t for t in examples.head(25)]) == 10
    assert len([t for t in examples.head(0)]) == 0
