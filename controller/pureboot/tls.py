"""TLS material for `pureboot serve`: a given certificate/key, or a self-signed pair kept in data_dir."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(n for n in names if n):  # dedupe, keep order
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _host_names(listen: str) -> list[str]:
    bind = listen.rsplit(":", 1)[0].strip("[]")
    # A wildcard bind says nothing about how clients reach us; the host name does.
    extra = [] if bind in ("", "0.0.0.0", "::") else [bind]
    return ["localhost", "127.0.0.1", "::1", socket.gethostname(), *extra]


def self_signed(data_dir: str, listen: str) -> tuple[str, str]:
    """Return (cert, key) paths under data_dir/tls, generating them on first use."""
    directory = Path(data_dir) / "tls"
    cert, key = directory / "self-signed.crt", directory / "self-signed.key"
    if cert.exists() and key.exists():
        return str(cert), str(key)
    directory.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname() or "pureboot")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(_san(_host_names(listen)), critical=False)
        # CA:TRUE so the certificate itself works as the client's CA bundle (curl --cacert).
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    # Key first, created 0600 (never world-readable, even briefly).
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a key left over from an interrupted first start keeps its old mode otherwise
    with os.fdopen(fd, "wb") as handle:
        handle.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(cert), str(key)


def material(tls_cert: str, tls_key: str, tls_self_signed: bool, data_dir: str,
             listen: str) -> tuple[str, str] | None:
    """(cert, key) to serve HTTPS with, or None for plain HTTP."""
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            raise ValueError("tls_cert and tls_key go together")
        return tls_cert, tls_key
    return self_signed(data_dir, listen) if tls_self_signed else None
