"""The scoring protocol of *Optimization of convolutional neural networks for background suppression in the
PandaX-III experiment* (P3-CNN), Sec. 4.3: only epochs whose validation accuracy is within 0.001 of the best;
of those, the three with the smallest validation loss; their test predictions averaged."""

from __future__ import annotations

import numpy as np

from tpcml.ml.training import TrainingResult

__all__ = ["ACCURACY_DELTA", "N_EPOCHS_AVERAGED", "paper_epochs", "paper_scores"]

ACCURACY_DELTA = 1e-3  # P3-CNN Sec. 4.3: epochs with validation accuracy within delta < 0.001 of the best
N_EPOCHS_AVERAGED = 3  # P3-CNN Sec. 4.3: "the first three epochs with the smallest validation loss values"


def paper_epochs(result: TrainingResult, delta: float = ACCURACY_DELTA, n: int = N_EPOCHS_AVERAGED) -> list[int]:
    """Indices (0-based) of the epochs the protocol of P3-CNN Sec. 4.3 averages: validation accuracy within
    ``delta`` of the best, then the ``n`` of those with the smallest validation loss."""
    acc = np.array([e.val_accuracy for e in result.epochs])
    loss = np.array([e.val_loss for e in result.epochs])
    qualified = np.flatnonzero(acc >= acc.max() - delta)
    return sorted(qualified[np.argsort(loss[qualified], kind="stable")[:n]].tolist())


def paper_scores(result: TrainingResult, delta: float = ACCURACY_DELTA, n: int = N_EPOCHS_AVERAGED) -> np.ndarray:
    """Test scores of the protocol of P3-CNN Sec. 4.3: the average of the predictions of :func:`paper_epochs`."""
    return result.test_predictions[paper_epochs(result, delta, n)].mean(axis=0)
