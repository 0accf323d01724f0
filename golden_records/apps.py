from django.apps import AppConfig


class GoldenRecordsConfig(AppConfig):
    name = "golden_records"
    verbose_name = "Golden records"

    def ready(self) -> None:
        from golden_records import (  # noqa: F401
            history,  # fills the history origin on save()
            lookups,  # field__any
        )
