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
    order = np.argsort(-probabilities, kind="stable")
    strength: dict[tuple[int, int], float] = {}
    for (i, j), p in zip(pairs, probabilities, strict=True):
        if p >= threshold:
            strength[(int(i), int(j))] = strength[(int(j), int(i))] = float(p)
    label = np.arange(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for index in order:
        p = probabilities[index]
        if p < threshold:
            break
        a, b = label[pairs[index, 0]], label[pairs[index, 1]]
        if a == b:
            continue
        left, right = members[a], members[b]
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
