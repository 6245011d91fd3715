"""The generator and discriminator of ``--architecture`` (mlp or dcgan), built
from a model's hyper-parameters: the one place where the normalisation flags
(``--g_norm``, ``--d_norm``, ``--virtual_batch_norm``) and the discriminator's
batch features (``--minibatch_stddev``, ``--minibatch_discrimination``) reach
the builders, for the unconditional models and the conditional ones alike.
"""
from tfgan_suite.networks.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_suite.networks.mlp import mlp_discriminator, mlp_generator

#: ``--d_norm=auto``: each architecture's paper choice.
AUTO_D_NORM = {"dcgan": "batch", "mlp": "none"}


def d_norm(hp):
    """The discriminator's normalisation, ``auto`` resolved by the architecture."""
    norm = hp["d_norm"]
    return AUTO_D_NORM[hp["architecture"]] if norm == "auto" else norm


def g_norm(hp):
    """The generator's normalisation (``virtual_batch`` with --virtual_batch_norm)."""
    return "virtual_batch" if hp.get("virtual_batch_norm") else hp["g_norm"]


def generator(hp, input_dim, data_shape, name="generator"):
    """The generator of ``--architecture`` taking an ``input_dim`` vector."""
    common = dict(norm=g_norm(hp), reference_size=hp.get("vbn_reference_size"), name=name)
    if hp["architecture"] == "dcgan":
        return dcgan_generator(input_dim, data_shape, hp["g_filters"], hp["kernel_size"],
                               fc_units=hp.get("g_fc_units", 0), **common)
    return mlp_generator(input_dim, data_shape, hp["g_hidden_units"],
                         activation=hp["g_activation"],
                         weight_norm_output=hp.get("g_weight_norm", False), **common)


def discriminator(hp, data_shape, name="discriminator"):
    """The discriminator of ``--architecture`` on examples of ``data_shape``."""
    kernels = hp["minibatch_kernels"] if hp.get("minibatch_discrimination") else 0
    common = dict(norm=d_norm(hp), spectral_norm=hp["d_spectral_norm"],
                  minibatch_kernels=kernels, minibatch_kernel_dim=hp["minibatch_kernel_dim"],
                  name=name)
    if hp["architecture"] == "dcgan":
        return dcgan_discriminator(data_shape, hp["d_filters"], hp["kernel_size"],
                                   minibatch_stddev=hp["minibatch_stddev"],
                                   fc_units=hp.get("d_fc_units", 0), **common)
    return mlp_discriminator(data_shape, hp["d_hidden_units"], hp["d_dropout"],
                             hp["minibatch_stddev"], weight_norm=hp.get("d_weight_norm", False),
                             input_noise=hp.get("d_input_noise", 0.0),
                             hidden_noise=hp.get("d_hidden_noise", 0.0),
                             activation=hp.get("d_activation", "leaky_relu"), **common)
