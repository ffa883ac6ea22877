"""Write a k-anonymous extract of a release, with its codebook, from the command line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from casework.audit import Action, audit_record
from research import ctdc, extracts
from research.models import MIN_K, Release
from research.selectors import approved_release, current_policy


class Command(BaseCommand):
    help = (
        "Write a k-anonymous extract (CSV, SPSS .sav or Stata .dta) of a release, with "
        "PATH.codebook.json and PATH.release.json beside it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--release", default="latest", help="a release number, or latest")
        parser.add_argument("--variables", default="all", help="a,b,c or all")
        parser.add_argument(
            "--where", action="append", default=[], help="variable=code (repeatable)"
        )
        parser.add_argument("--k", type=int, help="k (default: the disclosure policy's)")
        parser.add_argument("--format", choices=extracts.FORMATS, default="csv")
        parser.add_argument("--layout", choices=["research", "ctdc"], default="research")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        release = self._release(options["release"])
        policy = current_policy()
        k = options["k"] if options["k"] is not None else policy.k
        if k < MIN_K:
            raise CommandError(f"k is never below {MIN_K}.")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        try:
            if options["layout"] == "ctdc":
                extract = ctdc.build(release, extracts.parse_filters(options["where"]), k=k)
                ctdc.write(extract, release, out, options["format"])
            else:
                names = extracts.parse_variables(options["variables"])
                filters = extracts.parse_filters(options["where"])
                extract = extracts.build(
                    release, names, filters, k=k, max_suppressed_share=policy.max_suppressed_share
                )
                extracts.write_with_documentation(extract, release, out, options["format"])
        except extracts.ExtractError as error:
            raise CommandError(str(error)) from None
        report = extract.report
        audit_record(
            action=Action.EXTRACT_DOWNLOADED,
            obj=release,
            detail={"command": True, "format": options["format"], "rows": report["rows"], "k": k},
        )
        generalised = ", ".join(f"{n} to {lvl}" for n, lvl in report["generalised"].items())
        self.stdout.write(
            f"{report['rows']} records written to {out} (release {release.number}, k = {k}, "
            f"smallest group {report['k_achieved']}); generalised: {generalised or 'nothing'}; "
            f"values suppressed: {report['suppressed_total']}; "
            f"l-diversity: {report['l_diversity'] or '-'}"
        )

    @staticmethod
    def _release(spec: str) -> Release:
        try:
            return approved_release(spec)
        except LookupError as missing:
            raise CommandError(str(missing)) from None
