"""Downstream protocol endpoints: VirtuSIM, SMM v2, Osimesa and RajaSMS served to resellers (docs/api.md)."""
