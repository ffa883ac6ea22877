"""Cluster the records of a CSV file, without the database: who in this file is who."""

import csv
import os

from django.core.management.base import BaseCommand, CommandError

from dedupe.engine import pipeline

REQUIRED = ("id",)
KNOWN = ("id", "given_name", "family_name", "date_of_birth", "birth_year", "sex", "citizenship")


class Command(BaseCommand):
    help = (
        "Read a CSV (id,given_name,family_name,date_of_birth,birth_year,sex,citizenship and any "
        "further columns such as place of birth, address or document number) and write id,cluster. "
        "With --model PATH the model fitted earlier and saved there is reused (nothing is "
        "re-estimated, so adding a few records leaves the others' clusters alone); if the file "
        "does not exist, or with --refit, the model is fitted on this file and saved there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--threshold", type=float, default=pipeline.CLUSTER_THRESHOLD)
        parser.add_argument(
            "--model", help="JSON file of the fitted model: read if it exists, else written"
        )
        parser.add_argument(
            "--refit", action="store_true", help="fit on this file even if --model exists"
        )

    def handle(self, *args, input: str, out: str, threshold: float, **options):
        if not 0 < threshold < 1:
            raise CommandError("--threshold must lie between 0 and 1.")
        model_path, refit = options.get("model"), options.get("refit", False)
        model = None
        if model_path and os.path.exists(model_path) and not refit:
            try:
                model = pipeline.load_model(model_path)
            except (OSError, ValueError, KeyError) as error:
                raise CommandError(f"Cannot read the model {model_path}: {error}") from error
        try:
            with open(input, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = [c.strip() for c in reader.fieldnames or []]
                if "id" not in columns:
                    raise CommandError("The file needs an 'id' column.")
                extra = tuple(c for c in columns if c not in KNOWN)
                records = []
                for row in reader:
                    row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                    record = {k: row.get(k, "") for k in KNOWN}
                    record["extra"] = {k: row[k] for k in extra if row.get(k)}
                    records.append(record)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"Cannot read {input}: {error}") from error
        ids = [r["id"] for r in records]
        if len(set(ids)) != len(ids):
            raise CommandError("Every id must be unique.")
        result = pipeline.link(records, extra, threshold, model=model)
        if model_path and model is None:
            pipeline.save_model(result.model, model_path)
        with open(out, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "cluster"])
            for record, label in zip(records, result.labels, strict=True):
                writer.writerow([record["id"], records[int(label)]["id"]])
        clusters = len(set(result.labels.tolist()))
        how = "stored model" if model is not None else "model fitted on this file"
        self.stdout.write(f"{len(records)} records, {clusters} clusters ({how}), written to {out}")
