"""Suites: a list of registered checks with their parameters, run in one go, replayable.

:mod:`~gumbelcheck.suite.spec` parses the TOML, :mod:`~gumbelcheck.suite.run` validates every
check and then runs them with Holm's correction across them, and
:mod:`~gumbelcheck.suite.replay` reruns a results folder and compares it byte for byte.
"""
