"""Privacy-preserving linkage between missions with Bloom-filter encodings (CLKs).

Each mission encodes its own people; only the encodings travel. A name or a date of
birth is cut into bigrams, and every bigram sets a few bits of a 1024-bit filter chosen
by HMAC under a secret the missions share (without it the bits say nothing, and a
dictionary attack is impossible). Two records are compared by the Dice coefficient of
their filters.

Hardening against frequency attacks (an attacker who sees many encodings and knows
which names are common): the filter is *balanced* — concatenated with its complement,
so every encoding has exactly half its bits set — and the positions are shuffled by a
permutation derived from the secret. Optionally, BLIP flips each bit with a small
probability (randomised response). The accuracy lost to hardening is measured in
bench/dedupe_accuracy.py.
"""

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np

from dedupe.engine.normalise import to_ascii

FILTER_BITS = 1024
# Dice thresholds chosen on FEBRL4 (names and date of birth only): plain, and hardened.
THRESHOLD = 0.6
HARDENED_THRESHOLD = 0.75
# Hash functions per bigram and field: names carry most of the identity.
FIELD_HASHES = {"name": 20, "dob": 12}


@dataclass(frozen=True)
class Settings:
    secret: bytes
    balance: bool = True
    blip: float = 0.0  # probability of flipping a bit; 0 = off

    @property
    def width(self) -> int:
        return FILTER_BITS * (2 if self.balance else 1)


def _bigrams(text: str) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def _tokens(record: dict) -> dict[str, list[str]]:
    # Given and family names together, each word's bigrams: robust to swapped name order.
    words = to_ascii(f"{record.get('given_name') or ''} {record.get('family_name') or ''}").split()
    tokens = {"name": [gram for word in words for gram in _bigrams(word)]}
    dob = (record.get("date_of_birth") or "").strip()
    # The date in pieces, so that a swapped day and month still shares most bits.
    tokens["dob"] = (
        [f"y{dob[:4]}", f"m{dob[5:7]}", f"d{dob[8:10]}", f"md{dob[5:10]}"] if dob else []
    )
    return tokens


def _positions(secret: bytes, field: str, token: str, count: int) -> list[int]:
    """Double hashing (Kirsch–Mitzenmacher) with two HMACs under the shared secret."""
    message = f"{field}\x1f{token}".encode()
    first = int.from_bytes(hmac.new(secret, b"1" + message, hashlib.sha256).digest()[:8], "big")
    second = int.from_bytes(hmac.new(secret, b"2" + message, hashlib.sha256).digest()[:8], "big")
    return [(first + i * second) % FILTER_BITS for i in range(count)]


def _permutation(settings: Settings) -> np.ndarray:
    seed = int.from_bytes(
        hmac.new(settings.secret, b"permutation", hashlib.sha256).digest()[:8], "big"
    )
    return np.random.default_rng(seed).permutation(settings.width)


def encode(records: list[dict], settings: Settings) -> np.ndarray:
    """One row of packed bits per record."""
    bits = np.zeros((len(records), FILTER_BITS), dtype=bool)
    for row, record in enumerate(records):
        for field, tokens in _tokens(record).items():
            for token in tokens:
                bits[row, _positions(settings.secret, field, token, FIELD_HASHES[field])] = True
    if settings.balance:
        bits = np.concatenate([bits, ~bits], axis=1)[:, _permutation(settings)]
    if settings.blip:
        rng = np.random.default_rng()
        bits ^= rng.random(bits.shape) < settings.blip
    return np.packbits(bits, axis=1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice coefficients of every row of `a` against every row of `b`."""
    counts_a = _POPCOUNT[a].sum(axis=1).astype(np.float32)
    counts_b = _POPCOUNT[b].sum(axis=1).astype(np.float32)
    scores = np.empty((len(a), len(b)), dtype=np.float32)
    for i in range(len(a)):
        common = _POPCOUNT[np.bitwise_and(a[i], b)].sum(axis=1)
        scores[i] = 2 * common / np.maximum(counts_a[i] + counts_b, 1)
    return scores


def match(
    a: np.ndarray, b: np.ndarray, threshold: float, chunk: int = 512
) -> list[tuple[int, int, float]]:
    """One-to-one links between two missions' encodings, best first, above the threshold."""
    found = []
    for start in range(0, len(a), chunk):
        scores = dice(a[start : start + chunk], b)
        rows, cols = np.nonzero(scores >= threshold)
        found.extend(
            zip((rows + start).tolist(), cols.tolist(), scores[rows, cols].tolist(), strict=True)
        )
    found.sort(key=lambda item: -item[2])
    used_a, used_b, links = set(), set(), []
    for i, j, score in found:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            links.append((i, j, score))
    return links
