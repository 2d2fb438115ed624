"""The one typed settings object.

Every service receives a ``Settings`` explicitly; nothing reads the environment on its own,
so tests can build as many independent homes as they like.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from traindex.fingerprint.base import PDQ_MATCH_RADIUS

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
    signals_c2pa_trust_anchors: Path | None = Field(
        default=None,
        description="PEM file of C2PA trust anchors; only signers chaining to one can allow",
    )

    # Download and fingerprint of row URLs (traindex.download; docs/image-search.md). The
    # fetcher is the signal checker's (same address policy, redirect and size limits).
    download_user_agent: str = Field(
        default="traindex/0.1 (fingerprints images for opt-out search; no training; "
        "robots.txt token: traindex)",
        min_length=1,
        description="User-Agent of the image downloader; its robots.txt token is 'traindex'",
    )
    download_robots_token: str = Field(default="traindex", min_length=1)
    download_concurrency: int = Field(default=32, ge=1, description="images in flight")
    download_per_host_concurrency: int = Field(default=4, ge=1)
    download_per_host_rate: float = Field(
        default=8.0, gt=0, description="requests per second per host:port at most"
    )
    download_max_bytes: int = Field(
        default=20_000_000, ge=1024, description="larger image bodies are not fingerprinted"
    )
    download_total_timeout: float = Field(default=30.0, gt=0, description="seconds per image")
    download_connect_host: str | None = Field(
        default=None,
        description="connect here instead of resolving row hosts (tests, benchmarks); an "
        "operator's choice, so the address policy allows it",
    )

    # Near-copy check of generated images (traindex.nearcopy) and CLIP similarity
    # (traindex.fingerprint.clip, traindex.search.similar); docs/nearcopy.md explains them.
    nearcopy_copy_distance: int = Field(
        default=16, ge=0, le=255, description="same-frame PDQ bits at or below which: copy"
    )
    nearcopy_near_distance: int = Field(
        default=PDQ_MATCH_RADIUS,
        ge=0,
        le=255,
        description="whole-image/region PDQ bits for near_copy",
    )
    nearcopy_tile_distance: int = Field(
        default=PDQ_MATCH_RADIUS,
        ge=0,
        le=255,
        description="PDQ bits at or below which one grid tile agrees",
    )
    nearcopy_min_tiles: int = Field(
        default=2, ge=1, le=9, description="agreeing tiles of one row for near_copy (1: similar)"
    )
    nearcopy_clip_similar: float = Field(
        default=0.9, ge=-1.0, le=1.0, description="CLIP cosine at or above which: similar"
    )
    nearcopy_watermark: float = Field(
        default=0.8, ge=0.0, le=1.0, description="LAION pwatermark flagged on a near copy"
    )
    nearcopy_max_matches: int = Field(default=10, ge=1, description="matches kept per output")
    web_nearcopy_burst: int = Field(
        default=10, ge=1, description="near-copy checks a web client may run back to back"
    )
    web_nearcopy_per_minute: float = Field(
        default=6.0, gt=0, description="near-copy checks per minute per web client after that"
    )
    clip_model_dir: Path | None = Field(
        default=None, description="user-supplied CLIP ONNX folder (clip.json); never downloaded"
    )
    clip_flat_max_rows: int = Field(
        default=2_000_000, ge=1, description="embeddings up to which CLIP search is exact (flat)"
    )

    # Image search fanned out over a Ray cluster (traindex.search.fanout; docs/cluster.md).
    search_ray_address: str | None = Field(
        default=None,
        description="Ray cluster (host:port) holding placed indexes (traindex place-index): "
        "image search in serve, search and report asks their holders there",
    )
    search_fanout_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds to wait for a holder's answer before its "
        "index shards are reported as not searched",
    )

    # Web app (traindex.server, `traindex serve`): upload limits, thumbnail safety, sessions;
    # docs/web.md explains them.
    web_max_file_bytes: int = Field(
        default=20_000_000, ge=1024, description="bytes per uploaded query image"
    )
    web_max_files: int = Field(default=100, ge=1, description="query images per upload")
    web_max_request_bytes: int = Field(
        default=200_000_000, ge=1024, description="bytes per upload request; more is refused"
    )
    web_max_pixels: int = Field(
        default=50_000_000, ge=1, description="pixels per query image, checked before decoding"
    )
    web_page_size: int = Field(default=20, ge=1, le=500, description="results per page")
    web_verify_candidates: int = Field(
        default=50, ge=1, le=1_000, description="rows one web candidate check downloads at most"
    )
    web_verify_clip_per_image: int = Field(
        default=20, ge=1, le=1_000, description="a web CLIP candidate check: K rows per image"
    )
    web_unsafe_threshold: float = Field(
        default=0.1, ge=0.0, le=1.0, description="rows with punsafe above this: no thumbnail"
    )
    web_block_hashes: Path | None = Field(
        default=None, description="file of sha256:HEX / pdq:HEX lines never shown as thumbnails"
    )
    web_block_pdq_distance: int = Field(
        default=PDQ_MATCH_RADIUS,
        ge=0,
        le=255,
        description="PDQ bits within which a block-list hash blocks",
    )
    web_thumbnail_side: int = Field(default=256, ge=32, le=1024, description="thumbnail px")
    web_secret_key: str | None = Field(
        default=None, description="signs session cookies; default: <home>/web/secret.key"
    )
    web_secure_cookies: bool = Field(default=False, description="Secure cookies (HTTPS only)")
    web_session_seconds: int = Field(default=43_200, ge=60, description="session lifetime")

    # Evidence reports (traindex.evidence): rows listed per search, inlined thumbnails.
    evidence_max_matches: int = Field(
        default=10_000, ge=1, description="matching rows listed per search in a report"
    )
    evidence_thumbnail_px: int = Field(
        default=128, ge=16, le=512, description="longest side of an inlined thumbnail"
    )
    evidence_max_thumbnails: int = Field(
        default=500, ge=0, description="thumbnails inlined per report; later rows get none"
    )
    evidence_unsafe_threshold: float = Field(
        default=0.1, ge=0.0, le=1.0, description="rows with punsafe above this: no thumbnail"
    )
    evidence_pdf_max_matches: int = Field(
        default=5_000, ge=1, description="larger reports: HTML/CSV/JSON only (PDF ~0.5 MB/row)"
    )

    # Trust and time for signed outputs (docs/evidence.md "Keys, trust and timestamps").
    trusted_keys: list[Path] = Field(
        default_factory=list,
        description="published traindex-keys.json files or 64-hex lines: keys trusted in verify",
    )
    tsa_url: str | None = Field(
        default=None, description="RFC 3161 timestamp authority; None: the machine's clock"
    )
    tsa_certificates: list[Path] = Field(
        default_factory=list, description="PEM certificates of the timestamp authorities trusted"
    )
    pdf_certificate: Path | None = Field(
        default=None, description="PEM certificate signing PDFs (default: self-signed, per key)"
    )
    pdf_private_key: Path | None = Field(
        default=None, description="PEM private key of pdf_certificate (unencrypted)"
    )

    # Opt-out registry (traindex.registry). registry_url None = SQLite in home/registry.
    registry_url: str | None = Field(default=None, description="SQLAlchemy URL of the registry")
    registry_token_ttl_days: float = Field(default=365.0, gt=0, description="API token lifetime")
    registry_verification_ttl_hours: float = Field(default=72.0, gt=0)
    registry_verify_scheme: str = Field(default="https", pattern="^https?$")
    registry_verify_port: int | None = Field(default=None, ge=1, le=65535)
    registry_verify_connect_host: str | None = Field(
        default=None, description="connect here instead of resolving the domain (tests)"
    )
    registry_verify_timeout: float = Field(default=10.0, gt=0)
    registry_proof_max_bytes: int = Field(
        default=2_000_000, ge=1024, description="bytes of a proof page (profile) read"
    )
    registry_dns_nameserver: str | None = Field(default=None, description="None: system resolver")
    registry_dns_port: int = Field(default=53, ge=1, le=65535)
    registry_check_max_items: int = Field(default=10_000, ge=1)
    registry_sync_seconds: float = Field(
        default=2.0, ge=0, description="how often checks pick up claims written elsewhere"
    )
    registry_rate_per_second: float = Field(default=50.0, gt=0, description="per token/client")
    registry_rate_burst: int = Field(default=200, ge=1)
    registry_max_body_bytes: int = Field(default=2_000_000, ge=1024)
    registry_hash_memory_mb: int = Field(
        default=192, ge=64, description="memory for concurrent argon2 hashing (64 MiB each)"
    )
    registry_registrations_per_hour: float = Field(
        default=20.0, gt=0, description="owner registrations per client address"
    )
    registry_registration_burst: int = Field(default=5, ge=1)
    registry_audit_window_seconds: float = Field(
        default=300.0, gt=0, description="anonymous refusals: one audit row per client/window"
    )
    # Expensive anonymous endpoints (image search, signal checks, evidence): per client
    api_expensive_rate_per_minute: float = Field(default=30.0, gt=0)
    api_expensive_burst: int = Field(default=10, ge=1)

    # Face search (traindex.search.faces, issue 8). Off on a server until the operator
    # turns it on; the CLI is the user's own machine and is not gated.
    face_search_enabled: bool = Field(
        default=False, description="allow face search in `traindex serve` (off by default)"
    )
    face_search_rate_limit: int = Field(
        default=10, ge=1, description="face searches allowed per client per window"
    )
    face_search_rate_window: float = Field(
        default=3600.0, gt=0, description="seconds of the per-client face-search window"
    )
    face_search_max_bytes: int = Field(
        default=20_000_000, ge=1024, description="largest query photo accepted, in bytes"
    )

    # Watchlist notifications (traindex.watch; docs/watch.md). Links in e-mails and webhook
    # bodies point at the web app under watch_base_url.
    watch_base_url: str = Field(
        default="http://127.0.0.1:8000", description="the web app's address, for alert links"
    )
    watch_smtp_host: str | None = Field(default=None, description="SMTP server; None: no mail")
    watch_smtp_port: int = Field(default=25, ge=1, le=65535)
    watch_smtp_starttls: bool = Field(default=False, description="STARTTLS before sending")
    watch_smtp_user: str | None = Field(default=None, description="SMTP login, if required")
    watch_smtp_password: str | None = Field(default=None)
    watch_mail_from: str = Field(default="traindex@localhost", description="From: of alerts")
    watch_webhook_timeout: float = Field(default=10.0, gt=0, description="seconds per POST")

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"
