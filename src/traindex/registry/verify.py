"""Ownership proof for a domain: a token served over HTTP, or published as a DNS TXT record.

HTTP: ``GET {scheme}://DOMAIN/.well-known/traindex-verification.txt`` must return 2xx with a
line equal to the token (several owners may list their tokens, one per line). DNS: a TXT
record at ``_traindex-verification.DOMAIN`` equal to ``traindex-verification=<token>``.
Scheme, port, the address to connect to (like ``curl --resolve``) and the DNS server are
settings, so tests run both proofs against real servers on 127.0.0.1. Bodies are read up
to 64 KiB; redirects are not followed (the proof must come from the domain itself).

The HTTP proof goes through the signal checker's ``Fetcher``: the owner names the domain,
so the address policy applies, and the connection goes to the very address the policy
approved (a DNS answer that changes between the check and the connect, rebinding, cannot
point the request into the operator's network).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.exception
import dns.resolver

from traindex.config import Settings
from traindex.signals.fetch import Fetcher
from traindex.signals.fetched import FailureKind, FetchResult

__all__ = ["DNS_PREFIX", "WELL_KNOWN", "ProofResult", "Verifier", "proof_fetcher"]

WELL_KNOWN = "/.well-known/traindex-verification.txt"
DNS_PREFIX = "_traindex-verification."
_MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProofResult:
    """``method`` is ``http`` or ``dns`` when proved, else None; ``detail`` says what was seen."""

    method: str | None
    detail: str


class Verifier:
    """Checks both proofs for a domain; never raises for network trouble (it is the detail)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def prove(self, domain: str, token: str) -> ProofResult:
        http_detail = self._http(domain, token)
        if http_detail is None:
            return ProofResult("http", f"token found at {self.http_url(domain)}")
        dns_detail = self._dns(domain, token)
        if dns_detail is None:
            return ProofResult("dns", f"TXT record found at {DNS_PREFIX}{domain}")
        return ProofResult(None, f"HTTP: {http_detail}; DNS: {dns_detail}")

    def http_url(self, domain: str) -> str:
        """Where the owner must serve the token (with the configured scheme and port)."""
        port = self.settings.registry_verify_port
        authority = f"{domain}:{port}" if port else domain
        return f"{self.settings.registry_verify_scheme}://{authority}{WELL_KNOWN}"

    def _http(self, domain: str, token: str) -> str | None:
        url = self.http_url(domain)
        fetched = asyncio.run(self._fetch(url))
        if fetched.failure is FailureKind.REFUSED:
            return f"{url} refused: {fetched.error}"
        if fetched.error is not None:
            return f"{url} could not be fetched ({fetched.error})"
        if fetched.status is None or not 200 <= fetched.status < 300:
            return f"{url} answered HTTP {fetched.status}"
        lines = {line.strip() for line in fetched.body.decode("utf-8", "replace").splitlines()}
        if token in lines or f"traindex-verification={token}" in lines:
            return None
        return f"{url} does not list the token"

    async def _fetch(self, url: str) -> FetchResult:
        wait = self.settings.registry_verify_timeout
        timeouts = {
            "signals_connect_timeout": wait,
            "signals_read_timeout": wait,
            "signals_total_timeout": wait,
        }
        async with proof_fetcher(self.settings.model_copy(update=timeouts)) as fetcher:
            return await fetcher.fetch(url, _MAX_BODY, follow_redirects=False)

    def _dns(self, domain: str, token: str) -> str | None:
        name = DNS_PREFIX + domain
        resolver = dns.resolver.Resolver(configure=self.settings.registry_dns_nameserver is None)
        if self.settings.registry_dns_nameserver is not None:
            resolver.nameservers = [self.settings.registry_dns_nameserver]
            resolver.port = self.settings.registry_dns_port
        try:
            answer = resolver.resolve(
                name, "TXT", lifetime=self.settings.registry_verify_timeout, search=False
            )
        except (dns.exception.DNSException, OSError) as exc:
            return f"no TXT record at {name} ({type(exc).__name__})"
        wanted = f"traindex-verification={token}".encode()
        for record in answer:
            if b"".join(record.strings).strip() == wanted:
                return None
        return f"TXT records at {name} do not hold the token"


def proof_fetcher(settings: Settings) -> Fetcher:
    """The fetcher of ownership proofs. With ``registry_verify_connect_host`` (the
    operator's override, like ``curl --resolve``; tests) every host is reached at that
    address, which the operator chose, so loopback is allowed for it; otherwise the
    signal checker's address policy decides."""
    connect = settings.registry_verify_connect_host
    if not connect:
        return Fetcher(settings)

    async def resolver(host: str, port: int) -> list[str]:
        del host, port
        return [connect]

    return Fetcher(settings.model_copy(update={"signals_allow_loopback": True}), resolver=resolver)
