from django.apps import AppConfig


class InfinitePayConfig(AppConfig):
    name = "infinitepay"
    verbose_name = "InfinitePay"

    def ready(self) -> None:
        from integrations import registry

        from .integration_type import InfinitePayType

        registry.register(InfinitePayType())
