"""Where a training step's time goes: TensorFlow profiler traces, summarised.

``python -m tfgan_suite.train ... --profile_steps=20,30`` records steps 21..30
with the TensorFlow profiler into ``MODEL_DIR/plugins/profile/<run>/`` (open it
in TensorBoard's Profile tab). ``summarize(model_dir)`` reads that trace back
(the ``*.xplane.pb`` the profiler writes) and splits the time of the profiled
steps into the categories the README's profile table uses:

* ``convolution``: ``Conv2D`` and its two backprops, depthwise and transposed
  convolutions, fused convolutions;
* ``matmul``: dense layers (``MatMul``, ``BatchMatMul``, fused matmuls);
* ``normalisation``: ops under a normalisation layer's name (batch, instance,
  layer, group, spectral, AdaIN, pixel norm), forward and backward;
* ``optimizer``: ops under the optimizers' names (Adam/SGD/RMSprop updates,
  iteration counters, learning-rate schedules);
* ``gradient penalty``: ops under the penalties' names (WGAN-GP, DRAGAN, R1:
  the double backward included);
* ``input pipeline``: the ops of ``tf.data``'s threads (decoding, resizing,
  scaling) and the step's wait for its batch (``IteratorGetNext``);
* ``other ops``: everything else that is a TensorFlow op (activations, losses,
  element-wise arithmetic, random numbers, reductions, copies);
* ``idle / Python``: profiled wall time during which no op ran on any thread
  (Python, Keras callbacks, function dispatch, the executor's own scheduling).

Op times are *self* times (a call op's children are not counted twice) summed
over threads, so with several compute threads the ops can add up to more than
the wall time; the table gives each category's share of all op time, and the
idle share of the wall time separately.
"""
import collections
import glob
import os
import re

CATEGORIES = ("convolution", "matmul", "normalisation", "optimizer", "gradient penalty",
              "input pipeline", "other ops")

_CONV = re.compile(r"conv|depthwise", re.I)
_MATMUL = re.compile(r"matmul|einsum", re.I)
_NORM = re.compile(r"(batch_?norm|instance_?norm|layer_?norm|group_?norm|spectral|adain|"
                   r"pixel_?norm|normali[sz]ation|(^|/|_)(bn|norm)(_\d+)?/)", re.I)
# Keras names an optimizer's ops after it: the suite's are g_adam, d_adam, ...
_OPT = re.compile(r"(^|/)([dgq]_)?(adam\w*|sgd|rmsprop|optimizer|ema)(_\d+)?/", re.I)
_PENALTY = re.compile(r"penalty", re.I)
# TensorFlow built with oneDNN rewrites ops on CPUs that have it (AVX-512 hosts):
# ``Conv2D`` runs as ``_MklNativeConv2D``, a fused one as ``_MklNativeFusedConv2D``.
_MKL = re.compile(r"^_Mkl(Native)?")
# Call ops whose own time is only the dispatch of their body.
_CALLS = {"PartitionedCall", "StatefulPartitionedCall", "While", "If", "StatelessIf",
          "StatelessWhile", "Case"}


def category(op_name, op_type):
    """The profile category of one op, from its type and its name scope."""
    if op_type.startswith(("Iterator", "MultiDeviceIterator")):
        return "input pipeline"
    if _PENALTY.search(op_name):
        return "gradient penalty"
    if _OPT.search(op_name) or op_type.startswith("ResourceApply"):
        return "optimizer"
    if _CONV.search(op_type):
        return "convolution"
    if _MATMUL.search(op_type):
        return "matmul"
    if _NORM.search(op_name) or "BatchNorm" in op_type:
        return "normalisation"
    return "other ops"


def trace_files(logdir):
    """The ``*.xplane.pb`` files of the newest profile run under ``logdir``."""
    runs = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*")))
    if not runs:
        raise FileNotFoundError(f"no profile under {logdir}/plugins/profile (train with "
                                f"--profile_steps=START,END)")
    return sorted(glob.glob(os.path.join(runs[-1], "*.xplane.pb")))


def _op_of(name):
    """(op name, op type) of a host trace event, or None if it is not a TF op.

    TensorFlow names an op's trace event ``name:Type`` (``gen/conv2d/Conv2D:Conv2D``);
    tf.data's ``Iterator::...`` spans include their waits and are not counted;
    oneDNN's kernels are named by the op they run (``_MklNativeConv2D`` -> ``Conv2D``);
    ``IteratorGetNextOp::DoCompute`` is the time the step waits for its batch.
    """
    if name.startswith("IteratorGetNextOp::DoCompute"):
        return "IteratorGetNext", "IteratorGetNext"
    if ":" not in name or "::" in name:
        return None
    op_name, op_type = name.rsplit(":", 1)
    op_type = _MKL.sub("", op_type.split("#", 1)[0]).lstrip("_")
    if not op_type or not op_type[0].isupper() or not op_type.replace("_", "").isalnum():
        return None
    return op_name, op_type


def _self_times(events):
    """Self time (ps) of each (start, end, key) interval on one thread: its
    duration minus that of the intervals nested directly inside it."""
    out = []
    stack = []  # [end, key, self_ps]
    for start, end, key in sorted(events, key=lambda e: (e[0], -e[1])):
        while stack and stack[-1][0] <= start:
            out.append(tuple(stack.pop()[1:]))
        if stack:
            stack[-1][2] -= min(end, stack[-1][0]) - start
        stack.append([end, key, end - start])
    out.extend(tuple(s[1:]) for s in stack)
    return out


def _union_ps(intervals):
    total, cur_start, cur_end = 0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


def summarize(logdir, steps=None):
    """The profile of the newest trace under ``logdir``.

    Returns a dict: ``wall_ms`` (first to last op), ``op_ms`` (self time by
    category), ``top`` (the ten op types with the most self time, ms),
    ``idle_fraction`` (wall time with no op running), and, given ``steps`` (how
    many steps the trace covers), ``ms_per_step``.
    """
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    by_cat = collections.Counter()
    by_type = collections.Counter()
    spans = []
    for path in trace_files(logdir):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
        for plane in space.planes:
            if not plane.name.startswith("/host:"):
                continue
            names = {k: m.name for k, m in plane.event_metadata.items()}
            for line in plane.lines:
                base = line.timestamp_ns * 1000
                events = []
                for ev in line.events:
                    op = _op_of(names.get(ev.metadata_id, ""))
                    if op is None:
                        continue
                    start = base + ev.offset_ps
                    events.append((start, start + ev.duration_ps, op))
                # tf.data's own threads: the pipeline's map functions
                pipeline = line.name.startswith("tf_data")
                for (op_name, op_type), self_ps in _self_times(events):
                    if op_type in _CALLS:
                        continue
                    by_cat["input pipeline" if pipeline else category(op_name, op_type)] += self_ps
                    by_type[op_type] += self_ps
                spans.extend((start, end) for start, end, (_, op_type) in events
                             if op_type not in _CALLS)
    if not spans:
        raise ValueError(f"the trace under {logdir} has no TensorFlow op events")
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    out = {"wall_ms": wall / 1e9,
           "op_ms": {c: by_cat[c] / 1e9 for c in CATEGORIES},
           "top": [(t, ps / 1e9) for t, ps in by_type.most_common(10)],
           "idle_fraction": 1.0 - _union_ps(spans) / wall if wall else 0.0}
    if steps:
        out["ms_per_step"] = out["wall_ms"] / steps
    return out


def shares(profile):
    """Each category's share of all op time, in %."""
    total = sum(profile["op_ms"].values()) or 1.0
    return {c: 100 * ms / total for c, ms in profile["op_ms"].items()}


def table(profile):
    """The profile as Markdown rows: category, ms, share of op time."""
    share = shares(profile)
    rows = [f"| {c} | {ms:.1f} | {share[c]:.1f}% |" for c, ms in profile["op_ms"].items()]
    idle = profile["idle_fraction"]
    rows.append(f"| idle / Python (of wall time) | {idle * profile['wall_ms']:.1f} | "
                f"{100 * idle:.1f}% |")
    return "\n".join(["| where | ms | share |", "|---|---|---|", *rows])
