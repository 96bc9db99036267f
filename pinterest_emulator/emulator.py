"""The Emulator object: start/stop a server thread and reach the admin API from Python."""

import threading

from . import admin
from .server import EmulatorServer
from .state import Settings, State
from .truth import (
    analytics_rows,
    pin_analytics,
    report_truth_rows,
    report_truth_summary,
    top_pins,
    user_account_analytics,
)


class Emulator:
    """A Pinterest API v5 emulator on 127.0.0.1; `start()` returns the base url ending in /v5."""

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        latency_ms: int = 0,
        rate_limits: str = "off",
        faults: str = "",
        rotate_refresh_tokens: bool = False,
        token_ttl: int = 3600,
        today: str | None = None,
        report_polls: int = 2,
        port: int = 0,
        **extra,
    ):
        settings = Settings(
            seed=seed,
            size=size,
            latency_ms=latency_ms,
            rate_limits=rate_limits,
            faults=faults,
            rotate_refresh_tokens=rotate_refresh_tokens,
            token_ttl=token_ttl,
            today=today,
            report_polls=report_polls,
            **extra,
        )
        self.state = State(settings)
        self.port = port
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def root_url(self) -> str:
        return self.state.root_url

    def bind(self) -> str:
        """Open the listening socket (port 0 picks a free one) without serving yet."""
        self._server = EmulatorServer(("127.0.0.1", self.port), self.state)
        port = self._server.server_address[1]
        self.state.root_url = f"http://127.0.0.1:{port}"
        self.state.base_url = self.state.root_url + "/v5"
        return self.state.base_url

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> str:
        base_url = self.bind()
        self._thread = threading.Thread(target=self.serve_forever, name="pinterest-emulator", daemon=True)
        self._thread.start()
        return base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.state.close()

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- admin API, same results as the /_emulator endpoints ----------------------------------------------------

    def truth(self, stream: str, **params):
        """Records of a stream ({"records"} like GET /_emulator/truth), or analytics/report/user_account_analytics
        rows when stream is one of those names and params carry level/start_date/end_date/granularity;
        "report_summary" counts a report's rows and sums its integer columns without building them."""
        if stream == "analytics":
            return {"rows": analytics_rows(self.state, params)}
        if stream == "report":
            return {"rows": report_truth_rows(self.state, params)}
        if stream == "report_summary":
            return report_truth_summary(self.state, params)
        if stream == "user_account_analytics":
            return user_account_analytics(self.state, params)
        if stream == "pin_analytics":
            return pin_analytics(self.state, params)
        if stream in ("user_account_top_pins", "user_account_top_video_pins"):
            return top_pins(self.state, {**params, "video": stream == "user_account_top_video_pins"})
        statuses = params.get("statuses")
        if isinstance(statuses, (list, tuple)):
            statuses = ",".join(statuses)
        return admin.truth(self.state, {"stream": stream, "statuses": statuses or ""})

    def stats(self) -> dict:
        return self.state.stats.snapshot()

    def reset_stats(self) -> None:
        self.state.stats.reset()

    def mutate(self, seed: int | None = None) -> dict:
        return admin.POST["/_emulator/mutate"](self.state, {"seed": seed})

    def configure(self, **changes) -> dict:
        return admin.configure(self.state, changes)
