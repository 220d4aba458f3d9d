from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medialib.schemas import Strict


class ResultError(Strict):
    code: str = Field(default="network_refused", min_length=1, max_length=60)
    message: str = Field(min_length=1, max_length=2000)
    # What the network itself said, word for word.
    network_answer: str | None = Field(default=None, max_length=2000)
    retryable: bool = False


class TargetResult(Strict):
    """What a hand-off publisher reports for one target of a `post.due` event."""

    status: Literal["published", "failed"]
    remote_id: str | None = Field(default=None, min_length=1, max_length=400)
    remote_url: str | None = Field(
        default=None, min_length=1, max_length=2000, pattern=r"^https?://"
    )
    error: ResultError | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TargetResult:
        if self.status == "published" and (self.remote_id is None or self.error is not None):
            raise ValueError("a published target gives its remote_id, and no error")
        if self.status == "failed" and self.error is None:
            raise ValueError("a failed target gives its error")
        return self
