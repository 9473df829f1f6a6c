"""Domain errors raised by services; one handler turns them into pages."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The input breaks a rule; nothing was changed."""

    status = 400


class NotAllowed(DomainError):
    """The user may not do this."""

    status = 403


class NotFound(DomainError):
    """No such object, or not one the user may see (foreign ids look missing)."""

    status = 404


class Conflict(DomainError):
    """The object is in a state that forbids the change (already invoiced, issued ...)."""

    status = 409
