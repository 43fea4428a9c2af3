"""Exceptions of the library core."""


class InputError(ValueError):
    """A user-supplied value is invalid.

    The message names the bad value and how to fix it, in one line. Parameters are named as
    the Python API names them, in backquotes (```block_size` 0 is too small``); the CLI
    shows its flags instead (``--block-size 0 is too small``). ``in_file`` is True when the
    value came from a file (a suite TOML), whose keys are the Python names: the CLI then
    leaves the names as they are.
    """

    def __init__(self, message: str, *, in_file: bool = False) -> None:
        super().__init__(message)
        self.in_file = in_file
