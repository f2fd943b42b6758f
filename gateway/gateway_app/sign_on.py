"""Single sign-on into a package's administration: "Start" in the customer area.

`POST /api/v1/packages/{id}/start` (and the page's "Start") answers a link
`<PUBLIC_BASE_URL>/packages/sso?token=<link token>`: a JWT signed with the gateway's key, but
of its own kind (`package_sign_on`) and audience (`<JWT_AUDIENCE>/package-sign-on`), so no
verifier of user tokens accepts it as a bearer token and no user token is accepted as a link.
It lives LINK_TTL_SECONDS and carries a jti, which identity records with a unique key when the
link is opened (`RedeemPackageSignOn`): the link works once across every copy of the gateway
and of identity. The browser is then signed in as after a package login. The token never
reaches a log (the access log writes paths without the query string).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast
from urllib.parse import quote

from cc_common import notices
from cc_common.errors import Conflict, Unauthenticated
from cc_common.protoconv import enum_name
from cc_common.tokens import Principal, TokenSigner, TokenVerifier, TrustedKey
from customercenter.v2 import package_pb2
from flask import current_app

from gateway_app.clients import identity
from gateway_app.security import guard
from gateway_app.use_cases import visible_package

KIND = "package_sign_on"
AUDIENCE_SUFFIX = "/package-sign-on"
LINK_TTL_SECONDS = 60
LINK_PATH = "/packages/sso"
_EXTENSION = "gateway_sign_on"
INVALID_LINK = "This link is invalid, has expired or has already been used. Please start the package again."


def audience_of(user_audience: str) -> str:
    return f"{user_audience}{AUDIENCE_SUFFIX}"


class SignOnKeys:
    """The signer and the verifier of link tokens: the gateway's key, the links' own audience."""

    def __init__(self, signer: TokenSigner) -> None:
        self.signer = TokenSigner(
            signer._key,  # noqa: SLF001 - the gateway's own key, never sent anywhere
            issuer=signer.issuer,
            audience=audience_of(signer.audience),
            ttl=LINK_TTL_SECONDS,
        )
        public_key = signer._key.public_key()  # noqa: SLF001
        self.verifier = TokenVerifier(
            [TrustedKey(public_key, self.signer.audience, frozenset({KIND}))],
            issuer=signer.issuer,
            cache_size=0,
        )


def _keys() -> SignOnKeys:
    keys = current_app.extensions.get(_EXTENSION)
    if keys is None:
        keys = current_app.extensions[_EXTENSION] = SignOnKeys(guard().signer)
    return cast(SignOnKeys, keys)


def base_url() -> str:
    """PUBLIC_BASE_URL (the default of the mailed links when unset); never the request's Host."""
    return notices.check_base_url(current_app.config.get("PUBLIC_BASE_URL") or "")


def start_link(package_id: str) -> str:
    """A link into the administration of a package the caller may see (another customer's
    package answers 404 like an unknown one; a terminated package 409)."""
    package = visible_package(package_id)
    if enum_name(package_pb2.PackageStatus, package.status) != "active":
        raise Conflict(
            f"The package {package.id} has ended and has no administration.", code="package_terminated"
        )
    token, _claims = _keys().signer.issue(kind=KIND, subject=f"package:{package.id}", package_id=package.id)
    return f"{base_url()}{LINK_PATH}?token={quote(token, safe='')}"


def redeem(token: str) -> str:
    """The package token of a valid link, issued once; any other link raises Unauthenticated."""
    link = verify_link(token)
    expires_at = datetime.fromtimestamp(link.expires_at, UTC)
    result = identity.redeem_package_sign_on(link.jti, link.package_id or "", expires_at=expires_at)
    package_id = identity.subject_name(result.subject)
    answer = guard().issue(
        kind="package", subject=result.subject, generation=result.generation, package_id=package_id
    )
    return str(answer["access_token"])


def verify_link(token: str) -> Principal:
    if not token or len(token) > 4096:
        raise Unauthenticated(INVALID_LINK, code="invalid_token")
    try:
        link = _keys().verifier.verify(token)
    except Unauthenticated:
        raise Unauthenticated(INVALID_LINK, code="invalid_token") from None
    if link.kind != KIND or not link.package_id or link.subject != f"package:{link.package_id}":
        raise Unauthenticated(INVALID_LINK, code="invalid_token")
    return link
