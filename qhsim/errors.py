"""User-facing input errors: one clear line, exit code 2, no traceback (see ``qhsim.cli``)."""


class InputError(Exception):
    """Bad user input: a malformed scenario, an out-of-range value, a missing file.

    The message is a single line that names the file, the key path and the allowed range.
    """

    exit_code = 2


def warn(message: str) -> None:
    """A one-line warning on stderr (``qhsim: warning: ...``): input that is accepted but probably not meant."""
    import sys

    print(f"qhsim: warning: {message}", file=sys.stderr, flush=True)
