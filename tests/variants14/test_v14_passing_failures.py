"""variants14 item 1, the classification: which failures left after azure-core's retries "could not check" (tried
again) and which are lasting (not confirmed at once)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                   ResourceNotFoundError, ServiceRequestError, ServiceResponseTimeoutError)

from firestop.azure.alerts_management import unread_code
from firestop.azure.errors import CouldNotCheck, passing, unread_why
from firestop.source_reasons import Reason, could_not_check


def _http(status: int, cls=HttpResponseError):
    error = cls(message=f"HTTP {status}")
    error.status_code = status
    return error


@pytest.mark.parametrize("exc", [_http(429), _http(500), _http(502), _http(503), _http(504),
                                 ServiceRequestError("connection refused"), ServiceResponseTimeoutError("read timeout")])
def test_throttling_5xx_timeouts_and_connection_errors_could_not_check(exc):
    assert passing(exc)
    assert unread_code(exc, Reason.UNREADABLE) is Reason.TRANSIENT and could_not_check(Reason.TRANSIENT.value)
    assert isinstance(unread_why(exc, "the metric could not be read"), CouldNotCheck)


@pytest.mark.parametrize("exc, code", [(_http(404, ResourceNotFoundError), Reason.NOT_FOUND),
                                       (_http(403, ClientAuthenticationError), Reason.UNREADABLE),
                                       (_http(400), Reason.UNREADABLE), (_http(409, ResourceExistsError), Reason.UNREADABLE),
                                       (ValueError("not azure"), Reason.UNREADABLE)])
def test_lasting_failures_are_not_tried_again(exc, code):
    assert not passing(exc)
    assert unread_code(exc, Reason.UNREADABLE) is code and not could_not_check(code)
    assert type(unread_why(exc, "the metric could not be read")) is str
