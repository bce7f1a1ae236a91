"""The one exception tree of sdgen. The CLI turns each into a message and an exit code.

    SdgenError                      exit 2 unless said otherwise
    ├── ConfigError                 bad sdgen.toml, environment or option value
    ├── PersonaError                unknown persona, broken spec or template
    ├── TopicIndexError             unreadable index, a line that is not a topic
    ├── NoteError                   a note that cannot be read or validated
    │   ├── SectionNotFoundError    regen: no section of the note matches the name given
    │   └── NoteChangedError        the note changed on disk while the model answered (exit 1);
    │                               the new answer is kept as a draft
    ├── OutputError                 the output folder cannot be written
    │   └── ReadOnlyFileError       a file sdgen would replace is read-only: left as it is
    ├── SiteError                   sdgen site: no mkdocs-material, no notes, or a build failure
    ├── DiagramCheckUnavailableError  Mermaid's parser cannot start (--no-diagram-check goes without)
    ├── AnswerRejectedError         no valid answer within the answers allowed, or the model
    │                               declined (exit 1); carries the last answer as a draft
    ├── RunStoppedError             the run stopped (a rejected key) before this topic's call
    ├── SpendingCapReached          the next request could cross --max-cost (exit 3)
    └── ProviderError               the LLM provider failed
        ├── UnknownProviderError
        ├── MissingKeyError         no API key where one is needed
        ├── AuthenticationError     the key was rejected (401/403)
        └── ProviderCallError       the call failed after retries (exit 1: the run goes on)
            └── ReplayMissError     strict replay: no recording for this request
"""

from __future__ import annotations


class SdgenError(Exception):
    """Root of every error sdgen raises on purpose."""

    exit_code = 2


class ConfigError(SdgenError):
    pass


class PersonaError(SdgenError):
    pass


class TopicIndexError(SdgenError):
    pass


class NoteError(SdgenError):
    pass


class SectionNotFoundError(NoteError):
    """The section asked for is not one of the note's (the message lists the note's sections)."""


class NoteChangedError(NoteError):
    """Someone changed the note while the model was answering: it is kept as they left it, and
    the new answer is kept as a draft (the message says where)."""

    exit_code = 1


class OutputError(SdgenError):
    pass


class SiteError(SdgenError):
    """The static site cannot be built."""


class DiagramCheckUnavailableError(SdgenError):
    """The diagram parser cannot start (a broken install); --no-diagram-check goes without."""


class AnswerRejectedError(SdgenError):
    """No answer would do; ``draft`` holds the last one, with its report, to keep as a draft."""

    exit_code = 1

    def __init__(self, message: str, draft: object) -> None:
        super().__init__(message)
        self.draft = draft  # the sdgen.notes.NoteDraft (errors import nothing of sdgen's)


class RunStoppedError(SdgenError):
    pass


class SpendingCapReached(SdgenError):
    """The next request could cross the spending cap: the run starts no new request (exit 3)."""

    exit_code = 3


class ProviderError(SdgenError):
    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class UnknownProviderError(ProviderError):
    pass


class MissingKeyError(ProviderError):
    pass


class AuthenticationError(ProviderError):
    pass


class ProviderCallError(ProviderError):
    exit_code = 1


class ReplayMissError(ProviderCallError):
    """A request with no recording (strict replay): the prompt or parameters changed."""


class ReadOnlyFileError(OutputError):
    """A file sdgen would rewrite is read-only: its owner's choice, so it is left as it is."""
