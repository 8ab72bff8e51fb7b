"""Gradient-boosted trees for DCI's fast mode: sklearn's algorithm, every threshold, fast.

DCI's published estimator is sklearn's ``GradientBoostingClassifier`` (multinomial
deviance, 100 stages of depth-3 regression trees on the residuals ``y - p``, squared
error splits, Newton leaf values, learning rate 0.1); a latent's importance is its
total decrease of the trees' squared error. It is slow because every node of every
one of the ``100 x n_classes`` trees sorts its samples again for every feature.

This module runs the same algorithm, with the same candidate thresholds (all of
them, between distinct float32 values as sklearn sees them), but sorts each feature
once: split search walks the presorted samples and scores every threshold of every
node of every class's tree in one pass per feature (compiled loops in
:mod:`workbench.metrics.tree_kernels`). What differs from sklearn is only which of
several *equally good* splits is taken: both choose between tied features at
random, each with its own random numbers (``seed``). Why every threshold and not
histogram bins: ``benchmarks/REPORT.md``, "Design notes".

Examples
--------
>>> import torch
>>> x = torch.linspace(0, 1, 200, dtype=torch.float64)[:, None].repeat(1, 2)
>>> x[:, 1] = torch.rand(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> y = (x[:, 0] > 0.5).long()
>>> fit = boosted_importance(x[:150], y[:150], x[150:], y[150:], max_iter=5)
>>> fit.importance[:, 0].argmax().item(), fit.test_accuracy
(0, [1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["boosted_importance", "BoostingFit"]

TIE_TOLERANCE = 1e-10  # splits this close (relative to the node's sum of squares) tie


@dataclass
class BoostingFit:
    """What :func:`boosted_importance` returns: importances and accuracies.

    Examples
    --------
    >>> fit = BoostingFit(torch.tensor([[1.0]]), [1.0], [0.5])
    >>> fit.importance.sum(0), fit.test_accuracy
    (tensor([1.]), [0.5])
    """
    importance: torch.Tensor  # (n_features, n_targets); each column sums to 1 (or is 0)
    train_accuracy: list  # one per target
    test_accuracy: list


@dataclass
class _Trees:
    """The trees of every class of every target, side by side (columns)."""

    target: np.ndarray  # (n_trees, n) one-hot class indicators (tree-major)
    raw0: np.ndarray  # (n_trees,) initial raw predictions (log priors)
    scale: np.ndarray  # (n_trees,) Newton step factor (K - 1) / K, or 1 for binary
    owner: np.ndarray  # (n_trees,) target index of each tree
    groups: list  # per target: (slice of its trees, binary?)


def _trees(y_train: np.ndarray) -> _Trees:
    """One tree per class (one per binary target), initialised at the class priors."""
    targets, raw0, scale, owner, groups, start = [], [], [], [], [], 0
    for k in range(y_train.shape[1]):
        n_classes = int(y_train[:, k].max()) + 1
        onehot = np.eye(n_classes)[:, y_train[:, k]]  # (n_classes, n)
        prior = np.clip(onehot.mean(1), 1e-15, 1.0)
        binary = n_classes == 2
        t = 1 if binary else n_classes
        targets.append(onehot[1:] if binary else onehot)
        raw0.append(np.log(prior[1:] / prior[0]) if binary else np.log(prior))
        scale += [1.0 if binary else (n_classes - 1) / n_classes] * t
        owner += [k] * t
        groups.append((slice(start, start + t), binary))
        start += t
    return _Trees(np.concatenate(targets), np.concatenate(raw0), np.array(scale),
                  np.array(owner), groups)


def _probabilities(raw: np.ndarray, groups) -> np.ndarray:
    """Per target: sigmoid of its single tree (binary) or softmax over its trees.

    ``raw`` is tree-major, (n_trees, n).
    """
    out = np.empty_like(raw)
    for g, binary in groups:
        if binary:
            out[g] = 1.0 / (1.0 + np.exp(-raw[g]))
        else:
            np.exp(raw[g] - raw[g].max(0), out=out[g])
            out[g] /= out[g].sum(0)
    return out


def _accuracy(raw: np.ndarray, y: np.ndarray, groups) -> list:
    preds = [(raw[g][0] > 0).astype(np.int64) if binary else raw[g].argmax(0)
             for g, binary in groups]
    return [float(np.mean(p == y[:, k])) for k, p in enumerate(preds)]


def boosted_importance(x_train, y_train, x_test, y_test, *, max_iter=100, max_depth=3,
                       learning_rate=0.1, seed=0) -> BoostingFit:
    """Fit one boosted classifier per target column; return importances and accuracies.

    ``y_train`` (n, n_targets) and ``y_test`` (m, n_targets) hold labels
    0..n_classes-1 per column, every class present in training (a test label of -1
    marks a class never seen in training: always misclassified). The trees of every
    class of every target grow together. ``seed`` decides between equally good splits.

    Examples
    --------
    >>> import torch
    >>> x = torch.linspace(0, 1, 60, dtype=torch.float64)[:, None]
    >>> y = (x[:, 0] > 0.5).long()
    >>> fit = boosted_importance(x, y, x, y, max_iter=3)
    >>> tuple(fit.importance.shape), fit.train_accuracy
    ((1, 1), [1.0])
    """
    from workbench.metrics import tree_kernels as kernels

    # sklearn's trees see float32 features; so do ours (same thresholds, same ties)
    x = np.asarray(x_train, dtype=np.float32).astype(np.float64)
    x_test = np.asarray(x_test, dtype=np.float32).astype(np.float64)
    y = np.asarray(y_train).reshape(len(x), -1)
    y_test = np.asarray(y_test).reshape(len(x_test), -1)
    trees = _trees(y)
    n, n_feat = x.shape
    n_trees, leaves = len(trees.owner), 2 ** max_depth
    order = np.argsort(x, axis=0, kind="stable").T.copy()  # sorted once
    x_sorted = np.take_along_axis(x, order.T, 0).T.copy()
    raw = np.repeat(trees.raw0[:, None], n, 1)  # tree-major: (n_trees, n)
    raw_test = np.repeat(trees.raw0[:, None], len(x_test), 1)
    importance = np.zeros((n_trees, n_feat))
    rng = np.random.default_rng(seed)
    for _ in range(max_iter):
        p = _probabilities(raw, trees.groups)
        resid = trees.target - p
        node = np.zeros((n_trees, n), dtype=np.int64)
        node_test = np.zeros((n_trees, len(x_test)), dtype=np.int64)
        active = np.ones((n_trees, 1), dtype=bool)
        for depth in range(max_depth):
            priority = rng.random((n_trees, 2 ** depth, n_feat))
            feature, threshold, gain = kernels.best_splits(order, x_sorted, resid, node, active,
                                                           priority, TIE_TOLERANCE)
            split = feature >= 0
            np.add.at(importance, (np.nonzero(split)[0], feature[split]), gain[split])
            kernels.route(x, node, feature, threshold)
            kernels.route(x_test, node_test, feature, threshold)
            active = np.repeat(split, 2, axis=1)  # children of split nodes may split again
        num, den = kernels.leaf_sums(node, resid, p * (1.0 - p), leaves)
        num *= trees.scale[:, None]
        ok = np.abs(den) > 1e-150  # sklearn's _safe_divide
        value = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
        raw += learning_rate * np.take_along_axis(value, node, 1)
        raw_test += learning_rate * np.take_along_axis(value, node_test, 1)
    per_target = np.zeros((y.shape[1], n_feat))
    np.add.at(per_target, trees.owner, importance)
    total = per_target.sum(1, keepdims=True)
    per_target = np.where(total > 0, per_target / np.where(total > 0, total, 1.0), 0.0)
    return BoostingFit(torch.from_numpy(per_target.T.copy()), _accuracy(raw, y, trees.groups),
                       _accuracy(raw_test, y_test, trees.groups))
