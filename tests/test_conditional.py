"""Conditional and latent-code GANs (CGAN, ACGAN, InfoGAN, SGAN): labels through
the data layer, the networks' conditioning, each model's loss doing what the
paper says, the class-aware metrics, sampling and the export's label checks."""
import itertools
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data, distribute, losses
from tfgan_suite import model_dir as md
from tfgan_suite.data import synthetic
from tfgan_suite.data.labels import balanced_subset
from tfgan_suite.errors import ConfigError, DataError
from tfgan_suite.metrics import scores
from tfgan_suite.models.base import call_frozen
from tfgan_suite.networks import conditional as cnets

TINY = dict(g_filters=4, d_filters=4, latent_dim=4)


def _source(num=32, classes=3, seed=0):
    return synthetic.source("image", (16, 16, 1), num, seed, num_classes=classes)


def _build(name, source=None, **kwargs):
    keras.utils.set_random_seed(0)
    return tg.build(name, data=source or _source(), seed=0, **{**TINY, **kwargs})


# ----------------------------------------------------------------- data layer
def test_num_labeled_is_balanced_repeatable_and_keeps_every_example():
    labels = np.repeat(np.arange(10), 50)
    a = balanced_subset(labels, 100, 10, seed=1)
    assert len(a) == 100 and np.bincount(labels[a], minlength=10).tolist() == [10] * 10
    np.testing.assert_array_equal(a, balanced_subset(labels, 100, 10, seed=1))
    assert not np.array_equal(a, balanced_subset(labels, 100, 10, seed=2))
    odd = balanced_subset(labels, 23, 10, seed=0)  # remainder to the first classes
    assert np.bincount(labels[odd], minlength=10).tolist() == [3, 3, 3] + [2] * 7
    with pytest.raises(DataError, match="fewer than the 10 classes"):
        balanced_subset(labels, 5, 10, seed=0)
    with pytest.raises(DataError, match="the data has 500 examples"):
        balanced_subset(labels, 600, 10, seed=0)
    with pytest.raises(DataError, match="class 9 has 5 examples, fewer than its share of 10"):
        balanced_subset(np.concatenate([labels[:450], np.full(5, 9)]), 100, 10, seed=0)

    options = data.DataOptions("bundled:mnist", num_labeled=20, label_seed=3)
    source = options.load()
    assert source.num_examples == 60000 and source.num_labeled == 20
    kept = np.asarray(source.labels)
    assert (kept >= 0).sum() == 20 and np.bincount(kept[kept >= 0]).tolist() == [2] * 10
    first = np.array([y for _, y in source.examples().take(3000).as_numpy_iterator()])
    np.testing.assert_array_equal(first, kept[:3000])  # the stream carries the mask
    labeled = list(source.labeled_examples().as_numpy_iterator())
    assert len(labeled) == 20 and all(y >= 0 for _, y in labeled)
    assert options.load("test").num_labeled == 10000  # held-out data keeps its labels


def test_labeled_stream_delivers_only_labelled_examples():
    source = _source(num=60, classes=3).with_labeled_subset(6, seed=0)
    truth = np.asarray(_source(num=60, classes=3).labels)
    kept = set(source.labeled.tolist())
    ds = source.dataset(4, seed=0, fields=("images", "labels", "labeled_images",
                                           "labeled_labels"))
    seen = set()
    for images, labels, labeled_images, labeled_labels in ds.take(20):
        assert images.shape == labeled_images.shape == (4, 16, 16, 1)
        assert set(labels.numpy().tolist()) <= {-1, 0, 1, 2}  # the main stream: masked
        assert np.all(labeled_labels.numpy() >= 0)
        for image, label in zip(labeled_images.numpy(), labeled_labels.numpy()):
            seen.add((round(float(image.sum()), 3), int(label)))
    # the labelled stream cycles through exactly the 6 kept examples, with their labels
    images, labels = next(iter(_source(num=60, classes=3).dataset(
        60, shuffle=False, fields=("images", "labels"))))
    expected = {(round(float(images[i].numpy().sum()), 3), int(truth[i])) for i in kept}
    assert seen == expected and len(kept) == 6


def test_a_conditional_model_on_unlabelled_data_names_the_fix():
    unlabelled = synthetic.source("image", (16, 16, 1), 8, 0)
    for name in ("cgan", "acgan", "sgan"):
        with pytest.raises(ConfigError, match=rf"--model={name} needs class labels.*"
                                              r"one sub-folder per class"):
            tg.build(name, data=unlabelled, **TINY)
    tg.build("infogan", data=unlabelled, **TINY)  # its codes are latent: no labels needed


# ------------------------------------------------------------------- networks
def test_label_maps_and_embeddings_have_the_right_shapes():
    ids = tf.constant([2, 0])
    onehot = cnets.OneHot(3)(ids)
    np.testing.assert_array_equal(onehot.numpy(), [[0, 0, 1], [1, 0, 0]])
    maps = cnets.LabelMaps(5, 4)(onehot).numpy()
    assert maps.shape == (2, 5, 4, 3)
    assert np.all(maps[0, ..., 2] == 1) and np.all(maps[0, ..., :2] == 0)
    concat = _build("cgan")
    d_input = concat.discriminator.get_layer("image_and_label_maps").output
    assert tuple(d_input.shape) == (None, 16, 16, 1 + 3)
    embedded = _build("cgan", label_embedding="embedding", embedding_dim=6)
    assert tuple(embedded.generator.get_layer("labels_embedding").embeddings.shape) == (3, 6)
    assert tuple(embedded.generator.get_layer("z_and_codes").output.shape) == (None, 4 + 6)
    projection = _build("cgan", conditioning="projection")
    table = projection.discriminator.get_layer("class_embedding").embeddings
    assert tuple(table.shape) == (3, projection.discriminator.get_layer(
        "features").output.shape[-1])


@pytest.mark.parametrize("kwargs", [{}, {"conditioning": "projection"}])
def test_same_noise_two_labels_give_different_images_after_training(kwargs):
    model = _build("cgan", **kwargs)
    ds = model.data_spec and _source().dataset(8, seed=0, fields=model.batch_fields)
    model.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
    z = np.random.default_rng(0).standard_normal((1, 4)).astype("float32")
    a = model.generate_from({"z": z, "labels": np.array([0], np.int32)}).numpy()
    b = model.generate_from({"z": z, "labels": np.array([1], np.int32)}).numpy()
    again = model.generate_from({"z": z, "labels": np.array([0], np.int32)}).numpy()
    np.testing.assert_array_equal(a, again)
    assert np.abs(a - b).max() > 0.05 * np.abs(a).max()  # tiny nets: outputs near 0
    # and D's verdict depends on the label it is shown
    image = tf.constant(a)
    d0 = model.discriminator([image, tf.constant([0])], training=False).numpy()
    d1 = model.discriminator([image, tf.constant([1])], training=False).numpy()
    assert np.abs(d0 - d1).max() > 1e-6


def test_acgan_class_head_loss_falls_on_a_fixed_batch():
    source = _source(num=16)
    model = _build("acgan", source, d_learning_rate=2e-3)
    batch = next(iter(source.dataset(16, shuffle=False, fields=model.batch_fields)))
    step = tf.function(model.discriminator_step)
    real = {"images": batch[0], "labels": batch[1]}
    first = float(step(real)["class_loss"])
    for _ in range(15):
        last = float(step(real)["class_loss"])
    assert last < 0.7 * first


def test_infogan_q_shares_the_trunk_and_its_bound_rises_on_a_fixed_batch():
    source = synthetic.source("image", (16, 16, 1), 16, 0)
    model = _build("infogan", source, num_categories=3, num_continuous=1,
                   q_hidden_units=8, g_learning_rate=2e-3, d_learning_rate=2e-3)
    trunk = model.discriminator.get_layer("features")
    images = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=0)
    with tf.GradientTape() as tape:
        _, q_categorical, _ = model.discriminator(images, training=True)
        loss = tf.reduce_sum(q_categorical)
    grads = tape.gradient(loss, trunk.trainable_variables)
    assert grads and all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    conv_kernels = [v for v in model.discriminator.trainable_variables
                    if "kernel" in v.path and len(v.shape) == 4]
    assert len(conv_kernels) == len([v for v in trunk.trainable_variables
                                     if len(v.shape) == 4])  # one trunk, not two
    d_paths = {v.path for v in model.d_variables()}
    assert {v.path for v in model.discriminator.get_layer(
        "q_categorical").trainable_variables} <= d_paths  # Q trains with D
    batch = next(iter(source.dataset(8, shuffle=False, fields=model.batch_fields)))
    history = model.fit(tf.data.Dataset.from_tensors(batch).repeat(), steps_per_epoch=1,
                        epochs=12, verbose=0).history
    bound = history["mi_categorical"]
    assert bound[-1] > bound[0] + 0.1 and bound[-1] <= math.log(3) + 1e-6


def test_infogan_q_augment_reads_the_categorical_code_from_warped_fakes():
    source = synthetic.source("image", (16, 16, 1), 16, 0)
    common = dict(num_categories=3, num_continuous=1, q_hidden_units=8, q_augment="affine")
    still = _build("infogan", source, q_augment_rotation=0.0, q_augment_scale=0.0,
                   q_augment_shift=0.0, **common)
    turned = _build("infogan", source, q_augment_rotation=90.0, **common)
    for a, b in zip(still.discriminator.weights, turned.discriminator.weights):
        np.testing.assert_array_equal(a, b)  # the same start: only the warp differs
    images = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=0)
    fake = {"images": images, "categorical": tf.constant([0, 1, 2, 0, 1, 2, 0, 1])}
    output = still.discriminator(images, training=False)
    # Zero strength: the warp is the identity, so Q's view is D's own pass.
    np.testing.assert_allclose(still.categorical_view(fake, output, frozen=True),
                               call_frozen(still.discriminator, images)[1], atol=1e-5)
    assert not np.allclose(turned.categorical_view(fake, output, frozen=True),
                           call_frozen(turned.discriminator, images)[1], atol=1e-3)
    # G's step reads Q through the warp without touching D (BatchNorm statistics
    # included); D's step trains Q on the warped fakes.
    batch = next(iter(source.dataset(8, shuffle=False, fields=turned.batch_fields)))
    before = [v.numpy().copy() for v in turned.discriminator.weights]
    turned.generator_step(turned.unpack(batch))
    for v, b in zip(turned.discriminator.weights, before):
        np.testing.assert_array_equal(v, b)
    q_kernel = turned.discriminator.get_layer("q_categorical").kernel
    start = q_kernel.numpy().copy()
    turned.discriminator_step(turned.unpack(batch))
    assert np.abs(q_kernel.numpy() - start).max() > 0


# ----------------------------------------------------------------------- SGAN
def test_masked_labels_have_zero_supervised_loss_and_gradient():
    logits = tf.Variable(tf.random.normal((4, 3), seed=0))
    labels = tf.constant([2, -1, 0, -1])
    with tf.GradientTape() as tape:
        none = losses.class_cross_entropy(labels, logits, mask=tf.zeros(4))
    assert float(none) == 0.0 and float(tf.reduce_max(tf.abs(tape.gradient(none, logits)))) == 0
    with tf.GradientTape() as tape:
        some = losses.class_cross_entropy(labels, logits, mask=labels >= 0)
    grad = tape.gradient(some, logits).numpy()
    assert np.all(grad[[1, 3]] == 0) and np.abs(grad[[0, 2]]).max() > 0
    manual = -np.mean([tf.nn.log_softmax(logits)[i, labels[i]].numpy() for i in (0, 2)])
    assert float(some) == pytest.approx(manual, rel=1e-6)


def test_sgan_unsupervised_losses_against_hand_values():
    real, fake = np.array([[1.0, 0.0, -1.0]]), np.array([[0.5, 0.5, -2.0]])
    z_real, z_fake = np.exp(real).sum(), np.exp(fake).sum()
    expected = -np.log(z_real / (z_real + 1)) - np.log(1 - z_fake / (z_fake + 1))
    assert float(losses.semi_supervised_discriminator_loss(real, fake)) == pytest.approx(
        expected, rel=1e-6)
    p_real = np.exp(real) / np.exp(real).sum()
    p_fake = np.exp(fake) / np.exp(fake).sum()
    expected = -np.log(1 - p_real[0, -1]) - np.log(p_fake[0, -1])
    assert float(losses.k_plus_one_discriminator_loss(real, fake)) == pytest.approx(
        expected, rel=1e-6)
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [2.0, 2.0]])
    # batch means [2, 3] and [1, 1]: ||(1, 2)||^2 = 5
    assert float(losses.feature_matching_loss(a, b)) == pytest.approx(5.0)


def test_sgan_all_unlabelled_batch_trains_d_without_the_supervised_term():
    source = _source(num=16)
    model = _build("sgan", source)
    images = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=1)
    real = {"images": images, "labeled_images": images,
            "labeled_labels": tf.fill([8], -1)}
    logs = tf.function(model.discriminator_step)(real)
    assert float(logs["supervised_loss"]) == 0.0 and float(logs["unsupervised_loss"]) > 0


def test_sgan_classifier_learns_labelled_examples():
    source = _source(num=32)
    model = _build("sgan", source, d_learning_rate=3e-3, unsupervised_weight=0.0)
    ds = source.dataset(16, seed=0, fields=model.batch_fields)
    model.fit(ds, steps_per_epoch=30, epochs=1, verbose=0)
    images, labels = next(iter(source.dataset(32, shuffle=False, fields=("images", "labels"))))
    out = model.classify(images)
    assert out["probabilities"].shape == (32, 3)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, rtol=1e-5)
    assert np.mean(out["labels"].numpy() == labels.numpy()) > 0.9


def test_sgan_matches_the_clean_hidden_features_and_classifies_the_noisy_ones():
    """The feature output is D's last hidden layer before its noise (the
    paper's code), while the class logits read the noisy features."""
    model = _build("sgan", _source(), architecture="mlp", d_hidden_units=(8,),
                   g_hidden_units=(8,), d_hidden_noise=0.5)
    x = tf.random.uniform((4, 16, 16, 1), -1, 1, seed=2)
    (logits_a, feats_a), (logits_b, feats_b) = (model.discriminator(x, training=True)
                                                for _ in range(2))
    np.testing.assert_allclose(feats_a.numpy(), feats_b.numpy(), rtol=1e-6)  # no noise
    assert feats_a.shape == (4, 8)
    assert np.abs(logits_a.numpy() - logits_b.numpy()).max() > 1e-3  # the head's is noisy


def test_sgan_weight_norm_discriminator_starts_from_the_data():
    """--d_weight_norm: warm_start standardises D's first layer on the first
    500 training examples (the semi-supervised GAN's initialisation)."""
    from tfgan_suite.layers import WeightNormDense, _all_layers
    source = _source(num=600, classes=3)
    model = _build("sgan", source, architecture="mlp", d_hidden_units=(8, 6),
                   g_hidden_units=(8,), d_weight_norm=True)
    dense = [l for l in _all_layers(model.discriminator) if isinstance(l, WeightNormDense)]
    assert len(dense) == 3  # two hidden layers and the class head
    model.warm_start(source)
    images = next(iter(source.dataset(500, shuffle=False, fields=("images",))))
    flat = tf.reshape(images, (500, -1))
    pre = (flat @ dense[0].effective_kernel() + dense[0].bias).numpy()
    np.testing.assert_allclose(pre.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(pre.std(0), 1.0, rtol=1e-3)


def test_sgan_classifier_average_follows_its_schedule_and_is_the_classifier(tmp_path):
    """--classifier_ema: the first D update copies D into the average, later ones
    decay by min(decay, t / (t + 10)); classify and the export use the average.
    A checkpoint without the average restores (it is a late item) and the
    average starts as the restored D, not as the freshly built one."""
    from tfgan_suite.models.noise import mirror_pairs
    source = _source(num=16)
    images = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=3)
    real = {"images": images, "labeled_images": images,
            "labeled_labels": tf.constant([0, 1, 2, 0, 1, 2, 0, 1])}
    plain = _build("sgan", source, d_learning_rate=0.05)
    tf.function(plain.discriminator_step)(real)
    md.checkpoint_manager(plain, str(tmp_path))[1].save()

    model = _build("sgan", source, d_learning_rate=0.05, classifier_ema=0.2)
    assert model.export_networks == ("generator", "classifier_average")
    required, late = md.checkpoint_parts(model, md.checkpoint_manager(model, str(tmp_path))[0])
    assert md.restore_newest_readable(required, str(tmp_path), late=late)[0]
    model.after_restore()
    pairs = mirror_pairs(model.classifier_average, model.discriminator)
    for (average, w, _), trained in zip(pairs, plain.discriminator.variables):
        np.testing.assert_array_equal(average.numpy(), trained.numpy())
    step = tf.function(model.discriminator_step)
    step(real)
    for average, w, _ in pairs:
        np.testing.assert_allclose(average.numpy(), w.numpy(), rtol=1e-6, atol=1e-7)
    expected = [a.numpy() for a, _, _ in pairs]
    for t in (1, 2, 3):  # d = 1/11, 2/12, then the decay 0.2 (< 3/13)
        step(real)
        d = min(0.2, t / (t + 10))
        expected = [d * e + (1 - d) * w.numpy() if trainable else w.numpy()
                    for e, (_, w, trainable) in zip(expected, pairs)]
    moved = 0
    for e, (average, w, trainable) in zip(expected, pairs):
        np.testing.assert_allclose(average.numpy(), e, rtol=1e-5, atol=1e-6)
        moved += trainable and not np.allclose(average.numpy(), w.numpy())
    assert moved > 0 and float(model.classifier_updates) == 4.0
    logits, _ = model.classifier_average(images, training=False)
    np.testing.assert_allclose(model.classify(images)["probabilities"],
                               tf.nn.softmax(logits), rtol=1e-5, atol=1e-6)
    raw, _ = model.discriminator(images, training=False)
    assert not np.allclose(tf.nn.softmax(raw), tf.nn.softmax(logits), atol=1e-4)
    from tfgan_suite import exporter
    served = tf.saved_model.load(exporter.write_saved_model(model, str(tmp_path), "sgan"))
    np.testing.assert_allclose(served.signatures["classify"](images=images)["probabilities"],
                               tf.nn.softmax(logits), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- distribution
@pytest.mark.parametrize("name, extra", [("cgan", {}), ("acgan", {}), ("infogan", {}),
                                         ("infogan", {"q_augment": "affine"}), ("sgan", {})],
                         ids=["cgan", "acgan", "infogan", "infogan_q_augment", "sgan"])
def test_two_replicas_step_equals_one_device_step(name, extra):
    """One step on 2 mirrored logical CPUs moves every weight as one device
    does: labels, codes (and InfoGAN's warps) are drawn for the global batch
    and sliced."""
    source = _source(num=16)
    kwargs = dict(architecture="mlp", g_hidden_units=(8,), d_hidden_units=(8,),
                  g_norm="none", optimizer="sgd", beta1=0.0, g_learning_rate=0.05,
                  d_learning_rate=0.05, **extra)
    if name == "infogan":  # BatchNorm statistics are per replica
        kwargs.update(q_hidden_units=4, q_batchnorm=False)
    nets = ("generator", "discriminator")
    if name == "sgan":  # the classifier's average, updated in the cross-replica context
        kwargs.update(classifier_ema=0.5)
        nets += ("classifier_average",)

    def make(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            return tg.build(name, data=source, seed=7, latent_dim=3, **kwargs)

    one = make(tf.distribute.OneDeviceStrategy("/cpu:0"))
    two = make(distribute.make_strategy("mirrored", cpu_replicas=2))
    for net in ("generator", "discriminator"):
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    if name == "sgan":
        two.after_restore()  # no average in a checkpoint: it starts as D, mirrored too
    init = [v.numpy().copy() for v in one.generator.trainable_variables]
    batch = next(iter(source.dataset(8, shuffle=False, fields=one.batch_fields)))
    steps = 2 if name == "sgan" else 1
    h1 = one.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1,
                 steps_per_epoch=steps, verbose=0).history
    h2 = two.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1,
                 steps_per_epoch=steps, verbose=0).history
    assert any(not np.allclose(a, v.numpy()) for a, v in
               zip(init, one.generator.trainable_variables))
    for net in nets:
        for a, b in zip(getattr(one, net).get_weights(), getattr(two, net).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if name == "sgan":
        assert one.classifier_updates.numpy() == two.classifier_updates.numpy() == 2.0
        for a, b in zip(one.classifier_average.get_weights(), one.discriminator.get_weights()):
            assert not np.allclose(a, b)  # the second update averaged
    for key in h1:
        assert h1[key][0] == pytest.approx(h2[key][0], rel=1e-5, abs=1e-6), key


# ------------------------------------------------------------ metrics, sampling
def test_best_assignment_matches_brute_force():
    rng = np.random.default_rng(0)
    for n in (1, 2, 4, 6):
        cost = rng.integers(0, 20, (n, n))
        best = min(sum(cost[i, p[i]] for i in range(n))
                   for p in itertools.permutations(range(n)))
        cols = scores.best_assignment(cost)
        assert sorted(cols.tolist()) == list(range(n))
        assert sum(cost[i, cols[i]] for i in range(n)) == best


def test_label_accuracy_overall_per_class_and_as_clusters():
    requested = [0, 0, 1, 1, 2, 2]
    predicted = [1, 1, 2, 2, 0, 2]  # a relabelled clustering, one mistake
    acc = scores.label_accuracy(requested, predicted, 3)
    assert acc["accuracy"] == pytest.approx(1 / 6)
    assert acc["per_class"] == [0.0, 0.0, 0.5]
    assert acc["cluster_accuracy"] == pytest.approx(5 / 6)


def test_evaluate_reports_label_accuracy_by_the_domain_classifier(tmp_path):
    from tfgan_suite.metrics import evaluation
    source = data.load("bundled:mnist", split="test")
    model = _build("cgan", source)
    extractor = evaluation.make_extractor("domain", "bundled:mnist")
    result = evaluation.evaluate(model, source, extractor, ["fid"], num_samples=40,
                                 batch_size=20, stats_dir=str(tmp_path))
    acc = result["label_accuracy"]
    assert 0.0 <= acc["value"] <= 1.0 and len(acc["per_class"]) == 10
    assert result["cluster_accuracy"]["value"] >= acc["value"]
    intra = result["intra_class_fid"]
    assert intra["value"] == pytest.approx(np.mean([v for v in intra["per_class"] if v]))


def test_intra_class_fid_groups_real_and_generated_images_by_class():
    from tfgan_suite.metrics import evaluation
    from tfgan_suite.metrics.stats import FeatureStats

    def extractor(images):  # 2 features: the mean and the std of the pixels
        feats = np.stack([images.mean((1, 2, 3)), images.std((1, 2, 3))], -1)
        return {"features": feats.astype(np.float64), "probs": None}

    reference = _source(num=30, classes=3, seed=1)
    rng = np.random.default_rng(0)
    fake = {c: rng.normal(c, 0.3, (12, 2)) for c in range(3)}
    per_class = {}
    for c, rows in fake.items():
        per_class[c] = FeatureStats(2)
        per_class[c].update(rows)
    got = evaluation.intra_class_fid(extractor, reference, per_class, batch_size=10)
    images, labels = next(iter(reference.dataset(30, shuffle=False,
                                                 fields=("images", "labels"))))
    real = extractor(images.numpy())["features"]
    expected = []
    for c in range(3):
        r = real[labels.numpy() == c]
        expected.append(scores.frechet_distance(fake[c].mean(0), np.cov(fake[c], rowvar=False),
                                                r.mean(0), np.cov(r, rowvar=False)))
    np.testing.assert_allclose(got["per_class"], expected, rtol=1e-6)
    assert got["value"] == pytest.approx(np.mean(expected))


def test_requested_grids_labels_classes_and_traversal():
    model = _build("infogan", synthetic.source("image", (16, 16, 1), 8, 0),
                   num_categories=3, num_continuous=2, q_hidden_units=4)
    grid = model.requested_grid(5, seed=0, traverse="continuous:1")
    assert grid.images.shape == (3 * 5, 16, 16, 1) and grid.cols == 5
    classes = model.requested_grid(4, seed=0, class_grid=True)
    assert classes.images.shape == (3 * 4, 16, 16, 1) and classes.cols == 4
    with pytest.raises(ConfigError, match="continuous codes continuous:0, continuous:1"):
        model.requested_grid(5, seed=0, traverse="continuous:2")
    cgan = _build("cgan")
    picked = cgan.requested_grid(3, seed=0, labels=[2, 2, 0])
    assert picked.images.shape == (3, 16, 16, 1) and "labels 2, 2, 0" in picked.caption
    with pytest.raises(ConfigError, match=r"--labels: \[5\] out of range"):
        cgan.requested_grid(3, seed=0, labels=[5])
    with pytest.raises(ConfigError, match="--labels: dcgan is not a conditional model"):
        tg.build("dcgan", (16, 16, 1), **TINY).requested_grid(1, 0, labels=[1])


# ----------------------------------------------------------------------- export
def test_served_labels_are_checked_and_generate_honours_the_label(tmp_path):
    from tfgan_suite import exporter
    model = _build("cgan")
    exporter.write_saved_model(model, str(tmp_path), "cgan")
    loaded = tf.saved_model.load(str(tmp_path / "cgan" / "1"))
    serve = loaded.signatures["serving_default"]
    z = tf.random.normal((2, 4), seed=0)
    ok = serve(z=z, labels=tf.constant([0, 2]))["images"].numpy()
    expected = model.generate_from({"z": z.numpy(), "labels": np.array([0, 2], np.int32)})
    np.testing.assert_allclose(ok, expected, atol=1e-5)
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be"):
            serve(z=z, labels=tf.constant(bad))
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError),
                       match="int32"):
        serve(z=z, labels=tf.constant([0.0, 1.0]))  # wrong dtype
    generate = loaded.signatures["generate"]
    fixed = generate(num_samples=tf.constant(2), seed=tf.constant(1), label=tf.constant(1))
    drawn = generate(num_samples=tf.constant(2), seed=tf.constant(1), label=tf.constant(-1))
    assert fixed["images"].shape == drawn["images"].shape == (2, 16, 16, 1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        generate(num_samples=tf.constant(2), seed=tf.constant(1), label=tf.constant(7))
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["codes"] == [{"name": "labels", "kind": "class", "size": 3,
                              "classes": ["0", "1", "2"]}]
    assert meta["inputs"]["labels"] == {"dtype": "int32", "shape": [None]}


def test_rest_client_and_litert_runner_send_the_label(tmp_path):
    """The REST client against the local TF Serving stand-in of test_export, and
    the LiteRT runner, both with --label; TFLite float32 matches Keras."""
    import threading
    from http.server import HTTPServer

    from test_export import _FakeTFServing  # puts export/serving and export/mobile on the path

    import client_rest
    import run_tflite
    from tfgan_suite import exporter
    model = _build("cgan")
    exporter.write_saved_model(model, str(tmp_path), "cgan")
    _FakeTFServing.loaded = tf.saved_model.load(str(tmp_path / "cgan" / "1"))
    server = HTTPServer(("127.0.0.1", 0), _FakeTFServing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        out = client_rest.main(["--server", url, "--model", "cgan", "--num", "2", "--seed",
                                "1", "--label", "2", "--out_dir", str(tmp_path / "rest")])
        with pytest.raises(SystemExit):  # a conditional model without --label
            client_rest.main(["--server", url, "--model", "cgan", "--num", "1"])
    finally:
        server.shutdown()
        server.server_close()
    z = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    expected = model.generate_from({"z": z, "labels": np.array([2, 2], np.int32)}).numpy()
    np.testing.assert_allclose(out["images"], expected, atol=1e-5)

    pytest.importorskip("ai_edge_litert")
    flat = exporter.convert_tflite(model)
    path = tmp_path / "cgan.tflite"
    path.write_bytes(flat)
    images = run_tflite.main(["--model", str(path), "--num", "2", "--seed", "0", "--label",
                              "1", "--out", str(tmp_path / "grid.png")])
    rng = np.random.default_rng(0)
    z = np.stack([rng.standard_normal((1, 4)).astype(np.float32)[0] for _ in range(2)])
    keras_images = exporter.to_uint8(model.generate_from(
        {"z": z, "labels": np.array([1, 1], np.int32)})).numpy()
    assert np.abs(images.astype(int) - keras_images.astype(int)).max() <= 1


def test_cli_num_labeled_indices_resume_check_and_sample_labels(flags_parsed, tmp_path):
    from conftest import write_png
    from tfgan_suite import sample, train
    rng = np.random.default_rng(0)
    for c in ("cat", "dog", "owl"):  # folder:PATH with one sub-folder per class
        for i in range(8):
            write_png(tmp_path / "data" / c / f"{i}.png", rng.integers(0, 256, (16, 16, 1)))
    tiny = [f"--dataset=folder:{tmp_path / 'data'}", "--image_size=16", "--channels=1",
            "--batch_size=4", "--train_steps=2", "--save_every=2", "--sample_every=0",
            "--g_filters=4", "--d_filters=4", "--latent_dim=4", "--nojit_compile",
            "--verbose=0"]
    run = tmp_path / "sgan"
    flags_parsed(["--model=sgan", f"--model_dir={run}", "--num_labeled=6", "--seed=3", *tiny])
    train.train()
    saved = json.loads((run / "labeled_indices.json").read_text())
    labels = np.repeat(np.arange(3), 8)  # files sorted by class folder
    assert saved["num_labeled"] == 6 and len(saved["indices"]) == 6
    assert np.bincount(labels[saved["indices"]], minlength=3).tolist() == [2, 2, 2]
    assert json.loads((run / "config.json").read_text())["class_names"] == ["cat", "dog", "owl"]
    flags_parsed(["--model=sgan", f"--model_dir={run}", "--num_labeled=9", "--seed=3",
                  *tiny[:-6], "--train_steps=4", *tiny[-5:]])
    with pytest.raises(ConfigError, match=r"--num_labeled: 6 -> 9"):
        train.train()

    run = tmp_path / "cgan"
    flags_parsed(["--model=cgan", f"--model_dir={run}", *tiny])
    train.train()
    out = tmp_path / "377.png"
    flags_parsed([f"--model_dir={run}", "--labels=1,1,2", f"--out={out}"])
    sample.sample_main()
    assert tf.io.decode_png(out.read_bytes()).shape[:2] == (16 + 4, 3 * 18 + 2)  # one row
    flags_parsed([f"--model_dir={run}", "--traverse=continuous:0", f"--out={out}"])
    with pytest.raises(ConfigError, match="--traverse=continuous:0: cgan has no continuous"):
        sample.sample_main()
