from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from casework import keys
from casework.audit import Action, audit_record


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEY "
        "(list the new key first, the old ones after it). With --blind-indexes, also "
        "recompute the blind indexes under the current BLIND_INDEX_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--blind-indexes", action="store_true")

    def handle(self, *args, batch_size: int, blind_indexes: bool, **options):
        if len(settings.FIELD_ENCRYPTION_KEY) < 2:
            self.stderr.write(
                "Only one key is configured: values are re-encrypted under the same key. "
                "To rotate, set FIELD_ENCRYPTION_KEY=<new>,<old>."
            )
        try:
            counts = keys.rotate_field_key(batch_size=batch_size)
        except keys.RotationError as error:
            raise CommandError(str(error)) from error
        for label, count in counts.items():
            self.stdout.write(f"{label:<45} {count:>9} values re-encrypted")
        detail = {"values": sum(counts.values())}
        if blind_indexes:
            detail["blind_indexes"] = keys.rebuild_blind_indexes(batch_size=batch_size)
            self.stdout.write(f"Blind indexes recomputed for {detail['blind_indexes']} people.")
        audit_record(action=Action.KEY_ROTATED, detail=detail)
        self.stdout.write(self.style.SUCCESS("Done. The old key can now be removed."))
