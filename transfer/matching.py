"""Deduplication of imported people, a chunk of rows at a time.

The same matching as a registration (`dedupe.services.person_match`): the person's
blocking keys stored as keyed digests, the people sharing the most keys with them (at
most `MAX_CANDIDATES`) compared with the stored model, pairs from `REVIEW_THRESHOLD` up
queued for review, decided pairs never proposed again. Done per chunk rather than per
person, so that 50,000 rows cost a few hundred queries instead of a few per row: the
import therefore does not call the per-person on-save hook (`register_on_person_saved`,
whose only user is this very matching).
"""

from collections import Counter

import numpy as np

from casework.models import Person
from dedupe.engine import linkage
from dedupe.models import MatchCandidate, MatchKey, PersonCluster
from dedupe.services import (
    MATCH_FIELDS,
    MAX_CANDIDATES,
    REVIEW_THRESHOLD,
    _decided_pairs,
    _explanation,
    _store_candidates,
    current_model,
    key_digests,
    match_table,
    record_of,
)

# A key shared by more people than this says little about identity (a common name and
# birth year) and would make every new namesake read all of them; like the batch's
# blocks, it is not used to find candidates.
MAX_KEY_PEOPLE = linkage.MAX_BLOCK
IN_CHUNK = 2000  # values per IN (...) list


def _chunks(values: list, size: int = IN_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def match_people(
    people: list[Person],
    updated: set[int] = frozenset(),
    records: dict | None = None,
    holders: dict | None = None,
) -> dict[int, int]:
    """Index the people and queue their likely matches; return {person id: pairs queued}.

    `updated` names people whose identifiers changed: their old keys are replaced. When
    two of the people match each other, the pair is counted on the later one. `records`
    keeps the matching fields of people already read (decrypted) by earlier chunks of
    the same import: the same candidates come up again and again; `holders` the people
    holding each blocking key read so far (up to MAX_KEY_PEOPLE + 1 of them).
    """
    records = {} if records is None else records
    if not people:
        return {}
    new_records = [record_of(p) for p in people]
    new = match_table(new_records)
    digests = [sorted(set(key_digests(new, i))) for i in range(len(people))]
    if updated:
        MatchKey.objects.filter(person_id__in=list(updated)).delete()
    MatchKey.objects.bulk_create(
        [MatchKey(person=p, digest=d) for p, ds in zip(people, digests, strict=True) for d in ds],
        batch_size=5000,
        ignore_conflicts=True,
    )
    PersonCluster.objects.bulk_create(
        [PersonCluster(person=p, cluster=p.pk) for p in people], ignore_conflicts=True
    )
    wanted = sorted({d for ds in digests for d in ds})
    if holders is None:
        holders = {}
    # Keys seen in earlier chunks are not read again: this chunk's people are added to them.
    for person, person_digests in zip(people, digests, strict=True):
        for digest in person_digests:
            ids = holders.get(digest)
            if ids is not None and len(ids) <= MAX_KEY_PEOPLE:
                ids.append(person.pk)
    unread = [d for d in wanted if d not in holders]
    for d in unread:
        holders[d] = []
    for block in _chunks(unread):
        for digest, person_id in MatchKey.objects.filter(digest__in=block).values_list(
            "digest", "person_id"
        ):
            ids = holders[digest]
            if len(ids) <= MAX_KEY_PEOPLE:  # beyond, the key is not used (see above)
                ids.append(person_id)
    position = {p.pk: i for i, p in enumerate(people)}
    chosen: list[list[int]] = []
    for i, person in enumerate(people):
        shared = Counter()
        for digest in digests[i]:
            ids = holders.get(digest, ())
            if len(ids) <= MAX_KEY_PEOPLE:
                shared.update(pid for pid in ids if pid != person.pk)
        # An earlier person of the same import is compared from the later one only.
        ranked = sorted(
            (pid for pid in shared if position.get(pid, -1) < i),
            key=lambda pid: (-shared[pid], pid),
        )
        chosen.append(ranked[:MAX_CANDIDATES])
    candidate_ids = sorted({pid for ids in chosen for pid in ids})
    for record in new_records:  # later chunks compare with them too
        records[record["id"]] = record
    if not candidate_ids:
        return {p.pk: 0 for p in people}
    unread = [pid for pid in candidate_ids if pid not in records]
    for block in _chunks(unread):
        for person in Person.objects.filter(pk__in=block).only(*MATCH_FIELDS):
            records[person.pk] = record_of(person)
    others = [records[pid] for pid in candidate_ids if pid in records]
    row_of = {record["id"]: j for j, record in enumerate(others)}
    existing = match_table(others)
    pairs = np.array(
        [(i, row_of[pid]) for i, ids in enumerate(chosen) for pid in ids if pid in row_of],
        dtype=np.int64,
    ).reshape(-1, 2)
    model = current_model()
    levels = linkage.compare(new, pairs, existing)
    weights, parts = linkage.weights(model, levels, new, pairs, existing)
    probability = linkage.probability(weights)
    decided = _decided_pairs({p.pk for p in people})
    scored = []
    queued = Counter()
    for index in np.flatnonzero(probability >= REVIEW_THRESHOLD):
        a = people[int(pairs[index, 0])].pk
        b = others[int(pairs[index, 1])]["id"]
        if (min(a, b), max(a, b)) in decided:
            continue
        scored.append((a, b, float(probability[index]), _explanation(levels, parts, index)))
        queued[a] += 1
    # A pair with a newly created person cannot have been stored before: one INSERT for
    # all of them; pairs of people whose identifiers changed are refreshed one by one.
    fresh = [item for item in scored if item[0] not in updated]
    MatchCandidate.objects.bulk_create(
        [
            MatchCandidate(
                person_a_id=min(a, b), person_b_id=max(a, b), probability=p, explanation=e
            )
            for a, b, p, e in fresh
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    _store_candidates([item for item in scored if item[0] in updated])
    return {p.pk: queued[p.pk] for p in people}
