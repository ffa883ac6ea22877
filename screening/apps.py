from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening Interview Form"

    def ready(self) -> None:
        from casework.panels import register_case_panel
        from screening.selectors import screening_panel

        register_case_panel("screening/_case_panel.html", screening_panel, order=10)
