"""The kept instrumentation's tests in OneFlow's environment, whose atheris (2.3) reserves counters
through a name of its own module."""

from test_instrumentation import *  # noqa: F403  (the same tests, collected here too)
