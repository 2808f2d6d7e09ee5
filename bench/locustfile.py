"""P6's users: brand members on dashboards and results, influencers on offers, shares and earnings, API clients.

Sessions and tokens come from ``bench_seed_load`` (``BENCH_P6_SEED`` names its JSON). Every answer
but a 200 counts as a failure (a redirect to the login page would mean a lost session). Requests
are named by route so the statistics give one line per endpoint.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import HttpUser, between, task

SEED: dict[str, Any] = json.loads(open(os.environ["BENCH_P6_SEED"], encoding="utf-8").read())  # noqa: SIM115
_brands = itertools.cycle(SEED["brands"])
_influencers = itertools.cycle(SEED["influencers"])
_api_brands = itertools.cycle(SEED["brands"])


class _Base(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)

    def fetch(self, path: str, name: str, **kwargs: Any) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True, **kwargs) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}: {response.error or ''}")


class BrandMember(_Base):
    weight = 3

    def on_start(self) -> None:
        brand = next(_brands)
        self.slug: str = brand["slug"]
        self.campaign_ids: list[int] = brand["campaigns"]
        self.client.cookies.set(SEED["session_cookie"], brand["session"])

    @task(3)
    def dashboard(self) -> None:
        self.fetch(f"/b/{self.slug}/", "/b/[brand]/")

    @task(2)
    def campaign_list(self) -> None:
        self.fetch(f"/b/{self.slug}/campaigns/", "/b/[brand]/campaigns/")

    @task(4)
    def campaign_results(self) -> None:
        self.fetch(f"/b/{self.slug}/campaigns/{random.choice(self.campaign_ids)}/", "/b/[brand]/campaigns/[id]/")

    @task(1)
    def funds(self) -> None:
        self.fetch(f"/b/{self.slug}/funds/", "/b/[brand]/funds/")


class Influencer(_Base):
    weight = 3

    def on_start(self) -> None:
        self.client.cookies.set(SEED["session_cookie"], next(_influencers)["session"])

    @task(2)
    def home(self) -> None:
        self.fetch("/i/", "/i/")

    @task(3)
    def offers(self) -> None:
        self.fetch("/i/offers/", "/i/offers/")

    @task(2)
    def shares(self) -> None:
        self.fetch("/i/shares/", "/i/shares/")

    @task(2)
    def earnings(self) -> None:
        self.fetch("/i/earnings/", "/i/earnings/")

    @task(1)
    def results(self) -> None:
        self.fetch("/i/results/", "/i/results/")


class ApiClient(_Base):
    weight = 2

    def on_start(self) -> None:
        brand = next(_api_brands)
        self.slug = brand["slug"]
        self.campaign_ids = brand["campaigns"]
        self.headers = {"Authorization": f"Token {brand['token']}", "Accept": "application/json"}

    @task(2)
    def campaigns_list(self) -> None:
        self.fetch(f"/api/v1/brands/{self.slug}/campaigns/", "/api/v1/brands/[brand]/campaigns/", headers=self.headers)

    @task(3)
    def campaign_results(self) -> None:
        self.fetch(
            f"/api/v1/brands/{self.slug}/campaigns/{random.choice(self.campaign_ids)}/results/",
            "/api/v1/brands/[brand]/campaigns/[id]/results/",
            headers=self.headers,
        )
