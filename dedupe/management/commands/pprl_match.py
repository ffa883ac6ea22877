"""Link two missions' Bloom-filter encodings: who is probably in both files."""

import base64
import csv
import json

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from dedupe.engine import pprl


def _read(path: str) -> tuple[list[str], np.ndarray]:
    references, rows = [], []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                item = json.loads(line)
                references.append(str(item["ref"]))
                rows.append(np.frombuffer(base64.b64decode(item["clk"]), dtype=np.uint8))
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"{path}: not an encodings file ({error}).") from error
    if not rows or len({len(r) for r in rows}) != 1:
        raise CommandError(f"{path}: empty, or encodings of different lengths.")
    return references, np.stack(rows)


class Command(BaseCommand):
    help = "Match two files written by pprl_encode with the same secret; write ref_a,ref_b,dice."

    def add_arguments(self, parser):
        parser.add_argument("--a", required=True)
        parser.add_argument("--b", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--threshold", type=float)

    def handle(self, *args, a: str, b: str, out: str, threshold: float | None, **options):
        refs_a, clks_a = _read(a)
        refs_b, clks_b = _read(b)
        if clks_a.shape[1] != clks_b.shape[1]:
            raise CommandError("The two files were not encoded the same way (hardened or not).")
        hardened = clks_a.shape[1] * 8 > pprl.FILTER_BITS
        if threshold is None:
            threshold = pprl.HARDENED_THRESHOLD if hardened else pprl.THRESHOLD
        links = pprl.match(clks_a, clks_b, threshold)
        with open(out, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ref_a", "ref_b", "dice"])
            for i, j, score in links:
                writer.writerow([refs_a[i], refs_b[j], f"{score:.3f}"])
        self.stdout.write(f"{len(links)} probable pairs written to {out}")
