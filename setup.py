"""Packaging for tfgan_suite (pip name: tfgan-suite)."""
from setuptools import find_namespace_packages, setup

setup(
    name="tfgan-suite",
    version="0.1.0",
    description=(
        "GANs from the papers as Keras 3 models: train on one device, several "
        "GPUs or machines, evaluate, export to TF Serving and TFLite."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_namespace_packages(include=["tfgan_suite", "tfgan_suite.*"]),
    package_data={"": ["*.gz", "*.md", "*.h5", "*.npz", "*.json", "*.png", "*.jpg"]},
    install_requires=[
        "tensorflow>=2.21",
        "keras>=3.10",
        "tensorflow-datasets",
        "absl-py",
        "numpy",
        # tensorflow-datasets imports it when it downloads and prepares a dataset
        "importlib_resources",
        # tf.summary.image / scalar implementations (tensorflow no longer pulls it in)
        "tensorboard",
    ],
    extras_require={
        "test": ["pytest>=7", "pytest-xdist", "scipy", "ai-edge-litert", "selenium",
                 "nbclient", "nbformat", "ipykernel"],
        "litert": ["ai-edge-litert"],
    },
    entry_points={
        "console_scripts": [
            "tfgan-train=tfgan_suite.train:run",
            "tfgan-sample=tfgan_suite.sample:run",
            "tfgan-evaluate=tfgan_suite.evaluate:run",
            "tfgan-export=tfgan_suite.export:run",
            "tfgan-study=tfgan_suite.study:run",
            "tfgan-launch=tfgan_suite.launch:run",
        ],
    },
)
