"""The shipped controls, one module per checklist area; importing this package registers them all."""

from firestop.audit.controls import api, encryption, environments, identity, monitoring, network, secrets  # noqa: F401
