"""The public REST gateway: the only entry point that is exposed to participants and the world."""
