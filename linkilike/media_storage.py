"""Uploads on an S3-compatible object store (``STORAGES["default"]`` when ``LINKILIKE_MEDIA_S3_BUCKET`` is set).

The bucket is private: objects are written without an ACL, and nothing in it is readable without a
signature. Pages and networks get time-limited presigned URLs (query-string authentication) that ask
the service to answer with the type and Content-Disposition we chose from the name we gave the file
(``linkilike.user_files.user_file_served_as``), never one guessed from the bytes or a client's name;
the same type and disposition are also stored on the object. S3 has no query parameter for
``X-Content-Type-Options`` or ``Content-Security-Policy``: docs/SECURITY.md says why that matters less
on the bucket's own origin.

The app may reach the service at an address browsers and networks cannot (``http://minio:9000``
inside docker compose): URLs are signed for ``public_endpoint_url`` (``LINKILIKE_MEDIA_S3_PUBLIC_URL``),
because a SigV4 signature covers the host it is presented to.
"""

from __future__ import annotations

from typing import Any

from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from linkilike.user_files import user_file_served_as


class MediaS3Storage(S3Storage):
    """django-storages' S3 backend with our response headers and URLs signed for the public address."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._public_client: Any = None

    def get_default_settings(self) -> dict[str, Any]:
        return {**super().get_default_settings(), "public_endpoint_url": None}

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_public_client", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._public_client = None

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        served = user_file_served_as(name)
        params["ContentType"] = served.content_type
        params["ContentDisposition"] = served.disposition
        return params

    def _signing_client(self) -> Any:
        """The client whose endpoint is the one people reach (signing makes no request)."""
        if not self.public_endpoint_url or self.public_endpoint_url == self.endpoint_url:
            return self.connection.meta.client
        if self._public_client is None:
            self._public_client = self._create_session().client(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.public_endpoint_url,
                config=self.client_config,
                verify=self.verify,
            )
        return self._public_client

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """A presigned GET valid for ``expire`` seconds (default ``querystring_expire``), answered with our
        type and disposition whatever metadata the object carries."""
        served = user_file_served_as(name)
        params = {
            "ResponseContentType": served.content_type,
            "ResponseContentDisposition": served.disposition,
            **(parameters or {}),
            "Bucket": self.bucket_name,
            "Key": self._normalize_name(clean_name(name)),
        }
        return str(
            self._signing_client().generate_presigned_url(
                "get_object",
                Params=params,
                ExpiresIn=self.querystring_expire if expire is None else expire,
                HttpMethod=http_method,
            )
        )
