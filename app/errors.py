"""Application errors, by what the API caller can do about them.

    AppError (status_code, message)          one exception handler renders every one as JSON
    ├── NotFoundError          404  the thing asked for does not exist
    ├── BadRequestError        400  a parameter is well-formed but unusable (bad cursor, from > to)
    ├── UnauthorizedError      401  no API key, or one that is unknown or revoked
    ├── ForbiddenError         403  the key lacks the scope this route needs
    ├── ConflictError          409  the request clashes with current state (a sync already running)
    ├── PayloadTooLargeError   413  the body is bigger than the endpoint takes: send less at once
    ├── UnprocessableError     422  the body is JSON but not of the expected shape
    └── StoreUnavailableError  503  the database cannot take writes now (down, read-only, full)

Connector and journey errors are translated into these at the service boundary,
so no exception from a lower layer ever reaches a client as a 500.
"""

from __future__ import annotations


class AppError(Exception):
    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(AppError):
    status_code = 404


class BadRequestError(AppError):
    status_code = 400


class UnauthorizedError(AppError):
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="listening-path"'}


class ForbiddenError(AppError):
    status_code = 403


class ConflictError(AppError):
    status_code = 409


class PayloadTooLargeError(AppError):
    status_code = 413


class UnprocessableError(AppError):
    status_code = 422


class StoreUnavailableError(AppError):
    status_code = 503
    headers = {"Retry-After": "30"}


class ServiceBusyError(AppError):
    status_code = 503
    headers = {"Retry-After": "2"}
