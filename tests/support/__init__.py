"""Test-only helpers (not part of the helios package): `support.integration` is the one module
the integration suite and the container tier import them from."""
