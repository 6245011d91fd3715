"""--profile_steps and the trace summary (tfgan_suite.profiling)."""
import pytest

import tfgan_suite as tg
from tfgan_suite import profiling


def test_self_time_subtracts_the_intervals_nested_inside():
    # a call (0..100) holding two ops, the second holding a third; one op after
    events = [(0, 100, "call"), (10, 40, "a"), (50, 90, "b"), (60, 70, "c"), (120, 130, "d")]
    got = dict(profiling._self_times(events))
    assert got == {"call": 100 - 30 - 40, "a": 30, "b": 40 - 10, "c": 10, "d": 10}
    assert sum(got.values()) == profiling._union_ps([(s, e) for s, e, _ in events])


def test_union_of_overlapping_intervals():
    assert profiling._union_ps([(0, 10), (5, 20), (30, 35), (34, 36), (40, 40)]) == 26


@pytest.mark.parametrize("name,op_type,want", [
    ("dcgan/generator/conv2d_transpose/conv2d_transpose", "Conv2DBackpropInput", "convolution"),
    ("gradient_tape/discriminator/conv2d/Conv2DBackpropFilter", "Conv2DBackpropFilter",
     "convolution"),
    ("generator/dense/MatMul", "MatMul", "matmul"),
    ("generator/batch_normalization/FusedBatchNormV3", "FusedBatchNormV3", "normalisation"),
    ("gradient_tape/generator/batch_normalization/FusedBatchNormGradV3",
     "FusedBatchNormGradV3", "normalisation"),
    ("StatefulPartitionedCall/g_adam/Sqrt_1", "Sqrt", "optimizer"),
    ("StatefulPartitionedCall/d_adam/AssignAddVariableOp_11", "AssignAddVariableOp",
     "optimizer"),
    ("gradient_tape/discriminator_3/down_1_bn_1/batchnorm/RsqrtGrad", "RsqrtGrad",
     "normalisation"),
    ("StatefulPartitionedCall/generator_a/up_0_norm_1/moments/SquaredDifference",
     "SquaredDifference", "normalisation"),  # the translation networks' instance norm
    ("gradient_penalty/gradient_tape/discriminator/conv2d/Conv2D", "Conv2D", "gradient penalty"),
    ("IteratorGetNext", "IteratorGetNext", "input pipeline"),
    ("generator/leaky_re_lu/LeakyRelu", "LeakyRelu", "other ops"),
])
def test_ops_fall_into_their_category(name, op_type, want):
    assert profiling.category(name, op_type) == want


def test_event_names_are_parsed_as_ops_or_skipped():
    assert profiling._op_of("gen/conv2d/Conv2D:Conv2D") == ("gen/conv2d/Conv2D", "Conv2D")
    # oneDNN's rewrites on AVX-512 hosts, and TensorFlow's own fused ops
    assert profiling._op_of("d/conv/Conv2D:_MklNativeConv2DBackpropFilter")[1] == \
        "Conv2DBackpropFilter"
    assert profiling._op_of("d/dense/MatMul:_MklMatMul")[1] == "MatMul"
    assert profiling._op_of("g/conv:_FusedConv2D")[1] == "FusedConv2D"
    assert profiling.category("g/conv", "FusedConv2D") == "convolution"
    assert profiling._op_of("IteratorGetNextOp::DoCompute")[1] == "IteratorGetNext"
    assert profiling._op_of("Iterator::Root::Prefetch") is None  # a span with its waits
    assert profiling._op_of("ExecutorState::Process") is None
    assert profiling._op_of("EagerLocalExecute: __inference_fn_12") is None


@pytest.mark.cli
def test_train_profiles_the_requested_steps(tmp_path, capsys):
    run = tmp_path / "run"
    tg.run("train", "--model=dcgan", "--dataset=bundled:mnist", "--image_size=16",
           "--batch_size=8", "--g_filters=8", "--d_filters=8", "--train_steps=4",
           "--profile_steps=2,4", "--sample_every=0", "--save_every=4", f"--model_dir={run}")
    assert "Profiled steps 3..4" in capsys.readouterr().out
    prof = profiling.summarize(str(run), steps=2)
    assert prof["op_ms"]["convolution"] > 0 and prof["op_ms"]["optimizer"] > 0
    assert prof["op_ms"]["normalisation"] > 0  # DCGAN's BatchNorm
    assert prof["op_ms"]["gradient penalty"] == 0  # DCGAN has none
    assert 0 <= prof["idle_fraction"] < 1 and prof["ms_per_step"] > 0
    assert "Conv2DBackpropFilter" in dict(prof["top"])
    with pytest.raises(tg.ConfigError, match=r"--profile_steps=4,2: give START,END"):
        tg.run("train", "--model=dcgan", "--train_steps=5", "--profile_steps=4,2",
               f"--model_dir={tmp_path / 'bad'}")
    with pytest.raises(FileNotFoundError, match="--profile_steps"):
        profiling.summarize(str(tmp_path / "bad"))
