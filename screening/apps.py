from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening Interview Form"

    def ready(self) -> None:
        from casework.demo import register_demo_extension
        from casework.panels import register_case_panel
        from screening.demo import seed_screenings
        from screening.selectors import screening_panel

        register_case_panel("screening/_case_panel.html", screening_panel, order=10)
        register_demo_extension(seed_screenings)
