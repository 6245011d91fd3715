r"""Where each model's training step spends its time (TensorFlow profiler).

    python benchmarks/profile_step.py                      # every case below
    python benchmarks/profile_step.py --cases=dcgan_b64,wgan_gp_b64 --profiled=10

Each case trains through the suite's own CLI path (``tfgan_suite.run("train")``,
so the data pipeline, callbacks and ``fit`` are the real ones) for ``--warmup``
steps, then records ``--profiled`` more with ``--profile_steps`` and summarises the
trace with ``tfgan_suite.profiling``: self time of the TensorFlow ops by
category (convolutions, dense matmuls, normalisation, optimizer updates,
gradient penalty, input pipeline, other ops) as a share of all op time, and the
share of wall time in which no op ran (Python, callbacks, dispatch). The full
trace stays in ``--runs_dir/<case>/plugins/profile`` for TensorBoard's Profile tab.
Nothing here asserts a time.
"""
import os
import tempfile

from absl import app, flags

flags.DEFINE_list("cases", None, "Cases to profile (default: all of CASES).")
flags.DEFINE_integer("profiled", 10, "Profiled steps per case.")
flags.DEFINE_integer("warmup", 5, "Steps before the profiled ones (tracing, caches).")
flags.DEFINE_string("runs_dir", None, "Where the runs go (default: a temporary directory).")
FLAGS = flags.FLAGS

# name -> train flags (the list, then the newer families at their quick sizes)
CASES = {
    "dcgan_b64": ["--model=dcgan", "--dataset=bundled:mnist", "--batch_size=64"],
    "dcgan_b256": ["--model=dcgan", "--dataset=bundled:mnist", "--batch_size=256"],
    "wgan_gp_b64": ["--model=wgan_gp", "--dataset=bundled:mnist", "--batch_size=64"],
    "pix2pix_256": ["--model=pix2pix", "--dataset=bundled:edges2shoes", "--image_size=256",
                    "--batch_size=1"],
    "cyclegan_128": ["--model=cyclegan", "--dataset=bundled:sneakers2boots",
                     "--image_size=128", "--batch_size=1", "--resnet_blocks=6"],
    "cyclegan_256": ["--model=cyclegan", "--dataset=bundled:sneakers2boots",
                     "--image_size=256", "--batch_size=1", "--resnet_blocks=9"],
    "acgan_b64": ["--flagfile=flags/acgan_mnist_quick.cfg"],
    "srresnet_quick": ["--flagfile=flags/srresnet_photos_quick.cfg"],
    "stylegan_quick": ["--flagfile=flags/stylegan_fashion_quick.cfg"],
    "biggan_quick": ["--flagfile=flags/biggan_fashion_quick.cfg"],
}


def main(argv):
    del argv
    import tfgan_suite as tg
    from tfgan_suite import profiling

    # tg.run parses the suite's flags afresh: read this script's own first.
    root = FLAGS.runs_dir or tempfile.mkdtemp(prefix="profile_")
    names, profiled, warmup = FLAGS.cases or list(CASES), FLAGS.profiled, FLAGS.warmup
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise SystemExit(f"--cases: unknown {unknown}; choose from {sorted(CASES)}")
    total = warmup + profiled
    results = {}
    for name in names:
        run = os.path.join(root, name)
        tg.run("train", *CASES[name], f"--model_dir={run}", f"--train_steps={total}",
               f"--profile_steps={warmup},{total}", "--sample_every=0",
               f"--save_every={total}", f"--log_every={total}")
        results[name] = profiling.summarize(run, steps=profiled)
        print(f"\n{name}: {results[name]['ms_per_step']:.1f} ms/step\n"
              f"{profiling.table(results[name])}\n"
              f"top ops: " + ", ".join(f"{t} {ms:.0f} ms" for t, ms in results[name]["top"]),
              flush=True)
    cats = list(profiling.CATEGORIES)
    print(f"\nShare of op self time, {profiled} profiled steps after {warmup} "
          f"(idle: share of wall time with no op running)")
    print("| case | ms/step | " + " | ".join(cats) + " | idle / Python |")
    print("|---" * (len(cats) + 3) + "|")
    for name, p in results.items():
        share = profiling.shares(p)
        cells = " | ".join(f"{share[c]:.0f}%" for c in cats)
        print(f"| {name} | {p['ms_per_step']:.0f} | {cells} | {100 * p['idle_fraction']:.0f}% |")


if __name__ == "__main__":
    app.run(main)
