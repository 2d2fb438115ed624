"""The one typed settings object.

Every service receives a ``Settings`` explicitly (see ``bootstrap``); nothing reads the
environment on its own, so tests can build as many independent homes as they like.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_home() -> Path:
    return platformdirs.user_data_path("traindex", appauthor=False)


class Settings(BaseSettings):
    """Where traindex keeps its catalog and how it behaves.

    Values come from keyword arguments, then ``TRAINDEX_*`` environment variables,
    then the defaults below.
    """

    model_config = SettingsConfigDict(env_prefix="TRAINDEX_", frozen=True)

    home: Path = Field(default_factory=_default_home)
    shard_rows: int = Field(default=1_000_000, ge=1, description="rows per catalog shard")
    batch_rows: int = Field(default=65_536, ge=1, description="rows per streamed batch")
    row_group_rows: int = Field(
        default=2_048,
        ge=1,
        description="Parquet row-group size: fetching a row decodes its group (see benchmarks)",
    )
    max_url_chars: int = Field(default=8_192, ge=64, description="longer URLs are rejected")
    index_heap_bytes: int = Field(default=128_000_000, ge=15_000_000)

    # Opt-out signal fetcher (traindex.signals.fetch). Defaults follow RFC 9309 where it
    # speaks: parse at least 500 KiB of robots.txt, follow 5 redirects, cache at most 24 h.
    signals_user_agent: str = Field(
        default="traindex-signals/0.1 (checks AI-training opt-out signals; no training)",
        min_length=1,
        description="User-Agent sent by the signal fetcher",
    )
    signals_connect_timeout: float = Field(default=5.0, gt=0, description="seconds to connect")
    signals_read_timeout: float = Field(
        default=10.0, gt=0, description="seconds without a byte before a read fails"
    )
    signals_total_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds for one request incl. its body (slow-loris); per redirect hop",
    )
    signals_max_body_bytes: int = Field(
        default=20_000_000, ge=1024, description="bytes read of a checked resource; rest cut"
    )
    signals_max_site_file_bytes: int = Field(
        default=512 * 1024, ge=1024, description="bytes read of robots.txt/ai.txt/tdmrep.json"
    )
    signals_max_redirects: int = Field(default=5, ge=0, le=20)
    signals_concurrency: int = Field(default=64, ge=1, description="requests in flight overall")
    signals_per_host_concurrency: int = Field(
        default=4, ge=1, description="requests in flight per host:port"
    )
    signals_keepalive_connections: int = Field(
        default=256, ge=0, description="idle connections kept for reuse (bulk: many hosts)"
    )
    signals_cache_ttl: float = Field(
        default=86_400.0, ge=0, description="site-file TTL without cache headers; also the cap"
    )
    signals_error_ttl: float = Field(
        default=300.0, ge=0, description="TTL of a failed site-file fetch (5xx, timeout)"
    )
    signals_refuse_private_addresses: bool = Field(
        default=True,
        description="refuse IP-literal URLs and hosts resolving to non-global addresses",
    )
    signals_allow_loopback: bool = Field(
        default=False, description="allow 127.0.0.0/8 and ::1 even when refusing private ones"
    )

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"
