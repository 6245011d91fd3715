"""Hyper-parameters declared once per model: generated flags, their help, refusal of
flags a model does not read, and the checks of declared ranges."""
import pytest

import tfgan_suite as tg
from tfgan_suite import registry
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam


@pytest.mark.parametrize("model, flag", [
    ("cyclegan", "--latent_dim=8"),
    ("pix2pix", "--disc_steps=2"),
    ("hinge", "--generator_loss=minimax"),
    ("dcgan", "--cycle_weight=5"),
])
def test_a_flag_the_model_does_not_read_is_refused_naming_it(flags_parsed, model, flag):
    from tfgan_suite import train
    flags_parsed([f"--model={model}", flag])
    name = flag[2:].split("=")[0]
    with pytest.raises(ConfigError, match=f"--{name} is not read by --model={model}"):
        train.hparam_overrides(registry.get(model))


def test_resuming_an_old_run_ignores_the_unread_knobs_its_flags_txt_lists(flags_parsed,
                                                                         tmp_path):
    """flags.txt of runs made before the per-model declarations lists every old
    knob (--latent_dim of pix2pix); resuming such a run warns instead of failing."""
    from tfgan_suite import train
    (tmp_path / "config.json").write_text('{"model": "pix2pix"}')
    flags_parsed(["--model=pix2pix", "--latent_dim=1", "--disc_steps=1", "--l1_weight=50"])
    spec = registry.get("pix2pix")
    assert train.resumes(str(tmp_path), "pix2pix") and not train.resumes(str(tmp_path), "gan")
    assert train.hparam_overrides(spec, resuming=True) == {"l1_weight": 50.0}
    with pytest.raises(ConfigError, match="--disc_steps is not read"):
        train.hparam_overrides(spec, resuming=False)


def test_flags_of_the_model_are_taken(flags_parsed):
    from tfgan_suite import train
    flags_parsed(["--model=cyclegan", "--cycle_weight=5", "--g_filters=8"])
    assert train.hparam_overrides(registry.get("cyclegan")) == {"cycle_weight": 5.0,
                                                               "g_filters": 8}


def test_help_shows_each_models_default_including_toy_data(flags_parsed):
    from absl import flags
    flags_parsed([])
    help_text = flags.FLAGS["gp_weight"].help
    # wgan_gp uses lambda = 10 on images and 1 on toy data; dragan 10
    assert "wgan_gp 10 (toy data 1)" in help_text and "dragan 10" in help_text
    assert "cyclegan" not in help_text
    lr = flags.FLAGS["g_learning_rate"].help
    assert "wgan 5e-05" in lr and "simgan 0.001" in lr and "gan 0.0002 (toy data 0.0005)" in lr


def test_helpfull_lists_each_models_flags_under_its_name(flags_parsed):
    from absl import flags
    flags_parsed([])
    by_module = flags.FLAGS.flags_by_module_dict()
    cyclegan = {f.name for f in by_module["model cyclegan"]}
    assert {"cycle_weight", "identity_weight", "pool_size", "g_learning_rate"} <= cyclegan
    assert "latent_dim" not in cyclegan and "disc_steps" not in cyclegan
    assert "generator_loss" not in {f.name for f in by_module["model hinge"]}
    assert cyclegan == set(registry.get("cyclegan").declarations)


def test_declared_ranges_are_checked_on_every_build():
    for kwargs, message in [(dict(g_learning_rate=float("inf")), "--g_learning_rate must be "
                                                                   "finite"),
                            (dict(d_learning_rate=0.0), "--d_learning_rate must be > 0"),
                            (dict(label_smoothing=1.0), "--label_smoothing must be < 1"),
                            (dict(disc_steps=0), "--disc_steps must be >= 1"),
                            (dict(g_hidden_units="0,3"), "--g_hidden_units")]:
        with pytest.raises(ConfigError, match=message):
            tg.build("gan", (2,), **kwargs)


def test_a_hyper_parameter_of_another_model_is_refused_by_build():
    with pytest.raises(ConfigError, match="--latent_dim: not a hyper-parameter of "
                                          "--model=pix2pix"):
        tg.build("pix2pix", (16, 16, 1), latent_dim=4)


def test_resolved_defaults_follow_the_declarations_and_the_data():
    hp = registry.resolve_hparams("wgan_gp", {}, "image")
    assert hp["gp_weight"] == 10.0 and hp["disc_steps"] == 5 and hp["d_norm"] == "layer"
    toy = registry.resolve_hparams("wgan_gp", {}, "vector")
    assert toy["gp_weight"] == 1.0 and toy["latent_dim"] == 2
    assert registry.resolve_hparams("cyclegan", {"g_filters": "8"}, "unpaired")["g_filters"] == 8


def test_coercion_and_one_declaration_per_name():
    hp = HParam("units", (4,), "Widths.", "int_list")
    assert hp.coerce("8,16") == (8, 16)
    with pytest.raises(ConfigError, match="--units='a'"):
        hp.coerce("a")
    with pytest.raises(ConfigError, match="cannot be read as int"):
        HParam("n", 1, "N.", "int").coerce(2.5)
    for spec in registry.specs():  # a name means one thing across models
        for name, declared in spec.declarations.items():
            others = [s.declarations[name] for s in registry.specs() if name in s.declarations]
            assert all((o.type, o.choices) == (declared.type, declared.choices)
                       for o in others), name
