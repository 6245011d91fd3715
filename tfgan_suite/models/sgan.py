"""Semi-supervised GAN (Salimans et al. 2016, section 5; Odena 2016).

The discriminator is a K-class classifier whose "fake" class is implicit: with
logits l_1..l_K and Z(x) = sum_k exp(l_k(x)), D(x) = Z(x) / (Z(x) + 1). Its loss
is the supervised cross-entropy on labelled examples plus the GAN loss on all
(unlabelled) real examples and on generated ones; ``--sgan_head=k_plus_1``
uses an explicit (K+1)-way softmax instead. The generator matches the mean of
D's last hidden features on real and generated data (feature matching, the
paper's choice for semi-supervised learning; ``--sgan_generator_loss``).

Each train step takes a minibatch of all the training images (their labels are
not used) and a minibatch of the labelled ones (``--num_labeled=N`` keeps N
labels, balanced over the classes). ``--unsupervised_weight=0`` trains the same
network on the labelled examples alone (the supervised baseline).

The product is a classifier: ``classify(images)`` is exported beside the
generator, and ``evaluate`` reports its held-out ``test_accuracy``. With
``--classifier_ema=DECAY`` the classifier is a moving average of D's weights
(Polyak averaging: the paper's code tests such an average, decay 0.9999); the
raw D still plays the game.
"""
import keras
import tensorflow as tf

from tfgan_suite import losses, tricks
from tfgan_suite.distribute import gather_global
from tfgan_suite.hparams import HParam
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.contract import EvalBatch, Signature, uniform_images
from tfgan_suite.models.noise import NoiseToImageGAN, averaged_copy, mirror_pairs
from tfgan_suite.networks import conditional as cnets
from tfgan_suite.registry import register


@register("sgan", default_dataset="bundled:mnist",
          description="Semi-supervised GAN (Salimans et al. 2016): K-class discriminator, "
                      "feature matching; exports a classifier",
          defaults=dict(architecture="dcgan"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class SGAN(NoiseToImageGAN):
    HPARAMS = (
        HParam("sgan_head", "k_classes", "K class logits with an implicit fake class "
               "(D = Z / (Z + 1)), or an explicit (K+1)-way softmax.", "enum",
               choices=("k_classes", "k_plus_1")),
        HParam("sgan_generator_loss", "feature_matching", "Generator objective.", "enum",
               choices=("feature_matching", "non_saturating")),
        HParam("unsupervised_weight", 1.0, "Weight of the unsupervised GAN loss in D's "
               "(0: the supervised baseline on the labelled examples alone).", lower=0.0),
        HParam("classifier_ema", 0.0, "Decay of a moving average of D's weights that "
               "classifies in evaluate and export (Polyak averaging; the paper's code: "
               "0.9999); 0: D itself.", lower=0.0, below=1.0),
    )
    data_kinds = ("image",)
    batch_fields = ("images", "labeled_images", "labeled_labels")
    needs_labels = True
    metric_names = ("d_loss", "g_loss", "supervised_loss", "unsupervised_loss",
                    "labeled_accuracy")
    evaluation_split = "test"
    export_networks = ("generator", "discriminator")
    late_checkpoint_items = ("classifier_average", "classifier_updates")
    refused_tricks = {"feature_matching": "its generator loss is chosen by "
                      "--sgan_generator_loss (feature_matching by default)"}

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        self.classifier_average = self.classifier_updates = None
        if self.hparams["classifier_ema"] > 0:
            self.classifier_average = averaged_copy(
                keras.models.clone_model(self.discriminator), self.discriminator)
            # Updates so far: the first copies D (after any warm start), and a
            # run resumed from a checkpoint without the average starts it there.
            self.classifier_updates = tf.Variable(
                0.0, trainable=False, name="classifier_updates",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self.export_instead("discriminator", "classifier_average")

    @classmethod
    def data_defaults(cls, data_kind):
        return {}

    def after_discriminator_update(self):
        super().after_discriminator_update()
        if self.classifier_average is not None:
            tricks.ema_update(mirror_pairs(self.classifier_average, self.discriminator),
                              self.hparams["classifier_ema"], count=self.classifier_updates)

    def after_restore(self):
        """A checkpoint without the average (a run started without it): the
        average starts as the restored D."""
        if self.classifier_average is not None and self.classifier_updates.numpy() == 0:
            self.classifier_average.set_weights(self.discriminator.get_weights())

    def extra_checkpoint_items(self):
        items = dict(super().extra_checkpoint_items())
        if self.classifier_average is not None:
            items.update(classifier_average=self.classifier_average,
                         classifier_updates=self.classifier_updates)
        return items

    @property
    def classifier(self):
        """The network that classifies: the average of D with --classifier_ema."""
        return self.classifier_average if self.classifier_average is not None \
            else self.discriminator

    @classmethod
    def build_discriminator(cls, hp, data_shape, num_classes=None):
        return cnets.headed_discriminator(hp, data_shape, {
            "class_logits": lambda f: cnets.dense(num_classes, hp, "class_logits_dense")(f),
            "features": None,
        })

    @classmethod
    def build_networks(cls, hp, data):
        k = data.num_classes + (1 if hp["sgan_head"] == "k_plus_1" else 0)
        return dict(generator=cls.build_generator(hp, data.shape),
                    discriminator=cls.build_discriminator(hp, data.shape, k))

    @property
    def num_classes(self):
        return self.data_spec.num_classes

    def realness(self, output):
        """log Z(x) (k_classes) or log Z(x) - l_fake (k_plus_1): the logit of
        "real" in D's output."""
        logits = tf.cast(output[0], tf.float32)
        if self.hparams["sgan_head"] == "k_plus_1":
            return tf.reduce_logsumexp(logits[:, :-1], -1) - logits[:, -1]
        return tf.reduce_logsumexp(logits, -1)

    def class_logits(self, logits):
        """The K real-class logits (without the explicit fake logit)."""
        return logits[:, :self.num_classes]

    def discriminator_loss(self, real, fake, real_output, fake_output):
        labeled_logits, _ = self.discriminator(real["labeled_images"], training=True)
        # Means over the global batch's labelled examples (replicas may hold
        # different numbers of them).
        labeled_logits = gather_global(labeled_logits)
        labels = gather_global(real["labeled_labels"])
        mask = labels >= 0
        supervised = losses.class_cross_entropy(labels, labeled_logits, mask)
        if self.hparams["sgan_head"] == "k_plus_1":
            unsupervised = losses.k_plus_one_discriminator_loss(real_output[0], fake_output[0])
        else:
            unsupervised = losses.semi_supervised_discriminator_loss(real_output[0],
                                                                     fake_output[0])
        predicted = tf.argmax(self.class_logits(labeled_logits), -1, output_type=tf.int32)
        correct = tf.cast(tf.equal(predicted, labels), tf.float32) * tf.cast(mask, tf.float32)
        accuracy = tf.math.divide_no_nan(tf.reduce_sum(correct),
                                         tf.reduce_sum(tf.cast(mask, tf.float32)))
        loss = supervised + self.hparams["unsupervised_weight"] * unsupervised
        return loss, {"supervised_loss": supervised, "unsupervised_loss": unsupervised,
                      "labeled_accuracy": accuracy}

    def generator_loss(self, real, fake, fake_output):
        if self.hparams["sgan_generator_loss"] == "feature_matching":
            _, real_features = call_frozen(self.discriminator, real["images"])
            # The squared distance of batch means is not a mean of per-example
            # terms: take the means over the global batch.
            return losses.feature_matching_loss(
                gather_global(tf.stop_gradient(real_features)),
                gather_global(fake_output[1])), {}
        logits = tf.cast(fake_output[0], tf.float32)
        if self.hparams["sgan_head"] == "k_plus_1":  # -log(1 - p_fake)
            realness = (tf.reduce_logsumexp(logits[:, :-1], -1)
                        - tf.reduce_logsumexp(logits, -1))
            return -tf.reduce_mean(realness), {}
        # D(G(z)) = Z / (Z + 1): logit of D is lse(l); non-saturating -log D.
        return losses.non_saturating_generator_loss(tf.reduce_logsumexp(logits, -1)), {}

    # ------------------------------------------------------------- classifier
    def classify(self, images):
        """{"probabilities": [B, K], "labels": [B]} of the classifier."""
        logits, _ = self.classifier(images, training=False)
        probabilities = tf.nn.softmax(self.class_logits(tf.cast(logits, tf.float32)), -1)
        return {"probabilities": probabilities,
                "labels": tf.argmax(probabilities, -1, output_type=tf.int32)}

    def evaluation_batches(self, source, num, batch_size, seed):
        """Generated images (for FID etc.) beside the classifier's correctness
        on as many held-out images (``test_accuracy``)."""
        self._require_images("evaluate")
        held_out = source.dataset(batch_size, shuffle=False, repeat=False,
                                  fields=("images", "labels"))
        for i, (images, labels) in enumerate(held_out):
            start = i * batch_size
            if start >= num:
                return
            n = min(batch_size, num - start)
            predicted = self.classify(images[:n])["labels"].numpy()
            yield EvalBatch(generated=self.generate(n, seed=seed + i).numpy(),
                            extra={"test_accuracy": predicted == labels.numpy()[:n]})

    def export_signatures(self):
        images = [tf.TensorSpec((None, *self.data_spec.shape), tf.float32, name="images")]
        return super().export_signatures() + [
            Signature("classify", self.classify, images, draw=uniform_images,
                      outputs=("probabilities", "labels"),
                      static_inputs=lambda b: [tf.TensorSpec((b, *self.data_spec.shape),
                                                             tf.float32, name="images")])]

    def export_metadata(self):
        meta = super().export_metadata()
        meta["classifier"] = {"signature": "classify", "classes": list(
            self.data_spec.class_names), "outputs": ["probabilities", "labels"]}
        return meta

