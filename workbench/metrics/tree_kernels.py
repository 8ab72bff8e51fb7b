"""Compiled loops of DCI's fast mode: exact split search over presorted features.

The boosting in :mod:`workbench.metrics.boosting` grows one depth-limited regression
tree per class and per factor at every stage. These three loops do the per-sample
work, compiled with numba; everything else is numpy.

:func:`best_splits`
    One level of every tree at once. Each feature is sorted once, before boosting;
    walking the samples in that order, every (tree, node) accumulates the residual
    sum and count of its samples seen so far, which is the left side of the split
    "threshold between the previous value and this one". So one pass per feature
    scores *every* threshold of every node of every tree: the search sklearn's
    ``DecisionTreeRegressor`` makes by sorting each node's samples again, here without
    the sorting. Its rules are copied: candidate thresholds lie between values more
    than ``1e-7`` apart, splits are ranked by ``sum_l^2 / n_l + sum_r^2 / n_r``, a
    node whose residual variance is at most machine epsilon is a leaf, and features
    whose best splits tie are chosen between at random (sklearn visits features in a
    random order and keeps the first best; ``priority`` plays that order).
:func:`route`
    Move samples to the children of the nodes that split.
:func:`leaf_sums`
    The sums behind each leaf's Newton step.

Node numbering: the nodes of level ``d`` are ``0 .. 2**d - 1``; node ``j`` has
children ``2j`` and ``2j + 1``. A node that does not split passes all its samples to
``2j`` and is marked inactive, so its leaf holds exactly its own samples.
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError as error:  # pragma: no cover - numba ships with the environment
    raise ModuleNotFoundError(
        "DCI's fast mode compiles its tree loops with numba; install it with "
        "`pip install numba` (or use dci(..., mode='exact')).") from error

__all__ = ["best_splits", "route", "leaf_sums", "FEATURE_THRESHOLD", "EPSILON"]

FEATURE_THRESHOLD = 1e-7  # sklearn: values closer than this are not split apart
EPSILON = np.finfo(np.float64).eps  # sklearn: a node this pure is a leaf


@njit(cache=True)
def best_splits(order, x_sorted, resid, node, active, priority, tie_tol):  # pragma: no cover
    """Best split of every active node of every tree at one level.

    Parameters
    ----------
    order, x_sorted : (n_features, n) int64 and float64
        Each feature's sample indices in increasing order of value, and the values.
    resid : (n_trees, n) float64
        Residuals (the trees' regression targets).
    node : (n_trees, n) int64
        Each sample's node in each tree.
    active : (n_trees, n_nodes) bool
        Nodes that may split.
    priority : (n_trees, n_nodes, n_features) float64
        Random order of the features at each node (ties go to the lowest).
    tie_tol : float
        Relative tolerance within which two splits count as equally good.

    Returns
    -------
    feature, threshold, gain : (n_trees, n_nodes)
        ``feature`` is -1 where the node does not split; ``gain`` is the decrease of
        the node's sum of squared residuals (its importance contribution).

    Examples
    --------
    One tree, one feature, a root node: the best threshold splits the residuals into
    their two groups.

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> order = np.argsort(x.T, axis=1)
    >>> x_sorted = np.take_along_axis(x.T, order, axis=1)
    >>> resid = np.array([[-1.0, -1.0, 1.0, 1.0]])
    >>> node = np.zeros((1, 4), dtype=np.int64)
    >>> active, priority = np.ones((1, 1), dtype=bool), np.zeros((1, 1, 1))
    >>> feature, threshold, gain = best_splits(order, x_sorted, resid, node, active, priority, 1e-12)
    >>> feature, threshold, gain       # split feature 0 at 1.5; the squared residuals drop by 4
    (array([[0]]), array([[1.5]]), array([[4.]]))
    """
    n_feat, n = order.shape
    n_trees, n_nodes = active.shape
    inverse = np.zeros(n + 1)  # 1 / count by table look-up: divisions dominated the loop
    inverse[1:] = 1.0 / np.arange(1, n + 1)
    feature = np.full((n_trees, n_nodes), -1, dtype=np.int64)
    threshold = np.zeros((n_trees, n_nodes))
    gain = np.zeros((n_trees, n_nodes))
    total, count, squares = np.zeros(n_nodes), np.zeros(n_nodes, np.int64), np.zeros(n_nodes)
    best, tol = np.zeros(n_nodes), np.zeros(n_nodes)
    left_sum, left_n, last = np.zeros(n_nodes), np.zeros(n_nodes, np.int64), np.zeros(n_nodes)
    for t in range(n_trees):  # one tree at a time: its residuals and nodes stay in cache
        r_t, node_t, act, feat = resid[t], node[t], active[t], feature[t]
        total[:] = 0.0
        count[:] = 0
        squares[:] = 0.0
        for i in range(n):
            j = node_t[i]
            total[j] += r_t[i]
            count[j] += 1
            squares[j] += r_t[i] * r_t[i]
        best[:] = -np.inf
        tol[:] = tie_tol * squares
        for f in range(n_feat):
            left_sum[:] = 0.0
            left_n[:] = 0
            for k in range(n):
                i = order[f, k]
                j = node_t[i]  # inactive nodes are scored too, and reset below
                c = left_n[j]
                x = x_sorted[f, k]
                if c > 0 and x > last[j] + FEATURE_THRESHOLD:
                    s = left_sum[j]
                    r = total[j] - s
                    proxy = s * s * inverse[c] + r * r * inverse[count[j] - c]
                    diff = proxy - best[j]
                    if diff > tol[j] or (diff >= -tol[j] and feat[j] != f
                                         and priority[t, j, f] < priority[t, j, feat[j]]):
                        best[j] = proxy
                        feat[j] = f
                        mid = last[j] / 2.0 + x / 2.0
                        threshold[t, j] = last[j] if mid == x else mid
                left_sum[j] += r_t[i]
                left_n[j] = c + 1
                last[j] = x
        for j in range(n_nodes):
            w = count[j]
            if not act[j] or feat[j] < 0 or w < 2:
                feat[j] = -1
                continue
            mean = total[j] / w
            if squares[j] / w - mean * mean <= EPSILON:
                feat[j] = -1
                continue
            gain[t, j] = best[j] - total[j] * mean
    return feature, threshold, gain


@njit(cache=True)
def route(x, node, feature, threshold):  # pragma: no cover
    """Children of each sample's node, in place: ``2j`` (value <= threshold) or ``2j + 1``.

    ``x`` is (n, n_features), ``node`` (n_trees, n); nodes with ``feature == -1`` send
    every sample to ``2j``.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> node = np.zeros((1, 4), dtype=np.int64)
    >>> route(x, node, np.array([[0]]), np.array([[1.5]]))
    >>> node                           # node 0's children: 0 (x <= 1.5) and 1
    array([[0, 0, 1, 1]])
    """
    n_trees, n = node.shape
    for t in range(n_trees):
        for i in range(n):
            j = node[t, i]
            f = feature[t, j]
            node[t, i] = 2 * j + (1 if f >= 0 and x[i, f] > threshold[t, j] else 0)


@njit(cache=True)
def leaf_sums(node, resid, hessian, n_leaves):  # pragma: no cover
    """Per tree and leaf: the sums of residuals and of ``p (1 - p)`` (all (n_trees, n)).

    Examples
    --------
    >>> node = np.array([[0, 0, 1, 1]])
    >>> resid, hessian = np.array([[-1.0, -1.0, 1.0, 1.0]]), np.full((1, 4), 0.25)
    >>> leaf_sums(node, resid, hessian, 2)   # the Newton step of leaf k is num[k] / den[k]
    (array([[-2.,  2.]]), array([[0.5, 0.5]]))
    """
    n_trees, n = node.shape
    num = np.zeros((n_trees, n_leaves))
    den = np.zeros((n_trees, n_leaves))
    for t in range(n_trees):
        for i in range(n):
            num[t, node[t, i]] += resid[t, i]
            den[t, node[t, i]] += hessian[t, i]
    return num, den
