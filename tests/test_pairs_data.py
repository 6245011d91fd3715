"""Two-domain data: paired and unpaired folders, bundled tasks, TFDS cycle_gan."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite import data
from tfgan_suite.data import bundled_tasks, pairs
from tfgan_suite.errors import DataError

from conftest import random_images, write_png


def test_paired_folders_stay_aligned_under_jitter(tmp_path):
    images = random_images(6, 40)
    for i, im in enumerate(images):
        write_png(tmp_path / "train" / "A" / f"img{i}.png", im)
        write_png(tmp_path / "train" / "B" / f"img{i}.png", 255 - im)  # B = inverse of A
    write_png(tmp_path / "train" / "B" / "only_in_b.png", images[0])
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
    left = random_images(3, 32, seed=1)
    for i, im in enumerate(left):
        write_png(tmp_path / f"{i}.png", np.concatenate([im, 255 - im], axis=1))
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
        for i, im in enumerate(random_images(n, 20, seed=n)):
            write_png(tmp_path / f"train{side}" / f"{i}.png", im)
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


def test_glyphs_rendered_together_equal_glyphs_rendered_alone():
    rng = np.random.default_rng(5)
    digits = rng.integers(0, 10, 40)
    poses = [bundled_tasks._glyph_pose(rng) for _ in digits]
    together = bundled_tasks.render_glyphs(digits, poses, chunk=7)
    for d, pose, glyph in zip(digits, poses, together):
        np.testing.assert_array_equal(glyph, bundled_tasks.render_glyphs([d], [pose])[0])
    # a stroke of half-width w lights the pixel centres within w + 0.5 of the outline
    one = bundled_tasks.render_glyphs([1], [[0.0, 0.0, 20.0, 1.0, 0.0, 0.0]])[0]
    assert one[14, 14] == 255 and one[14, 3] == 0  # on the stem / far from it


def test_edges_of_a_batch_are_each_images_own():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (4, 8, 8, 1)).astype(np.uint8)
    batch[2] //= 8  # a dim image: its threshold follows its own peak
    together = bundled_tasks.edges(tf.constant(batch)).numpy()
    for image, e in zip(batch, together):
        np.testing.assert_array_equal(e, bundled_tasks.edges(tf.constant(image)).numpy())
