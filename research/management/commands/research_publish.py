"""Publish a release of the research data: `research_publish --as-of YYYY-MM-DD`."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from research import services
from research.models import Release
from research.publish import publisher


class Command(BaseCommand):
    help = (
        "Publish every case registered up to the date whose person consented to anonymised "
        "research, deduplicated and transformed to research codes, as a draft release."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--by", help="username of the data protection officer publishing (default: the first)"
        )
        parser.add_argument("--approve", action="store_true", help="approve it at once")
        parser.add_argument("--final", action="store_true", help="not provisional")
        parser.add_argument("--corrects", type=int, help="number of the release it corrects")
        parser.add_argument("--change-note", default="", help="what the correction changes")
        parser.add_argument(
            "--if-none", action="store_true", help="do nothing if a release is already approved"
        )

    def handle(self, *args, **options):
        if options["if_none"] and Release.objects.filter(status=Release.Status.APPROVED).exists():
            self.stdout.write("An approved release exists already: nothing published.")
            return
        try:
            as_of = date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError("--as-of must be a date written YYYY-MM-DD.") from None
        actor = publisher(options["by"])
        if actor is None:
            raise CommandError(
                "Publishing needs an active data protection officer: give one with --by."
            )
        corrects = None
        if options["corrects"] is not None:
            corrects = Release.objects.filter(
                number=options["corrects"], status=Release.Status.APPROVED
            ).first()
            if corrects is None:
                raise CommandError(f"No approved release {options['corrects']} to correct.")
        try:
            release = services.release_publish(
                actor=actor,
                as_of=as_of,
                corrects=corrects,
                change_note=options["change_note"],
                provisional=not options["final"],
                progress=lambda message: self.stderr.write(f"  {message}"),
            )
            if options["approve"]:
                release = services.release_approve(actor=actor, release=release)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Release {release.number} ({release.get_status_display()}): "
            f"{release.persons} persons, {release.cases} cases, as of {release.as_of}; "
            f"checksum {release.checksum}"
        )
