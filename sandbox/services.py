"""Writes of the sandbox network: apps, OAuth, personas and their audience, media.

Posts (statuses, replies, favourites, reblogs, scheduled posts) are in ``sandbox.services_statuses``.
The API views in ``sandbox.api`` and the consent page call these; nothing else writes (the
simulation writes interactions and counts in ``sandbox.simulation``).
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from influencers.models import InfluencerProfile
from influencers.topics import TOPICS
from linkilike.user_files import IMAGE_TYPES, image_sniff
from sandbox.errors import (
    ClientNotRecognised,
    OAuthError,
    RedirectableOAuthError,
    SandboxPersonaError,
    ValidationFailed,
)
from sandbox.models import (
    SandboxAccessToken,
    SandboxApp,
    SandboxAuthorizationCode,
    SandboxFollow,
    SandboxMedia,
    SandboxPersona,
)

# Posts have a module of their own (sandbox.services_statuses); these names stay importable from here.
from sandbox.services_statuses import CHARACTERS_RESERVED_PER_URL as CHARACTERS_RESERVED_PER_URL
from sandbox.services_statuses import MAX_CHARACTERS as MAX_CHARACTERS
from sandbox.services_statuses import MAX_MEDIA_ATTACHMENTS as MAX_MEDIA_ATTACHMENTS
from sandbox.services_statuses import StatusCreated as StatusCreated
from sandbox.services_statuses import status_create as status_create
from sandbox.services_statuses import status_delete as status_delete
from sandbox.services_statuses import status_text_length as status_text_length

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
UNSAFE_REDIRECT_SCHEMES = {"javascript", "data", "vbscript", "file"}
SCOPE_PATTERN = re.compile(r"^(read|write|follow|push|profile)(:[a-z_]+)?$")
#: The scopes an endpoint here checks (``oauth_metadata_json`` lists them); others are accepted and grant nothing.
SCOPES_SUPPORTED = (
    "read",
    "read:accounts",
    "read:statuses",
    "write",
    "write:favourites",
    "write:media",
    "write:statuses",
    "follow",
    "push",
    "profile",
)
HANDLE_PATTERN = re.compile(r"^[a-z0-9_]{1,30}$")
CODE_LIFETIME = timedelta(minutes=10)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 16_777_216  # Mastodon's image_matrix_limit, announced by the instance endpoint
MEDIA_TYPES = tuple(content_type for content_type, _extension in IMAGE_TYPES.values())


def secret_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def scope_allows(granted: Iterable[str], required: Sequence[str]) -> bool:
    """Mastodon's scope rule: ``write`` covers ``write:statuses``; any one of ``required`` suffices."""
    granted_set = set(granted)
    return any(scope in granted_set or scope.split(":", 1)[0] in granted_set for scope in required)


def _parse_scopes(raw: str, *, default: str = "read") -> list[str]:
    scopes = raw.split() if raw and raw.strip() else default.split()
    if not all(SCOPE_PATTERN.match(scope) for scope in scopes):
        raise ValidationFailed("Scopes are invalid")
    return list(dict.fromkeys(scopes))


# --- apps --------------------------------------------------------------------------------


@transaction.atomic
def app_register(*, name: str, redirect_uris: Sequence[str], scopes: str, website: str = "") -> SandboxApp:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Application name can't be blank")
    uris = [uri.strip() for uri in redirect_uris if uri and uri.strip()]
    if not uris:
        raise ValidationFailed("Redirect URI can't be blank")
    for uri in uris:
        parts = urlsplit(uri)
        if uri != OOB_REDIRECT_URI and (
            not parts.scheme or not (parts.netloc or parts.scheme not in {"http", "https"})
        ):
            raise ValidationFailed("Redirect URI must be an absolute URI.")
        if parts.fragment:
            raise ValidationFailed("Redirect URI cannot contain a fragment.")
        if parts.scheme.lower() in UNSAFE_REDIRECT_SCHEMES:
            raise ValidationFailed("Redirect URI is forbidden by the server.")
    return SandboxApp.objects.create(
        name=name[:100],
        website=(website or "").strip()[:200],
        redirect_uris=uris,
        scopes=" ".join(_parse_scopes(scopes)),
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
    )


def _client_authenticate(*, client_id: str, client_secret: str) -> SandboxApp:
    app = SandboxApp.objects.filter(client_id=client_id or "").first()
    if app is None or not secrets.compare_digest(app.client_secret, client_secret or ""):
        raise OAuthError(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, "
            "or unsupported authentication method.",
            http_status=401,
        )
    return app


# --- OAuth authorisation ------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationRequest:
    app: SandboxApp
    redirect_uri: str
    scopes: list[str]
    state: str
    code_challenge: str
    code_challenge_method: str


def authorization_request_check(
    *,
    client_id: str,
    redirect_uri: str,
    response_type: str,
    scope: str,
    state: str,
    code_challenge: str,
    code_challenge_method: str,
) -> AuthorizationRequest:
    """Validates an authorize request. Unknown client or redirect URI raise ``ClientNotRecognised``
    (the consent page shows it and never redirects); other problems raise ``OAuthError`` to be
    sent back to the (verified) redirect URI."""
    app = SandboxApp.objects.filter(client_id=client_id or "").first()
    if app is None:
        raise ClientNotRecognised("invalid_client", _("This app is not registered with the sandbox network."))
    if not redirect_uri and len(app.redirect_uris) == 1:
        redirect_uri = app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise ClientNotRecognised(
            "invalid_redirect_uri", _("The redirect address does not match the one the app registered.")
        )

    def refuse(error: str, description: str) -> RedirectableOAuthError:
        return RedirectableOAuthError(error, description, redirect_uri=redirect_uri, state=state)

    if response_type != "code":
        raise refuse("unsupported_response_type", "The authorization server does not support this response type.")
    try:
        scopes = _parse_scopes(scope, default=app.scopes)
    except ValidationFailed as exc:
        raise refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.") from exc
    if not set(scopes) <= set(app.scopes.split()):
        raise refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    if code_challenge and code_challenge_method != "S256":
        raise refuse("invalid_request", "Code challenge method must be S256.")
    if code_challenge and not re.fullmatch(r"[A-Za-z0-9_\-.~]{43,128}", code_challenge):
        raise refuse("invalid_request", "The code challenge is malformed.")
    return AuthorizationRequest(
        app=app,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256" if code_challenge else "",
    )


@transaction.atomic
def authorization_code_issue(*, request: AuthorizationRequest, persona: SandboxPersona) -> str:
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    SandboxAuthorizationCode.objects.create(
        app=request.app,
        persona=persona,
        code_digest=secret_digest(raw),
        redirect_uri=request.redirect_uri,
        scopes=" ".join(request.scopes),
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    return raw


def _pkce_s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    token: SandboxAccessToken


@transaction.atomic
def access_token_exchange(
    *,
    grant_type: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> IssuedToken:
    app = _client_authenticate(client_id=client_id, client_secret=client_secret)
    if grant_type != "authorization_code":
        raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported.")
    invalid_grant = OAuthError(
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
        "used in the authorization request, or was issued to another client.",
    )
    grant = (
        SandboxAuthorizationCode.objects.select_for_update()
        .filter(code_digest=secret_digest(code or ""), app=app)
        .first()
    )
    now = timezone.now()
    if grant is None or grant.used_at is not None or grant.expires_at <= now:
        raise invalid_grant
    if redirect_uri != grant.redirect_uri:
        raise invalid_grant
    if grant.code_challenge and not secrets.compare_digest(_pkce_s256(code_verifier or ""), grant.code_challenge):
        raise invalid_grant
    grant.used_at = now
    grant.save(update_fields=["used_at"])
    raw = secrets.token_urlsafe(32)
    token = SandboxAccessToken.objects.create(
        app=app, persona=grant.persona, token_digest=secret_digest(raw), scopes=grant.scopes, created_at=now
    )
    return IssuedToken(raw=raw, token=token)


@transaction.atomic
def access_token_revoke(*, client_id: str, client_secret: str, token: str) -> None:
    """RFC 7009: succeeds silently for unknown tokens, refuses a token of another client."""
    app = _client_authenticate(client_id=client_id, client_secret=client_secret)
    row = SandboxAccessToken.objects.filter(token_digest=secret_digest(token or "")).first()
    if row is None:
        return
    if row.app_id != app.pk:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token.", http_status=403)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])


# --- personas and their audience --------------------------------------------------------------


def _known_topics(keys: Iterable[str]) -> list[str]:
    return [key for key in dict.fromkeys(keys) if key in TOPICS]


@transaction.atomic
def persona_create(
    *,
    handle: str,
    display_name: str,
    interests: Iterable[str] = (),
    owner: User | None = None,
    note: str = "",
    activity: float = 1.0,
) -> SandboxPersona:
    handle = (handle or "").strip().lstrip("@").lower()
    if not HANDLE_PATTERN.match(handle):
        raise SandboxPersonaError(_("A handle has 1 to 30 characters: lowercase letters, digits and underscores."))
    if SandboxPersona.objects.filter(handle=handle).exists():
        raise SandboxPersonaError(_("The handle @%(handle)s is taken. Choose another one.") % {"handle": handle})
    try:
        with transaction.atomic():
            return SandboxPersona.objects.create(
                handle=handle,
                display_name=(display_name or handle)[:80],
                interests=_known_topics(interests),
                owner=owner,
                note=note,
                activity=activity,
            )
    except IntegrityError as exc:
        raise SandboxPersonaError(
            _("The handle @%(handle)s is taken. Choose another one.") % {"handle": handle}
        ) from exc


@transaction.atomic
def persona_audience_attach(*, persona: SandboxPersona, size: int, seed: int | None = None) -> int:
    """Simulated personas follow ``persona`` until it has ``size`` followers, those sharing its
    interests first. Deterministic for a seed, idempotent. Returns how many new followers it got."""
    seed = settings.SANDBOX_SEED if seed is None else seed
    rng = random.Random(f"{seed}|audience|{persona.handle}")  # noqa: S311 - simulation, not security
    interests = set(persona.interests)
    already = set(SandboxFollow.objects.filter(followee=persona).values_list("follower_id", flat=True))
    candidates = [
        candidate
        for candidate in SandboxPersona.objects.filter(owner__isnull=True).exclude(pk=persona.pk).order_by("handle")
        if candidate.pk not in already
    ]
    ranked = sorted(candidates, key=lambda c: (-len(interests & set(c.interests)), rng.random()))
    chosen = ranked[: max(0, size - len(already))]
    now = timezone.now()
    SandboxFollow.objects.bulk_create(
        [SandboxFollow(follower=follower, followee=persona, created_at=now) for follower in chosen],
        ignore_conflicts=True,
    )
    return len(chosen)


@transaction.atomic
def persona_create_for_user(*, user: User, handle: str) -> SandboxPersona:
    """A sandbox account the signed-in Linkilike user controls, created on the consent page.

    It takes its interests from the person's influencer topics, and the simulated community
    sharing them follows it, so a new account has an audience to demonstrate with."""
    profile = InfluencerProfile.objects.filter(user=user).first()
    interests = list(profile.topics.values_list("slug", flat=True)) if profile else []
    display_name = profile.display_name if profile else (user.full_name or handle)
    persona = persona_create(handle=handle, display_name=display_name, interests=interests, owner=user)
    persona_audience_attach(persona=persona, size=settings.SANDBOX_NEW_ACCOUNT_FOLLOWERS)
    return persona


def persona_suggest_handle(*, user: User) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", user.email.split("@")[0].lower())[:24].strip("_") or "me"
    handle, counter = base, 2
    while SandboxPersona.objects.filter(handle=handle).exists():
        handle = f"{base}_{counter}"
        counter += 1
    return handle


# --- media ------------------------------------------------------------------------------


@transaction.atomic
def media_upload(
    *, persona: SandboxPersona, upload: UploadedFile | None, description: str = "", now: datetime | None = None
) -> SandboxMedia:
    if upload is None:
        raise ValidationFailed("File can't be blank")
    if upload.size and upload.size > MAX_IMAGE_BYTES:
        raise ValidationFailed("File file size must be less than 10 MB")
    upload.seek(0)
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed("File file size must be less than 10 MB")
    sniffed = image_sniff(data, max_pixels=MAX_IMAGE_PIXELS)
    if sniffed is None:
        raise ValidationFailed("File content type is invalid")
    # Name and type come from the bytes: a valid GIF can also be JavaScript or HTML, and the client's
    # name (x.js, x.html) would decide how it is served.
    stored = ContentFile(data, name=f"{secrets.token_hex(16)}.{sniffed.extension}")
    now = now or timezone.now()
    return SandboxMedia.objects.create(
        persona=persona,
        file=stored,
        content_type=sniffed.content_type,
        description=(description or "")[:1500],
        width=sniffed.width,
        height=sniffed.height,
        size=len(data),
        created_at=now,
        ready_at=now + timedelta(seconds=settings.SANDBOX_MEDIA_PROCESSING_SECONDS),
    )


@transaction.atomic
def media_describe(*, media: SandboxMedia, description: str) -> SandboxMedia:
    media.description = (description or "")[:1500]
    media.save(update_fields=["description"])
    return media


# --- the simulated community --------------------------------------------------------------

FIRST_NAMES = (
    "anna", "ben", "clara", "david", "elena", "felix", "greta", "hannes", "ida", "jonas", "katrin", "lukas",
    "marie", "niko", "olga", "paul", "quirin", "rosa", "sami", "tara", "uwe", "vera", "wanda", "xaver",
    "yara", "zoe", "amir", "bianca", "chiara", "dominik", "emil", "fatima", "georg", "hana", "ivo", "julia",
    "karim", "lea", "mats", "nora",
)  # fmt: skip
LAST_NAMES = (
    "bauer", "berg", "fischer", "gruber", "hofer", "huber", "kaiser", "koch", "lang", "maier", "moser",
    "novak", "pichler", "reiter", "schmid", "steiner", "vogel", "wagner", "weber", "wolf", "winkler",
    "yilmaz", "zimmer", "horvat", "keller", "lorenz", "brandt", "seidl", "haas", "kraus",
)  # fmt: skip


def _community_handles(size: int, rng: random.Random) -> list[str]:
    combos = [f"{first}_{last}" for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(combos)
    return combos[:size]


@transaction.atomic
def community_seed(*, size: int = 200, seed: int | None = None) -> list[SandboxPersona]:
    """The simulated audience: ``size`` personas with 2-4 interests each, following each other
    (people with shared interests more likely), so reblogs travel. Idempotent and deterministic."""
    seed = settings.SANDBOX_SEED if seed is None else seed
    rng = random.Random(f"{seed}|community")  # noqa: S311 - simulation, not security
    topics = sorted(TOPICS)
    wanted = []
    for handle in _community_handles(size, rng):
        first, last = handle.split("_")
        wanted.append(
            SandboxPersona(
                handle=handle,
                display_name=f"{first.title()} {last.title()}",
                interests=rng.sample(topics, rng.randint(2, 4)),
                activity=round(rng.uniform(0.4, 1.6), 2),
            )
        )
    existing = set(
        SandboxPersona.objects.filter(handle__in=[p.handle for p in wanted]).values_list("handle", flat=True)
    )
    SandboxPersona.objects.bulk_create([p for p in wanted if p.handle not in existing], ignore_conflicts=True)
    community = list(SandboxPersona.objects.filter(handle__in=[p.handle for p in wanted]).order_by("handle"))
    new = [persona for persona in community if persona.handle not in existing]
    follows: list[SandboxFollow] = []
    for persona in new:
        mine = set(persona.interests)
        pick = random.Random(f"{seed}|follows|{persona.handle}")  # noqa: S311 - simulation, not security
        weighted = sorted(
            (other for other in community if other.pk != persona.pk),
            key=lambda other: pick.random() ** (1 / (1 + 3 * len(mine & set(other.interests)))),
            reverse=True,
        )
        follows.extend(SandboxFollow(follower=persona, followee=other) for other in weighted[: pick.randint(6, 18)])
    SandboxFollow.objects.bulk_create(follows, ignore_conflicts=True)
    return community


@transaction.atomic
def authorization_grant(
    *, request: AuthorizationRequest, user: User, persona_id: int | None, new_handle: str = ""
) -> str:
    """The consent page's "Authorize": acts as one of the user's own personas, or a new one.
    Returns the raw authorization code."""
    if persona_id is None:
        persona = persona_create_for_user(user=user, handle=new_handle)
    else:
        found = SandboxPersona.objects.filter(owner=user, pk=persona_id).first()
        if found is None:
            raise SandboxPersonaError(_("Choose one of your own sandbox accounts."))
        persona = found
    return authorization_code_issue(request=request, persona=persona)


@transaction.atomic
def access_token_issue(*, app: SandboxApp, persona: SandboxPersona, scopes: str) -> IssuedToken:
    """A token without the consent dance: for demo data, where the persona's owner is a demo user."""
    raw = secrets.token_urlsafe(32)
    token = SandboxAccessToken.objects.create(
        app=app, persona=persona, token_digest=secret_digest(raw), scopes=" ".join(_parse_scopes(scopes))
    )
    return IssuedToken(raw=raw, token=token)
