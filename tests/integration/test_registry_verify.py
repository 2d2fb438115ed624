"""Ownership verification against a real HTTP server and a real DNS server on 127.0.0.1.

The DNS server is a few lines of dnspython's message API over a UDP socket: it answers
TXT queries from a dict the test fills, and NXDOMAIN for everything else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from traindex.config import Settings
from traindex.registry.errors import ClaimRejected, VerificationFailedError
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService
from traindex.signals import fetch


@dataclass
class Published:
    """What the test's 'internet' serves: files by (Host, path) and TXT records by name."""

    files: dict[tuple[str, str], str] = field(default_factory=dict)
    txt: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)


def _handler(published: Published) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            published.requests.append((host, self.path))
            body = published.files.get((host, self.path))
            self.send_response(404 if body is None else 200)
            self.end_headers()
            if body is not None:
                self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            del args

    return Handler


def _dns_server(
    published: Published, stop: threading.Event
) -> tuple[socket.socket, threading.Thread]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True)
            value = published.txt.get(name)
            if value is None or question.rdtype != dns.rdatatype.TXT:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", "TXT", f'"{value}"')
                )
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


@pytest.fixture
def internet(
    http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer],
) -> Iterator[tuple[Published, int, int]]:
    published = Published()
    http = http_server(_handler(published))
    stop = threading.Event()
    dns_sock, dns_thread = _dns_server(published, stop)
    yield published, http.server_address[1], dns_sock.getsockname()[1]
    stop.set()
    dns_thread.join()
    dns_sock.close()


@pytest.fixture
def registry(settings: Settings, internet: tuple[Published, int, int]) -> Iterator[RegistryService]:
    _, http_port, dns_port = internet
    local = Settings(
        home=settings.home,
        registry_verify_scheme="http",
        registry_verify_port=http_port,
        registry_verify_connect_host="127.0.0.1",
        registry_dns_nameserver="127.0.0.1",
        registry_dns_port=dns_port,
        registry_verify_timeout=2.0,
    )
    service = RegistryService.open(local)
    yield service
    service.close()


def test_http_proof_verifies_the_domain_and_its_claims(
    registry: RegistryService, internet: tuple[Published, int, int]
) -> None:
    published = internet[0]
    owner, _ = registry.register_owner("alice")
    claim = registry.add_claim(owner, Selector("domain", "photos.example.com"))
    below = registry.add_claim(owner, Selector("url", "https://cdn.photos.example.com/1.jpg"))
    elsewhere = registry.add_claim(owner, Selector("domain", "other.example"))
    steps = registry.verification_instructions(owner, claim.id)
    assert steps.http_url.endswith(
        f"photos.example.com:{internet[1]}/.well-known/traindex-verification.txt"
    )
    assert registry.verification_instructions(owner, claim.id).token == steps.token
    published.files[("photos.example.com", "/.well-known/traindex-verification.txt")] = (
        f"someone-else\n{steps.token}\n"
    )
    assert registry.verify(owner, claim.id).status == "verified"
    assert registry.get_claim(below.id).status == "verified"
    assert registry.get_claim(elsewhere.id).status == "unverified"
    decision = registry.check(["http://photos.example.com/x.jpg"])[0]
    assert (decision.decision, decision.verified) == ("do_not_train", True)
    # permissive terms are allowed once the domain is proved
    paid = registry.add_claim(
        owner,
        Selector("url_prefix", "https://photos.example.com/licensable/"),
        "license_required",
        contact="sales@photos.example.com",
    )
    assert paid.status == "verified"


def test_dns_proof(registry: RegistryService, internet: tuple[Published, int, int]) -> None:
    published = internet[0]
    owner, _ = registry.register_owner("bob")
    claim = registry.add_claim(owner, Selector("domain", "bob.example"))
    steps = registry.verification_instructions(owner, claim.id)
    published.txt[steps.dns_name] = steps.dns_value
    assert registry.verify(owner, claim.id).status == "verified"
    entry = registry.store.audit_entries()[0]
    assert (entry.action, entry.outcome) == ("verify", "ok")
    assert '"method": "dns"' in entry.detail


def test_wrong_or_missing_proof_is_refused_and_audited(
    registry: RegistryService, internet: tuple[Published, int, int]
) -> None:
    published = internet[0]
    owner, _ = registry.register_owner("carol")
    mallory, _ = registry.register_owner("mallory")
    claim = registry.add_claim(owner, Selector("domain", "carol.example"))
    with pytest.raises(VerificationFailedError, match="instructions first"):
        registry.verify(owner, claim.id)
    steps = registry.verification_instructions(owner, claim.id)
    published.files[("carol.example", "/.well-known/traindex-verification.txt")] = "nope\n"
    published.txt[steps.dns_name] = "traindex-verification=wrong"
    with pytest.raises(VerificationFailedError, match=r"does not list the token.*do not hold"):
        registry.verify(owner, claim.id)
    assert registry.get_claim(claim.id).status == "unverified"
    # a proof published for carol's claim does not verify mallory's claim on the same domain
    published.txt[steps.dns_name] = steps.dns_value
    stolen = registry.add_claim(mallory, Selector("domain", "carol.example"))
    registry.verification_instructions(mallory, stolen.id)
    with pytest.raises(VerificationFailedError):
        registry.verify(mallory, stolen.id)
    denied = [e for e in registry.store.audit_entries() if e.action == "verify"]
    assert [e.outcome for e in denied] == ["denied", "denied", "denied"]


def test_image_claims_have_no_web_proof(registry: RegistryService) -> None:
    owner, _ = registry.register_owner("dan")
    claim = registry.add_claim(owner, Selector("image", "ab" * 32))
    with pytest.raises(ClaimRejected, match="cannot be proved by a web page or DNS"):
        registry.verification_instructions(owner, claim.id)


def _strict(settings: Settings, http_port: int) -> Settings:
    """No connect-host override: the address policy decides where a proof is fetched (no
    DNS server answers on port 9, so only the HTTP proof can succeed)."""
    return Settings(
        home=settings.home,
        registry_verify_scheme="http",
        registry_verify_port=http_port,
        registry_dns_nameserver="127.0.0.1",
        registry_dns_port=9,
        registry_verify_timeout=0.5,
    )


def test_private_addresses_are_refused_by_default(settings: Settings) -> None:
    """An owner's domain that is (or resolves to) a private address is not fetched (SSRF)."""
    service = RegistryService.open(_strict(settings, http_port=9))
    owner, _ = service.register_owner("eve")
    claim = service.add_claim(owner, Selector("domain", "127.0.0.1"))
    service.verification_instructions(owner, claim.id)
    with pytest.raises(VerificationFailedError, match="refused: IP-literal host"):
        service.verify(owner, claim.id)
    service.close()


def test_a_domain_that_rebinds_to_loopback_is_fetched_only_where_the_policy_approved(
    settings: Settings, internet: tuple[Published, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the owner's domain answers a public address when the address policy
    asks, then loopback. The request must go to the approved address (and fail there,
    no route in a sandbox), never to this machine's server, which holds a valid token."""
    published, http_port, _ = internet
    answers: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["8.8.8.8"] if len(answers) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(fetch, "system_resolver", rebinding)
    service = RegistryService.open(_strict(settings, http_port))
    owner, _ = service.register_owner("rebinder")
    claim = service.add_claim(owner, Selector("domain", "rebind.example"))
    steps = service.verification_instructions(owner, claim.id)
    published.files[("rebind.example", "/.well-known/traindex-verification.txt")] = steps.token
    published.requests.clear()
    with pytest.raises(VerificationFailedError, match="could not be fetched"):
        service.verify(owner, claim.id)
    assert answers == ["rebind.example"]  # resolved once, by the policy
    assert published.requests == []  # nothing reached the loopback server
    service.close()
