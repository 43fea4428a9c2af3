"""Every writer of results: JSON, CSV, JUnit XML, the suite manifest, figures.

Writers read a result's typed :class:`~gumbelcheck.core.result.Summary` and its tables; none
computes a statistic. Files are written atomically: a temporary file beside the target,
renamed into place.
"""
