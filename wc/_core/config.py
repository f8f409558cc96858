"""Settings from environment variables (and CLI flags, which override them).

API keys are held as `SecretStr` so they never print in reprs, and are registered with the
redactor (`wc._core.secrets`) so that no string wc stores, prints or raises carries them.
"""
from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from wc._core import secrets
from wc._core.location import default_db_url


class Settings(BaseSettings):
    """Where wc stores knowledge and which LLM it asks."""

    model_config = SettingsConfigDict(env_prefix="WC_", extra="ignore")

    db: str = Field(default_factory=default_db_url, description="SQLAlchemy async URL of the store")
    model: str = Field(default="gpt-4o", description="chat model name")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "WC_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "WC_OPENAI_BASE_URL")
    )
    llm_timeout: float = Field(default=120.0, description="seconds per LLM request")
    llm_retries: int = Field(default=4, description="retries on rate limits, 5xx and timeouts")
    llm_concurrency: int = Field(default=8, description="requests in flight at once")
    llm_max_failures: int = Field(default=5, ge=1, description="failed requests in a row after which the LLM "
                                  "is taken to be unavailable and the run stops (resumable)")
    temperature: float = 1.0
    sandbox: str = Field(default="jail", description="jail: run LLM-written code only inside the OS jail "
                         "(bubblewrap), refusing where there is none; python: run it without the jail, held by "
                         "wc's Python layer and OS limits only (unsafe, an explicit choice)")

    def model_post_init(self, __context) -> None:
        if self.openai_api_key is not None:
            secrets.register(self.openai_api_key.get_secret_value())
