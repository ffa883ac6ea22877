"""End to end on plain records: fit, score and cluster. Used by `dedupe_link` and the benchmarks."""

from dataclasses import dataclass

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
    records: list[dict], extra_fields: tuple[str, ...] = (), threshold: float = CLUSTER_THRESHOLD
):
    table = linkage.build_table(records, extra_fields)
    pairs = linkage.candidate_pairs(table)
    if len(table) >= linkage.MIN_RECORDS_TO_FIT:
        model = linkage.fit(table, pairs)
    else:
        model = linkage.Model.from_dict(linkage.DEFAULT_PARAMETERS)
    probabilities, _parts = linkage.score(model, table, pairs)
    labels = clustering.cluster(len(table), pairs, probabilities, threshold)
    return Result(labels=labels, pairs=pairs, probabilities=probabilities, model=model)
