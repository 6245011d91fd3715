"""Train the MNIST / Fashion-MNIST domain classifier shipped for GAN evaluation.

    python scripts/train_domain_classifier.py --dataset=mnist            # 4 epochs
    python scripts/train_domain_classifier.py --dataset=fashion_mnist    # 10 epochs

Trains ``tfgan_suite.metrics.domain.build_domain_classifier`` on the bundled
train split (images scaled to [-1, 1]), on CPU, then measures the accuracy on
the bundled test split once, through ``DomainExtractor`` reading the saved file
(the exact code path the evaluation uses). Writes
``{out_dir}/{dataset}.weights.h5`` and ``{out_dir}/{dataset}.json``.
"""
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from absl import app, flags, logging  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist"], "Bundled dataset.")
flags.DEFINE_integer("epochs", None,
                     "Training epochs; default 4 for mnist, 10 for fashion_mnist.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("seed", 0, "Random seed (weights init, shuffling, dropout).")
flags.DEFINE_float("learning_rate", 2e-3, "Peak Adam learning rate (cosine decay to 0).")
flags.DEFINE_integer("augment_shift", 0,
                     "If > 0, random translations of up to this many pixels.")
flags.DEFINE_string("out_dir", "tfgan_suite/resources/domain", "Output folder.")


_DEFAULT_EPOCHS = {"mnist": 4, "fashion_mnist": 10}


def _to_float(images):
    import numpy as np
    return images.astype(np.float32) / 127.5 - 1.0


def main(argv):
    del argv
    import keras
    import numpy as np
    import tensorflow as tf

    from tfgan_suite.data import bundled
    from tfgan_suite.metrics import domain

    epochs = FLAGS.epochs or _DEFAULT_EPOCHS[FLAGS.dataset]
    tf.config.set_visible_devices([], "GPU")
    keras.utils.set_random_seed(FLAGS.seed)

    train_images, train_labels, _ = bundled.load_arrays(FLAGS.dataset, "train")
    test_images, test_labels, _ = bundled.load_arrays(FLAGS.dataset, "test")
    x_train = _to_float(train_images)
    n_train = len(x_train)
    logging.info("%s: %d train, %d test images", FLAGS.dataset, n_train, len(test_images))

    model = domain.build_domain_classifier(domain.NUM_CLASSES)
    train_model = keras.Model(model.input, model.outputs[1])
    steps_per_epoch = -(-n_train // FLAGS.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=epochs * steps_per_epoch - 100,
        warmup_target=FLAGS.learning_rate, warmup_steps=100)
    train_model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])

    ds = tf.data.Dataset.from_tensor_slices((x_train, train_labels))
    ds = ds.shuffle(n_train, seed=FLAGS.seed, reshuffle_each_iteration=True)
    ds = ds.batch(FLAGS.batch_size)
    if FLAGS.augment_shift > 0:
        factor = FLAGS.augment_shift / 28.0
        shift = keras.layers.RandomTranslation(factor, factor, fill_mode="constant",
                                               fill_value=-1.0, seed=FLAGS.seed)
        ds = ds.map(lambda x, y: (shift(x, training=True), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.prefetch(tf.data.AUTOTUNE)

    start = time.time()
    train_model.fit(ds, epochs=epochs, verbose=2)
    train_seconds = time.time() - start

    os.makedirs(FLAGS.out_dir, exist_ok=True)
    weights_path = os.path.join(FLAGS.out_dir, f"{FLAGS.dataset}.weights.h5")
    model.save_weights(weights_path)

    extractor = domain.DomainExtractor(FLAGS.dataset, weights_path=weights_path)
    logits = extractor(_to_float(test_images))["logits"]
    test_accuracy = float(np.mean(np.argmax(logits, axis=1) == test_labels))
    record = {"dataset": FLAGS.dataset, "test_accuracy": test_accuracy,
              "train_examples": int(n_train), "epochs": epochs,
              "seed": FLAGS.seed, "batch_size": FLAGS.batch_size,
              "augment_shift": FLAGS.augment_shift,
              "train_seconds": round(train_seconds, 1), "id": extractor.id}
    with open(os.path.join(FLAGS.out_dir, f"{FLAGS.dataset}.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print(json.dumps(record), f"weights: {os.path.getsize(weights_path)} bytes")


if __name__ == "__main__":
    app.run(main)
