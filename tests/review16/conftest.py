"""The Azurite fixture of tests/runbooks (R16-07 plants on both stores, as tests/runbooks/test_planted_names.py)."""

from tests.runbooks.conftest import azurite_blob_endpoint  # noqa: F401
