"""A protected table of a release: `research_table --rows year_registered --cols sex ...`."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from research import tables
from research.extracts import ExtractError, parse_filters
from research.models import Release
from research.selectors import approved_release, current_policy


class Command(BaseCommand):
    help = (
        "Count a release's records by one or two row variables and a column variable, "
        "withhold small counts (primary and secondary suppression, audited together with "
        "every table already published from the release and the previous release), and "
        "write the long form: one line per cell, margins included."
    )

    def add_arguments(self, parser):
        parser.add_argument("--release", default="latest")
        parser.add_argument("--rows", required=True, help="var or var,var")
        parser.add_argument("--cols", help="var")
        parser.add_argument("--where", action="append", default=[], help="var=code (repeatable)")
        parser.add_argument("--unit", choices=tables.UNITS, default="cases")
        parser.add_argument("--method", choices=tables.METHODS, default=tables.SUPPRESSION)
        parser.add_argument("--threshold", type=int, help="default: the disclosure policy's")
        parser.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
        parser.add_argument(
            "--public",
            action="store_true",
            help="one mark for every withheld cell, no reasons, no intervals (as published)",
        )
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        release = self._release(options["release"])
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        try:
            definition = tables.Definition.make(
                options["rows"].split(","),
                options["cols"],
                parse_filters(options["where"]),
                options["unit"],
                options["method"],
                options["threshold"] or current_policy().threshold,
            )
            stored = tables.publish_table(release, definition)
        except (tables.TableError, ExtractError) as error:
            raise CommandError(str(error)) from None
        tables.write(stored, out, options["format"], for_dpo=not options["public"])
        summary = stored.audit.get("summary", {})
        self.stdout.write(
            f"{len(stored.counts)} cells written to {out} (release {release.number}, "
            f"{definition.unit}, {definition.method}); primary {summary.get('primary', '-')}, "
            f"secondary {summary.get('secondary', '-')}, audit "
            f"{'passed' if stored.passed else 'FAILED'}; "
            f"{json.dumps({k: v for k, v in stored.audit.items() if k.startswith('withheld')})}"
        )

    @staticmethod
    def _release(spec: str) -> Release:
        try:
            return approved_release(spec)
        except LookupError as missing:
            raise CommandError(str(missing)) from None
