"""The one exception endpoints raise; the server turns it into Pinterest's {code, message}."""


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}


def bad_param(message: str) -> ApiError:
    """400 with code 1, Pinterest's "invalid parameter" code."""
    return ApiError(400, 1, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, 404, message)


def unauthorized(message: str = "Authentication failed.") -> ApiError:
    return ApiError(401, 2, message)
