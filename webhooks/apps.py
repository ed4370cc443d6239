from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from audit.services import subscribe
        from webhooks.services import on_event

        subscribe(on_event, in_transaction=True)
