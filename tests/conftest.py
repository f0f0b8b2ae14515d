"""Settings for the whole suite.

Property tests draw the same examples on every run ("repeatable"), so that a run on a fresh
machine passes or fails on the code alone; ``HYPOTHESIS_PROFILE=explore`` draws new ones each
run, to look for cases the fixed draw does not reach (each one found becomes an ``@example``).
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
