"""The bottom layer: small helpers shared by the apps (accounts, providers, orders) and the project (panel).

It imports Django and the standard library only, never a project app or panel, so any module may import it
without making a cycle (tests/panel/test_layers.py checks this). Not a Django app: no models, no settings.
"""
