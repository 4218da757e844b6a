"""The console's in-process tests use the trust suite's API harness on a handled (contained) incident."""

from tests.trust.conftest import Api, api, handled_home  # noqa: F401 — fixtures re-exported for tests/console
