"""End to end on plain records: fit, score and cluster. Used by `dedupe_link` and the benchmarks."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedupe.engine import clustering, linkage

CLUSTER_THRESHOLD = 0.9  # precision first: a false merge mixes two victims' files


@dataclass
class Result:
    labels: np.ndarray  # cluster label per record (index of a member record)
    pairs: np.ndarray
    probabilities: np.ndarray
    model: linkage.Model


def link(
    records: list[dict],
    extra_fields: tuple[str, ...] = (),
    threshold: float = CLUSTER_THRESHOLD,
    model: linkage.Model | None = None,
) -> Result:
    """Cluster the records; with a model (fitted earlier) nothing is re-estimated."""
    table = linkage.build_table(records, extra_fields)
    pairs = linkage.candidate_pairs(table)
    levels = linkage.compare(table, pairs)
    if model is None:
        if len(table) >= linkage.MIN_RECORDS_TO_FIT:
            model = linkage.fit(table, pairs, levels=levels)
        else:
            model = linkage.Model.from_dict(linkage.DEFAULT_PARAMETERS)
    weights, _parts = linkage.weights(model, levels, table, pairs, explain=False)
    del levels
    probabilities = linkage.probability(weights)
    del weights
    labels = clustering.cluster(len(table), pairs, probabilities, threshold)
    return Result(labels=labels, pairs=pairs, probabilities=probabilities, model=model)


def save_model(model: linkage.Model, path: str | Path) -> None:
    """m, u, prior and name frequencies as JSON (names in clear: keep the file safe)."""
    data = {**model.as_dict(), "name_frequency": model.name_frequency, "format": 1}
    Path(path).write_text(json.dumps(data, default=float))


def load_model(path: str | Path) -> linkage.Model:
    data = json.loads(Path(path).read_text())
    return linkage.Model.from_dict(data, data.get("name_frequency") or {})
