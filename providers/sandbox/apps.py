from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "providers.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (upstream simulator)"
