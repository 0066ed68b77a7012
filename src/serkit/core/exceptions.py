"""One exception family for serkit.

Every error serkit raises on purpose derives from :class:`SerkitError`, so a caller
(the CLI, the service) can turn all of them into a clean message with one handler.
Messages name the file and the reason, ``"{path}: {reason}"``, and quote bad values.
"""


class SerkitError(Exception):
    """Root of every error serkit raises on purpose."""


class ParameterError(SerkitError, ValueError):
    """A parameter has an invalid value, e.g. ``hop_length=0``."""


class AudioError(SerkitError):
    """Audio that cannot be used: missing, unreadable, empty, too short, non-finite."""


class CorpusError(SerkitError):
    """A corpus root or manifest that cannot be read."""


class ArtifactError(SerkitError):
    """A saved model that is missing, altered, or incompatible with this serkit."""


class NotFittedError(SerkitError, ValueError, AttributeError):
    """An estimator used before ``fit``."""


def short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting a bad value from a file
    (a crafted field may be megabytes long).

    >>> short_repr("x" * 100, 10)
    "'xxxxxx..."
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_reason(error: Exception, limit: int = 200) -> str:
    """The first line of a library's error message (or its type), at most ``limit`` characters:
    one line for ours.

    >>> error_reason(RuntimeError("bad input\\nwith details"))
    'bad input'
    """
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]
