"""Options of the DCGAN and MLP builders: InfoGAN's fully connected layers,
the semi-supervised discriminator's weight normalisation and Gaussian noise."""
import numpy as np
import pytest

from tfgan_suite.errors import ConfigError
from tfgan_suite.networks.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_suite.networks.mlp import mlp_discriminator, mlp_generator


def test_dcgan_fully_connected_layers_follow_infogans_plan():
    g = dcgan_generator(74, (28, 28, 1), filters=64, fc_units=1024)
    assert g.get_layer("fc").kernel.shape == (74, 1024)
    # FC 1024 -> "FC 7x7x128" (the projection) -> upconv 64 -> upconv 1.
    assert g.get_layer("project").output.shape[1:] == (7, 7, 128)
    assert g.output.shape[1:] == (28, 28, 1)
    d = dcgan_discriminator((28, 28, 1), filters=64, fc_units=1024)
    assert d.get_layer("fc").kernel.shape == (7 * 7 * 128, 1024)
    assert d.get_layer("features").output.shape[1:] == (1024,)
    assert d.get_layer("logit_input").output.shape[1:] == (1024,)
    assert d.output.shape[1:] == (1,)
    plain = dcgan_discriminator((28, 28, 1), filters=64)
    assert "fc" not in [layer.name for layer in plain.layers]


def test_mlp_discriminator_noise_only_while_training():
    x = np.random.default_rng(0).uniform(-1, 1, size=(4, 8, 8, 1)).astype("float32")
    d = mlp_discriminator((8, 8, 1), (16, 8), weight_norm=True, input_noise=0.3,
                          hidden_noise=0.5)
    names = [layer.name for layer in d.layers]
    assert names.count("input_noise") == 1 and sum(n.startswith("noise_") for n in names) == 2
    np.testing.assert_allclose(d(x, training=False).numpy(), d(x, training=False).numpy())
    assert np.abs(d(x, training=True).numpy() - d(x, training=False).numpy()).max() > 1e-3
    # Hidden layers keep unit-length weights; the logit learns its scale.
    assert not d.get_layer("dense_0").g.trainable and d.get_layer("logit").g.trainable


def test_mlp_generator_weight_normalised_output_has_a_trained_length_per_pixel():
    from tfgan_suite.layers import WeightNormDense
    g = mlp_generator(6, (4, 4, 1), (8,), weight_norm_output=True)
    out = g.get_layer("out")
    assert isinstance(out, WeightNormDense) and out.g.trainable and out.g.shape == (16,)
    # The output unit's weight vector has length g whatever v's scale.
    out.kernel.assign(out.kernel * 5.0)
    np.testing.assert_allclose(np.linalg.norm(out.effective_kernel().numpy(), axis=0),
                               out.g.numpy(), rtol=1e-5)
    assert g.output.shape[1:] == (4, 4, 1)
    assert not isinstance(mlp_generator(6, (4, 4, 1), (8,)).get_layer("out"), WeightNormDense)


@pytest.mark.parametrize("flags,architecture", [
    (dict(d_fc_units=16), "mlp"), (dict(d_weight_norm=True), "dcgan"),
    (dict(d_hidden_noise=0.5), "dcgan"), (dict(g_weight_norm=True), "dcgan"),
    (dict(d_activation="relu"), "dcgan")])
def test_builder_options_of_the_other_architecture_are_refused(flags, architecture):
    from tfgan_suite import registry
    with pytest.raises(ConfigError, match=next(iter(flags))):
        registry.resolve_hparams("gan", {"architecture": architecture, **flags})
