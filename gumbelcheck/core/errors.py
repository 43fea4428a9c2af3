"""Exceptions of the library core."""


class InputError(ValueError):
    """A user-supplied value is invalid.

    The message names the bad value and how to fix it, in one line, so that the CLI can
    print it as it is and exit with status 2.
    """
