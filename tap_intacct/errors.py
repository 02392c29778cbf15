"""The tap's exception hierarchy: every failure a user can cause or fix is a TapError.

The CLI prints a TapError as plain lines on stderr and exits non-zero; anything else is a bug
and keeps its traceback.
"""


class TapError(Exception):
    """A failure with a message meant for the person running the tap."""

    exit_code = 1

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class ConfigError(TapError):
    """The config file, catalog or state given on the command line is unusable."""

    exit_code = 2


class StorageError(TapError):
    """S3 refused or failed a request about the whole bucket (listing, credentials, a missing
    bucket): the run stops at once."""

    access_denied = False  # refused for lack of permission (--test then shows the policy)


class DataError(TapError):
    """A file's content cannot be read as a DDS CSV export."""


class ObjectError(DataError):
    """One object cannot be fetched (refused, archived, or still failing after every retry).
    Like bad content, it stops only the stream the file belongs to."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


class FileGone(Exception):
    """The object changed between listing and reading; the caller skips it."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}")
        self.key = key
        self.why = why
