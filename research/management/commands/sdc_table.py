"""Protect a table of any microdata CSV, without the database: `sdc_table --input data.csv`."""

from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from research import sdc


class Command(BaseCommand):
    help = (
        "Count a CSV of microdata by row and column variables (with optional hierarchies: a "
        "CSV code,parent per variable; parents become subtotals), withhold small counts "
        "(primary and secondary suppression), audit every withheld cell with HiGHS, and "
        "write the long form (csv: dimensions, count, flag x primary / s secondary) or JSON "
        "(with each withheld cell's audited interval)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--rows", required=True, help="var or var,var")
        parser.add_argument("--cols", help="var")
        parser.add_argument("--hierarchy", action="append", default=[], help="var=PATH")
        parser.add_argument("--threshold", type=int, default=10)
        parser.add_argument("--sensitive", help="a dimension for the group-disclosure rule")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--out", required=True)
        parser.add_argument(
            "--exact-audit",
            action="store_true",
            help="exact intervals for every withheld cell, however long it takes (by default "
            "very large connected groups of withheld cells get inner brackets, with every "
            "small count's protection still proven)",
        )

    def handle(self, *args, **options):
        rows = [name.strip() for name in options["rows"].split(",") if name.strip()]
        cols = options["cols"]
        if options["threshold"] < 2:
            raise CommandError("The threshold is at least 2.")
        data = self._read(options["input"], [*rows, *([cols] if cols else [])])
        hierarchies = dict(self._hierarchy(spec) for spec in options["hierarchy"])
        try:
            table = sdc.build_table(data, rows, cols, hierarchies)
            result = sdc.protect(
                table,
                options["threshold"],
                sensitive=options["sensitive"],
                exact_audit=options["exact_audit"],
            )
        except (ValueError, KeyError) as error:
            raise CommandError(str(error)) from None
        out = Path(options["out"])
        if options["format"] == "csv":
            sdc.to_csv(result, out)
        else:
            sdc.to_json(result, out)
        audit = result.audit.summary()
        self.stdout.write(
            f"{table.n_cells} cells: {result.n_primary} primary, {result.n_secondary} secondary "
            f"suppressions; audit {'passed' if audit['passed'] else 'FAILED'} "
            f"({audit['lp_solves']} linear programs"
            + (f"; {audit['bracketed']} intervals bracketed" if audit["bracketed"] else "")
            + f") -> {out}"
        )
        if not audit["passed"]:
            raise CommandError("The audit failed: the table must not be published.")

    @staticmethod
    def _read(path: str, names: list[str]) -> pd.DataFrame:
        try:
            data = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except FileNotFoundError:
            raise CommandError(f"No file {path}.") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
            raise CommandError(f"{path} is not a readable CSV file: {error}") from None
        missing = [name for name in names if name not in data.columns]
        if missing:
            raise CommandError(f"{path} has no column {', '.join(missing)}.")
        return data[names].apply(lambda column: column.str.strip())

    @staticmethod
    def _hierarchy(spec: str) -> tuple[str, dict]:
        name, _, path = spec.partition("=")
        if not path:
            raise CommandError("A hierarchy is given as var=PATH.")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise CommandError(f"No hierarchy file {path}.") from None
        if list(frame.columns[:2]) != ["code", "parent"]:
            raise CommandError(f"{path} must have the columns code,parent.")
        return name.strip(), dict(
            zip(frame["code"].str.strip(), frame["parent"].str.strip(), strict=True)
        )
