"""GAN metrics: FID, KID, Inception Score, precision/recall, PSNR/SSIM.

Pure functions of features (``scores``), streaming statistics (``stats``),
feature extractors (``inception``, ``domain``) and the evaluation of a model
against a dataset (``evaluation``).
"""
from tfgan_suite.metrics.image_quality import psnr, ssim
from tfgan_suite.metrics.scores import (frechet_distance, inception_score,
                                        kernel_inception_distance, precision_recall)
from tfgan_suite.metrics.stats import FeatureStats, load_stats, save_stats

__all__ = ["FeatureStats", "frechet_distance", "inception_score", "kernel_inception_distance",
           "load_stats", "precision_recall", "psnr", "save_stats", "ssim"]
