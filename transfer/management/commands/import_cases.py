"""python manage.py import_cases --mission CODE --file PATH [--dry-run] [--all-or-nothing]."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from casework.access import Perm, missions_with
from casework.models import Membership, MissionRole, OrgRole, User
from transfer import services


def importer(mission, username: str | None) -> User | None:
    """The user importing: the one named, or the mission's first manager, or the first DPO."""
    users = User.objects.filter(is_active=True)
    if username:
        actor = users.filter(username=username).first()
    else:
        managers = Membership.objects.filter(mission=mission, role=MissionRole.MANAGER)
        actor = (
            users.filter(pk__in=managers.values("user_id")).order_by("id").first()
            or users.filter(Q(org_role=OrgRole.DPO)).order_by("id").first()
        )
    if actor is None or not missions_with(actor, Perm.IMPORT_CASES).filter(pk=mission.pk).exists():
        return None
    return actor


def print_report(report: services.ImportReport, write) -> None:
    if report.problem:
        write(f"File not imported: {report.problem}")
        return
    for row in report.rows:
        line = f"row {row.row:>6}  {row.reference or '—':<24} {row.outcome}"
        if row.duplicates:
            line += f"  ({row.duplicates} likely duplicate(s) for review)"
        if row.note:
            line += f"  {row.note}"
        if row.changes and row.outcome == services.UPDATED:
            line += "  changed: " + ", ".join(row.changes)
        write(line)
        for error in row.errors:
            write(
                f"             column {error['column'] or '—'}: "
                f"“{error['value']}”: {error['reason']}"
            )
    if report.ignored_columns:
        write("Columns not in the template, ignored: " + ", ".join(report.ignored_columns))
    counts = report.counts
    mode = "Dry run (nothing written)" if report.dry_run else "Imported"
    if report.rolled_back:
        mode = "All or nothing: rows with errors, NOTHING imported"
    write(
        f"{mode}: {counts['rows']} rows; {counts['created']} created, {counts['updated']} "
        f"updated, {counts['skipped']} skipped, {counts['error']} with errors; "
        f"{counts['duplicates']} likely duplicates for review."
    )


class Command(BaseCommand):
    help = "Import a mission's cases from a CSV or XLSX file in the template's shape."

    def add_arguments(self, parser):
        parser.add_argument("--mission", required=True, help="mission code, e.g. DE-BER")
        parser.add_argument("--file", required=True, help="path of the CSV or XLSX file")
        parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="write no row unless all are valid"
        )
        order = parser.add_mutually_exclusive_group()
        order.add_argument("--day-first", action="store_true", help="03/05/2019 is 3 May (default)")
        order.add_argument("--month-first", action="store_true", help="03/05/2019 is 5 March")
        parser.add_argument("--by", help="username of the importing manager (default: the first)")
        parser.add_argument("--progress", action="store_true", help="show a progress bar")

    def handle(self, *args, **options):
        from casework.models import Mission

        mission = Mission.objects.filter(code=options["mission"].upper(), is_active=True).first()
        if mission is None:
            raise CommandError(f"No active mission {options['mission']}.")
        actor = importer(mission, options["by"])
        if actor is None:
            raise CommandError(f"No active user who may import into {mission.code}; use --by.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        bar = None
        progress = None
        if options["progress"]:
            from tqdm import tqdm

            def progress(done, total):
                nonlocal bar
                if bar is None:
                    bar = tqdm(total=total, unit="row", file=sys.stderr)
                bar.update(done - bar.n)

        report = services.import_file(
            actor=actor,
            mission=mission,
            data=path.read_bytes(),
            day_first=not options["month_first"],
            all_or_nothing=options["all_or_nothing"],
            dry_run=options["dry_run"],
            progress=progress,
        )
        if bar is not None:
            bar.close()
        print_report(report, self.stdout.write)
        if report.problem:
            raise CommandError("The file could not be read.")
