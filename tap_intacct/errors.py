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
    """The store refused or failed a request about all of it (listing, credentials, a missing
    bucket or container; S3, STS or Azure), or the event mode's queue did: the run stops at
    once. `refused`: the store or STS refused the credentials or their permissions (not a
    missing bucket, an expired SAS, an unreachable endpoint), so `--test` prints what access
    the tap needs."""

    def __init__(self, *problems: str, refused: bool = False) -> None:
        super().__init__(*problems)
        self.refused = refused


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
