"""A registry of two cheap policies (zero and random) for tests that need many or long episodes fast."""

LIGHT_MODELS = """
[[model]]
name = "still"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.0

[[model]]
name = "jitter"
kind = "random"
organisation = "test"
licence = "MIT"
latency_s = 0.0
"""
