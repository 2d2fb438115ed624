"""Ownership proof for a domain: a token served over HTTP, or published as a DNS TXT record.

HTTP: ``GET {scheme}://DOMAIN/.well-known/traindex-verification.txt`` must return 2xx with a
line equal to the token (several owners may list their tokens, one per line). DNS: a TXT
record at ``_traindex-verification.DOMAIN`` equal to ``traindex-verification=<token>``.
Scheme, port, the address to connect to (like ``curl --resolve``) and the DNS server are
settings, so tests run both proofs against real servers on 127.0.0.1. Bodies are read up
to 64 KiB; redirects are not followed (the proof must come from the domain itself).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.exception
import dns.resolver
import httpx

from traindex.config import Settings
from traindex.signals.policy import AddressPolicy, UrlRefusedError

__all__ = ["DNS_PREFIX", "WELL_KNOWN", "ProofResult", "Verifier"]

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
        target, headers = url, {}
        connect = self.settings.registry_verify_connect_host
        if connect:
            target = url.replace(f"://{domain}", f"://{connect}", 1)
            headers["Host"] = domain
        # A configured connect host is the operator's choice; the owner's domain is not.
        refused = None if connect else self._refused(target)
        if refused is not None:
            return f"{url} refused: {refused}"
        try:
            with (
                httpx.Client(timeout=self.settings.registry_verify_timeout) as client,
                client.stream("GET", target, headers=headers) as response,
            ):
                if not 200 <= response.status_code < 300:
                    return f"{url} answered HTTP {response.status_code}"
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= _MAX_BODY:
                        break
        except httpx.HTTPError as exc:
            return f"{url} could not be fetched ({type(exc).__name__}: {exc})"
        lines = {line.strip() for line in body[:_MAX_BODY].decode("utf-8", "replace").splitlines()}
        if token in lines or f"traindex-verification={token}" in lines:
            return None
        return f"{url} does not list the token"

    def _refused(self, target: str) -> str | None:
        """The signal fetcher's address policy: owners name the domain, so without it a
        verification request could reach the operator's own network (SSRF)."""
        policy = AddressPolicy(
            refuse_private=self.settings.signals_refuse_private_addresses,
            allow_loopback=self.settings.signals_allow_loopback,
        )
        try:
            asyncio.run(policy.check(target))
        except UrlRefusedError as exc:
            return str(exc)
        return None

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
