"""Encode a mission's people as Bloom filters for linkage with another mission."""

import base64
import json
import os

from django.core.management.base import BaseCommand, CommandError

from casework import blind_index
from casework.audit import Action, audit_record
from casework.models import Mission, Person
from dedupe.engine import pprl
from dedupe.services import record_of


class Command(BaseCommand):
    help = (
        "Write one JSON line per person registered by the mission: an opaque reference and "
        "the hardened Bloom-filter encoding of names and date of birth. The secret shared "
        "with the other mission is read from the environment variable named by --secret-env."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mission", required=True)
        parser.add_argument("--secret-env", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--no-hardening", action="store_true")

    def handle(self, *args, mission: str, secret_env: str, out: str, no_hardening: bool, **options):
        secret = os.environ.get(secret_env, "")
        if len(secret) < 16:
            raise CommandError(f"Set {secret_env} to the shared secret (16 characters or more).")
        try:
            registered_by = Mission.objects.get(code=mission)
        except Mission.DoesNotExist as missing:
            raise CommandError(f"No mission with code {mission}.") from missing
        people = list(Person.objects.filter(registered_by=registered_by).order_by("pk"))
        settings = pprl.Settings(secret=secret.encode(), balance=not no_hardening)
        encodings = pprl.encode([record_of(p) for p in people], settings)
        with open(out, "w", encoding="utf-8") as handle:
            for person, encoding in zip(people, encodings, strict=True):
                # The reference lets this mission find the person again; it means nothing elsewhere.
                reference = blind_index.digest("pprl-reference", str(person.pk))[:24]
                clk = base64.b64encode(encoding.tobytes()).decode()
                handle.write(json.dumps({"ref": reference, "clk": clk}) + "\n")
        audit_record(
            action=Action.EXPORT,
            mission=registered_by,
            detail={"what": "pprl_encodings", "people": len(people), "hardened": not no_hardening},
        )
        self.stdout.write(f"{len(people)} encodings written to {out}")
