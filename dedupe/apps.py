from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "dedupe"
    verbose_name = "Deduplication"

    def ready(self) -> None:
        from casework.panels import register_case_panel
        from casework.services import register_on_person_saved
        from dedupe.selectors import dedupe_panel
        from dedupe.services import person_match

        register_on_person_saved(person_match)
        register_case_panel("dedupe/_case_panel.html", dedupe_panel, order=5)
