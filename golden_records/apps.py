from django.apps import AppConfig


class GoldenRecordsConfig(AppConfig):
    name = "golden_records"
    verbose_name = "Golden records"

    def ready(self) -> None:
        from golden_records import history  # noqa: F401  (fills history origin on save())
