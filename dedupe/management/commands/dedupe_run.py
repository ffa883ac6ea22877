from django.core.management.base import BaseCommand
from tqdm import tqdm

from dedupe import services


class Command(BaseCommand):
    help = "Fit the matching model on the whole caseload and refresh the review queue."

    def handle(self, *args, **options):
        bar = tqdm(unit="person", desc="reading people")

        def progress(stage, done, total):
            bar.total = total
            bar.update(done - bar.n)

        result = services.run_batch(progress=progress)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['people']} people, {result['candidate_pairs']} candidate pairs; "
                f"{result['queued']} pairs queued for review ({result['strong']} strong)."
            )
        )
