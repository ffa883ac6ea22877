from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = "Assistance, return and reintegration"

    def ready(self) -> None:
        from assistance.demo import seed_assistance
        from assistance.selectors import assistance_panel
        from casework.demo import register_demo_extension
        from casework.panels import register_case_panel

        register_case_panel("assistance/_case_panel.html", assistance_panel, order=20)
        register_demo_extension(seed_assistance)

        from assistance.services import follow_ups_cancel
        from casework.services import register_on_close

        register_on_close(follow_ups_cancel)
