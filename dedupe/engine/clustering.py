"""From scored pairs to groups of records that are the same person, without chaining.

Connected components over every link above a threshold chain: A≈B and B≈C put A and C
together even when A and C look nothing alike, and over many weak links hundreds of
different people who share a common name and birth year end up in one cluster.
Instead, clusters are joined by average linkage: two clusters merge only when the mean
match probability over *all* pairs between them (a pair never compared counts as 0)
reaches the threshold.
"""

from collections import defaultdict

import numpy as np


def cluster(n: int, pairs: np.ndarray, probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster label per record (0..n-1); records alone keep a label of their own."""
    above = np.flatnonzero(probabilities >= threshold)  # only these links can join clusters
    pairs, probabilities = pairs[above], probabilities[above]
    order = np.argsort(-probabilities, kind="stable")
    strength: dict[tuple[int, int], float] = {}
    rows = zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), probabilities.tolist(), strict=True)
    for i, j, p in rows:
        strength[(i, j)] = strength[(j, i)] = p
    label = np.arange(n)
    members: dict[int, list[int]] = {}
    for index in order.tolist():
        a, b = int(label[pairs[index, 0]]), int(label[pairs[index, 1]])
        if a == b:
            continue
        left, right = members.setdefault(a, [a]), members.setdefault(b, [b])
        total = sum(strength.get((x, y), 0.0) for x in left for y in right)
        if total / (len(left) * len(right)) < threshold:
            continue
        if len(left) < len(right):
            a, b, left, right = b, a, right, left
        left.extend(right)
        label[right] = a
        del members[b]
    return label


def pairs_from_labels(labels: np.ndarray) -> set[tuple[int, int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for index, value in enumerate(labels):
        groups[int(value)].append(index)
    found = set()
    for group in groups.values():
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                found.add((group[x], group[y]))
    return found


def precision_recall(predicted: set, truth: set) -> dict[str, float]:
    true_positives = len(predicted & truth)
    precision = true_positives / len(predicted) if predicted else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "predicted": len(predicted),
        "true": len(truth),
    }
