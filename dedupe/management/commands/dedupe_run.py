from django.core.management.base import BaseCommand
from tqdm import tqdm

from dedupe import services


class Command(BaseCommand):
    help = (
        "Re-score the whole caseload and refresh the review queue, with the stored matching "
        "model (fitted on the whole caseload the first time, or with --refit)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refit", action="store_true", help="fit the model again on the whole caseload"
        )

    def handle(self, *args, refit: bool = False, **options):
        bar = tqdm(unit="person", desc="reading people")

        def progress(stage, done, total):
            bar.total = total
            bar.update(done - bar.n)

        result = services.run_batch(progress=progress, refit=refit)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['people']} people, {result['candidate_pairs']} candidate pairs; "
                f"{result['queued']} pairs queued for review ({result['strong']} strong); "
                + ("model fitted again." if result["refitted"] else "stored model used.")
            )
        )
