"""Errors that tunedeck reports to a user as one clear line.

Each error carries the exit code the command line uses for it: 1 when a request to a model
failed, 2 when the user's input or configuration is wrong.
"""

from __future__ import annotations


class TunedeckError(Exception):
    """Base of every error tunedeck reports to the user (one line, no traceback)."""

    exit_code = 1


class ConfigError(TunedeckError):
    """The configuration file, an environment variable or a profile is wrong."""

    exit_code = 2


class BadInput(TunedeckError):
    """An argument, a file or a request parameter given by the user is invalid."""

    exit_code = 2


class BudgetExceeded(TunedeckError):
    """A paid call was refused before sending: a budget covering it is used up.

    Attributes:
        budget: name of the budget that refused the call.
        committed_usd: spent plus reserved in the budget's current period.
        limit_usd: the budget's limit.
        period: the budget's period (`day`, `week`, `month`, ...), for the hint that
            raises its limit.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        budget: str,
        committed_usd: float,
        limit_usd: float,
        period: str = "day",
    ) -> None:
        super().__init__(message)
        self.budget = budget
        self.committed_usd = committed_usd
        self.limit_usd = limit_usd
        self.period = period


class CostCeilingReached(TunedeckError):
    """A run stopped because what it spent reached the ceiling its user set (`--max-cost`):
    the pre-flight estimate guesses the answers' length, a ceiling must hold whatever they are.
    The run is interrupted, and can be resumed."""

    exit_code = 1


class EndpointUnreachable(TunedeckError):
    """A run stopped because its endpoint stopped answering: many requests in a row could not
    connect or timed out (after the SDK's retries). Going on would only wait out the timeouts
    of every case left; the run is interrupted, and can be resumed once the endpoint is up."""

    exit_code = 1


class RequestFailed(TunedeckError):
    """A call to a model endpoint failed; the call is logged with its error.

    Attributes:
        call_id: id of the logged call in the request log.
        error_type: short class name of the failure (for example `RateLimitError`).
        retries: how many retries the client made before giving up.
    """

    exit_code = 1

    def __init__(self, message: str, *, call_id: int, error_type: str, retries: int) -> None:
        super().__init__(message)
        self.call_id = call_id
        self.error_type = error_type
        self.retries = retries
