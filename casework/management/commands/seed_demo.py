from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from casework import demo


class Command(BaseCommand):
    help = "Create demo missions, accounts for every role and a deterministic caseload."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases", type=int, default=2000, help="number of cases (default 2000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if demo data is already present"
        )

    def handle(self, *args, cases: int, seed: int, if_empty: bool, **options):
        if cases < 0:
            raise CommandError("--cases must be zero or more.")
        if demo.demo_present() and cases:
            if if_empty:
                self.stdout.write("Demo data already present; nothing added.")
                self._print_logins(demo.create_staff())
                return
            raise CommandError("Demo data is already present; use a fresh database.")
        logins = demo.create_staff()
        with tqdm(total=cases, unit="case", disable=cases == 0) as bar:
            result = demo.seed(
                cases=cases, seed_value=seed, progress=lambda n: bar.update(n - bar.n)
            )
        demo.record_seeding(result)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.cases} cases of {result.people} person records "
                f"({result.registered_twice} people registered twice by two missions, "
                f"{result.re_trafficked} re-trafficked)."
            )
        )
        self._print_logins(logins)

    def _print_logins(self, logins: dict[str, list[str]]) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD})")
        for role, usernames in logins.items():
            self.stdout.write(f"  {role:<24} {', '.join(usernames)}")
