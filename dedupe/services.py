"""Deduplication in the product: index people, find likely matches, record decisions.

Blocking keys are stored only as keyed digests; candidates' names are decrypted in
memory to be compared and never stored in clear. No two records are ever merged without
a person's decision, and every decision can be undone without losing anything.
"""

import math
from collections import defaultdict

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import blind_index
from casework.access import Perm, cases_with, is_dpo, mission_ids_with
from casework.audit import audit_record
from casework.models import Case, Person, User
from dedupe.engine import linkage
from dedupe.models import Decision, LinkageModel, MatchCandidate, MatchKey, PersonCluster

REVIEW_THRESHOLD = 0.5  # from here a pair goes to the review queue
MAX_CANDIDATES = 50  # people compared with a new registration, most shared keys first
MATCH_FIELDS = (
    "given_names",
    "family_names",
    "date_of_birth",
    "birth_year",
    "sex",
    "citizenship",
    "place_of_birth",
    "document_number",
    "registered_by",
)
# Matched when recorded: a place of birth (compared by its sound, across scripts) and a
# document number (also a blocking key: a shared number finds the pair whatever the name).
EXTRA_FIELDS = ("place_of_birth", "document_number")
STRONG_THRESHOLD = 0.95  # from here it is proposed as a strong match
SEX_CODES = {"female": "f", "male": "m", "transgender": "t"}


class HashedFrequency(dict):
    """Name frequencies keyed by a digest of "citizenship|name", looked up by plain key
    (each key's digest computed once per process)."""

    def get(self, key, default=None):
        digests = self.__dict__.setdefault("_digests", {})
        hashed = digests.get(key)
        if hashed is None:
            hashed = digests[key] = blind_index.digest("name-frequency", key)
        return super().get(hashed, default)


def record_of(person: Person) -> dict:
    """The matching fields of a person, decrypted in memory."""
    return {
        "id": person.pk,
        "given_name": person.given_names,
        "family_name": person.family_names,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "birth_year": person.birth_year,
        "sex": SEX_CODES.get(person.sex, ""),
        "citizenship": str(person.citizenship or ""),
        "extra": {name: getattr(person, name) or "" for name in EXTRA_FIELDS},
    }


def match_table(records: list[dict]) -> linkage.Table:
    """The engine's table of some people's records (see record_of)."""
    return linkage.build_table(records, EXTRA_FIELDS)


_MODEL_CACHE: dict[int, linkage.Model] = {}


def current_model() -> linkage.Model:
    """The latest fitted model (parsed once per process), or the defaults."""
    fitted_id = (
        LinkageModel.objects.order_by("-fitted_at", "-id").values_list("id", flat=True).first()
    )
    if fitted_id is None:
        return linkage.Model.from_dict(linkage.DEFAULT_PARAMETERS)
    if fitted_id not in _MODEL_CACHE:
        fitted = LinkageModel.objects.get(pk=fitted_id)
        _MODEL_CACHE.clear()
        _MODEL_CACHE[fitted_id] = linkage.Model.from_dict(
            fitted.parameters,
            {name: HashedFrequency(values) for name, values in fitted.name_frequency.items()},
        )
    return _MODEL_CACHE[fitted_id]


def key_digests(table: linkage.Table, index: int) -> list[str]:
    return [blind_index.digest("block", key) for key in linkage.blocking_keys(table, index)]


def person_index(person: Person, table: linkage.Table | None = None) -> list[str]:
    """Store the person's blocking keys (as digests) and make sure they have a cluster."""
    table = match_table([record_of(person)]) if table is None else table
    digests = sorted(set(key_digests(table, 0)))
    MatchKey.objects.filter(person=person).exclude(digest__in=digests).delete()
    MatchKey.objects.bulk_create(
        [MatchKey(person=person, digest=d) for d in digests], ignore_conflicts=True
    )
    PersonCluster.objects.bulk_create(
        [PersonCluster(person=person, cluster=person.pk)], ignore_conflicts=True
    )
    return digests


def _explanation(levels: dict, parts: dict, index: int) -> dict:
    return {
        name: {"level": int(levels[name][index]), "bits": round(float(parts[name][index]), 2)}
        for name in parts
    }


def _decided_pairs(person_ids: set[int]) -> set[tuple[int, int]]:
    decided = MatchCandidate.objects.filter(
        Q(person_a_id__in=person_ids) | Q(person_b_id__in=person_ids)
    ).exclude(decision=Decision.PENDING)
    return set(decided.values_list("person_a_id", "person_b_id"))


def _store_candidates(scored: list[tuple[int, int, float, dict]]) -> list[MatchCandidate]:
    """Create or refresh pending candidates; decided pairs are never proposed again."""
    stored = []
    for a, b, probability, explanation in scored:
        a, b = min(a, b), max(a, b)
        candidate, created = MatchCandidate.objects.get_or_create(
            person_a_id=a,
            person_b_id=b,
            defaults={"probability": probability, "explanation": explanation},
        )
        if not created and candidate.decision == Decision.PENDING:
            candidate.probability, candidate.explanation = probability, explanation
            candidate.save(update_fields=["probability", "explanation", "scored_at"])
        stored.append(candidate)
    return stored


def _candidates(person: Person, table: linkage.Table) -> list[int]:
    """Ids of the people sharing the most blocking keys with the person (at most
    MAX_CANDIDATES), skipping, as the batch does, a key shared by more people than its
    block may hold: such a key (a common name and year) says little, and reading all of
    its people is what made a registration slow. Each key reads at most limit + 1 rows
    through the digest index."""
    keys = linkage.blocking_keys(table, 0, with_limits=True)
    digests = [blind_index.digest("block", key) for key, _limit in keys]
    limits = [limit for _key, limit in keys]
    found: dict[str, list[int]] = defaultdict(list)
    if connection.vendor == "postgresql":  # one round trip, at most limit + 1 rows per key
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.digest, m.person_id FROM unnest(%s::text[], %s::int[]) AS k(digest, lim)"
                " CROSS JOIN LATERAL (SELECT person_id FROM dedupe_matchkey"
                " WHERE digest = k.digest AND person_id <> %s LIMIT k.lim + 1) AS m",
                [digests, limits, person.pk],
            )
            for digest, pid in cursor.fetchall():
                found[digest].append(pid)
    else:
        for digest, limit in zip(digests, limits, strict=True):
            found[digest] = list(
                MatchKey.objects.filter(digest=digest)
                .exclude(person_id=person.pk)
                .values_list("person_id", flat=True)[: limit + 1]
            )
    shared: dict[int, int] = defaultdict(int)
    for digest, limit in zip(digests, limits, strict=True):
        ids = found.get(digest, [])
        if len(ids) <= limit:
            for pid in ids:
                shared[pid] += 1
    ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
    return [pid for pid, _count in ranked[:MAX_CANDIDATES]]


@transaction.atomic  # one commit, not one per statement
def person_match(person: Person) -> list[MatchCandidate]:
    """Index a newly saved person and queue their likely matches for review."""
    new = match_table([record_of(person)])
    person_index(person, new)
    # The people sharing the most blocking keys first: with a common name, hundreds share
    # one key, and comparing an arbitrary few of them would miss the real match.
    others = list(Person.objects.filter(pk__in=_candidates(person, new)).only(*MATCH_FIELDS))
    if not others:
        return []
    existing = match_table([record_of(p) for p in others])
    pairs = np.stack([np.zeros(len(others), dtype=np.int64), np.arange(len(others))], axis=1)
    model = current_model()
    levels = linkage.compare(new, pairs, existing)
    weights, parts = linkage.weights(model, levels, new, pairs, existing)
    probability = linkage.probability(weights)
    likely = np.flatnonzero(probability >= REVIEW_THRESHOLD)
    decided = _decided_pairs({person.pk}) if len(likely) else set()
    scored = []
    for index in likely.tolist():
        other = others[index]
        key = (min(person.pk, other.pk), max(person.pk, other.pk))
        if key not in decided:
            scored.append(
                (person.pk, other.pk, float(probability[index]), _explanation(levels, parts, index))
            )
    return _store_candidates(scored)


# Decisions ----------------------------------------------------------------------------


def reviewable(user: User) -> Q:
    """Candidates the user may decide: the DPO all, a manager those touching their missions."""
    if is_dpo(user):
        return Q()
    missions = mission_ids_with(user, Perm.DEDUPE_REVIEW)
    return Q(person_a__registered_by_id__in=missions) | Q(person_b__registered_by_id__in=missions)


def _recluster(person_ids: set[int]) -> None:
    """Recompute the clusters touching these people from the decided links."""
    linked = MatchCandidate.objects.filter(decision__in=[Decision.SAME_CASE, Decision.NEW_CASE])
    edges = defaultdict(set)
    frontier, seen = set(person_ids), set()
    while frontier:
        seen |= frontier
        rows = linked.filter(Q(person_a_id__in=frontier) | Q(person_b_id__in=frontier)).values_list(
            "person_a_id", "person_b_id"
        )
        found = set()
        for a, b in rows:
            edges[a].add(b)
            edges[b].add(a)
            found |= {a, b}
        frontier = found - seen
    for start in seen:
        component, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node not in component:
                component.add(node)
                stack.extend(edges[node] - component)
        label = min(component)
        PersonCluster.objects.update_or_create(person_id=start, defaults={"cluster": label})


def _case_of(person_id: int) -> Case | None:
    return Case.objects.filter(person_id=person_id, merged_into__isnull=True).order_by("id").first()


@transaction.atomic
def match_decide(*, actor: User, candidate: MatchCandidate, decision: str) -> MatchCandidate:
    """Record a reviewer's decision; "same case" also merges the later case into the earlier."""
    candidate = MatchCandidate.objects.select_for_update().get(pk=candidate.pk)
    if not MatchCandidate.objects.filter(reviewable(actor), pk=candidate.pk).exists():
        raise PermissionDenied
    if candidate.decision != Decision.PENDING:
        raise ValidationError(_("This pair has already been decided; undo the decision first."))
    if decision not in (Decision.SAME_CASE, Decision.NEW_CASE, Decision.DIFFERENT):
        raise ValidationError(_("Choose a decision."))
    if decision == Decision.SAME_CASE:
        first, second = _case_of(candidate.person_a_id), _case_of(candidate.person_b_id)
        if first is None or second is None:
            raise ValidationError(_("One of the two records has no open case to merge."))
        keep, absorb = sorted((first, second), key=lambda c: (c.registered_on, c.pk))
        Case.objects.filter(pk=absorb.pk).update(merged_into=keep)
        candidate.merged_case = absorb
    candidate.decision = decision
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["decision", "decided_by", "decided_at", "merged_case"])
    _recluster({candidate.person_a_id, candidate.person_b_id})
    audit_record(
        action="dedupe.decided",
        actor=actor,
        obj=candidate,
        detail={"decision": decision, "probability": round(candidate.probability, 3)},
    )
    return candidate


@transaction.atomic
def match_undo(*, actor: User, candidate: MatchCandidate) -> MatchCandidate:
    """Undo a decision: unmerge, unlink, or propose the pair again; nothing is lost."""
    candidate = MatchCandidate.objects.select_for_update().get(pk=candidate.pk)
    if not MatchCandidate.objects.filter(reviewable(actor), pk=candidate.pk).exists():
        raise PermissionDenied
    if candidate.decision == Decision.PENDING:
        raise ValidationError(_("There is no decision to undo."))
    previous = candidate.decision
    if candidate.merged_case_id:
        Case.objects.filter(pk=candidate.merged_case_id).update(merged_into=None)
    candidate.decision = Decision.PENDING
    candidate.decided_by = None
    candidate.decided_at = None
    candidate.merged_case = None
    candidate.save(update_fields=["decision", "decided_by", "decided_at", "merged_case"])
    _recluster({candidate.person_a_id, candidate.person_b_id})
    audit_record(action="dedupe.undone", actor=actor, obj=candidate, detail={"was": previous})
    return candidate


def may_see_identifiers(user: User, candidate: MatchCandidate) -> bool:
    """Identifiers are shown only to someone who may open a case of each of the two people."""
    visible = cases_with(user, Perm.CASE_VIEW)
    return all(
        visible.filter(person_id=pid).exists()
        for pid in (candidate.person_a_id, candidate.person_b_id)
    )


# The whole caseload ------------------------------------------------------------------


def run_batch(*, progress=None, batch_size: int = 5000, refit: bool = False) -> dict:
    """Re-score every person and refresh the review queue.

    The stored model (the latest LinkageModel) is reused, so that re-running after a few
    registrations does not shift every score and cluster; it is fitted on every person
    (and stored) when there is none yet, or when asked (refit).
    """
    people = list(Person.objects.order_by("pk"))
    records = []
    for index, person in enumerate(people, start=1):
        records.append(record_of(person))
        if progress and index % batch_size == 0:
            progress("read", index, len(people))
    table = match_table(records)
    pairs = linkage.candidate_pairs(table)
    levels = linkage.compare(table, pairs)
    stored = LinkageModel.objects.exists()
    fitted = (refit or not stored) and len(table) >= linkage.MIN_RECORDS_TO_FIT
    if fitted:
        model = linkage.fit(table, pairs, levels=levels)
        frequency = {
            name: {
                blind_index.digest("name-frequency", key): value for key, value in values.items()
            }
            for name, values in model.name_frequency.items()
        }
        LinkageModel.objects.create(
            parameters=model.as_dict(),
            name_frequency=frequency,
            people=len(people),
            pairs=len(pairs),
        )
    else:
        model = current_model()  # the last fit, or the defaults when too few to fit
    probability, parts = linkage.score(model, table, pairs, levels)
    MatchKey.objects.all().delete()
    MatchKey.objects.bulk_create(
        (
            MatchKey(person_id=person.pk, digest=digest)
            for index, person in enumerate(people)
            for digest in set(key_digests(table, index))
        ),
        batch_size=5000,
    )
    ids = table.ids
    decided = _decided_pairs(set(ids))
    scored = []
    for index in np.flatnonzero(probability >= REVIEW_THRESHOLD):
        a, b = ids[pairs[index, 0]], ids[pairs[index, 1]]
        if (min(a, b), max(a, b)) not in decided:
            scored.append((a, b, float(probability[index]), _explanation(levels, parts, index)))
    with transaction.atomic():
        _store_candidates(scored)
    PersonCluster.objects.bulk_create(
        [PersonCluster(person_id=pid, cluster=pid) for pid in ids], ignore_conflicts=True
    )
    strong = sum(1 for _a, _b, p, _e in scored if p >= STRONG_THRESHOLD)
    return {
        "people": len(people),
        "candidate_pairs": len(pairs),
        "queued": len(scored),
        "strong": strong,
        "refitted": fitted,
        "prior": model.prior,
        "log10_prior": round(math.log10(model.prior), 2),
    }
