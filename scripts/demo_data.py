"""Demo data for a running stack (`make demo` after `make run`), through the services' HTTP
APIs only, so every event flows as in real use: a studio in Berlin with two rooms and two
trainers, a week of classes, credit products, a membership plan, a dozen customers with
notes and tags, packages, a membership and bookings paid by credits.

    uv run python scripts/demo_data.py [--tenant demo|UUID] [--customers-url …] …

Run it again and it says the demo studio is there already and changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from frontdesk.kit.auth import Role, issue_token
from frontdesk.kit.cli import DEMO_TENANT
from frontdesk.kit.settings import Settings

STUDIO = "Frontdesk Demo Studio"
PEOPLE = [
    ("Ada", "Lovelace", "+447911123456", ["vip"]),
    ("Grace", "Hopper", "+4915112345678", ["morning"]),
    ("Alan", "Turing", None, ["evening"]),
    ("Katherine", "Johnson", "+4915123456789", ["morning", "vip"]),
    ("Edsger", "Dijkstra", None, []),
    ("Barbara", "Liskov", "+4915712345678", ["evening"]),
    ("Donald", "Knuth", None, ["new"]),
    ("Margaret", "Hamilton", "+4917012345678", ["morning"]),
    ("Tim", "Berners-Lee", None, ["evening"]),
    ("Frances", "Allen", "+33612345678", []),
    ("Linus", "Torvalds", None, ["new"]),
    ("Radia", "Perlman", "+4917612345678", ["vip"]),
]


class Demo:
    def __init__(self, urls: dict[str, str], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.http = {
            name: httpx.Client(base_url=url, headers=headers, timeout=30)
            for name, url in urls.items()
        }

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        r = self.http[service].request(method, path, **kwargs)
        if r.status_code >= 400:
            raise SystemExit(f"{service} {method} {path} answered {r.status_code}: {r.text}")
        return r.json() if r.content else None

    def post(self, service: str, path: str, body: dict[str, Any], **headers: str) -> Any:
        return self.call(service, "POST", path, json=body, headers=headers)

    def already_there(self) -> bool:
        locations = self.call("scheduling", "GET", "/v1/locations")
        items = locations["items"] if isinstance(locations, dict) else locations
        return any(location["name"] == STUDIO for location in items)

    def studio(self) -> dict[str, Any]:
        location = self.post(
            "scheduling",
            "/v1/locations",
            {"name": STUDIO, "timezone": "Europe/Berlin", "address": "Torstraße 1, Berlin"},
        )
        rooms = [
            self.post("scheduling", "/v1/rooms", {"location_id": location["id"], "name": name})
            for name in ("Studio 1", "Studio 2")
        ]
        trainers = [
            self.post(
                "scheduling",
                "/v1/staff",
                {"name": name, "location_id": location["id"], "role": "trainer"},
            )
            for name in ("Kim Weber", "Sam Okafor")
        ]
        return {"location": location, "rooms": rooms, "trainers": trainers}

    def week_of_classes(self, where: dict[str, Any], first_day: date) -> list[dict[str, Any]]:
        """Two classes a day for a week: mornings in Studio 1, evenings in Studio 2."""
        plan = [
            ("Sunrise Flow", "07:30", 0),
            ("Evening Power", "18:30", 1),
        ]
        classes = []
        for offset in range(7):
            day = first_day + timedelta(days=offset)
            for title, at, n in plan:
                classes.append(
                    self.post(
                        "scheduling",
                        "/v1/sessions",
                        {
                            "title": title,
                            "location_id": where["location"]["id"],
                            "room_id": where["rooms"][n]["id"],
                            "staff_id": where["trainers"][n]["id"],
                            "starts_at": f"{day.isoformat()}T{at}",
                            "duration_minutes": 60,
                            "capacity": 12,
                            "payment": {"method": "credits", "credits": 1},
                        },
                    )
                )
        return classes

    def catalogue(self) -> tuple[dict[str, Any], dict[str, Any]]:
        ten = self.post(
            "credits",
            "/v1/credit-products",
            {"name": "10 classes", "credits": 10, "price_minor": 12000, "validity_days": 180},
        )
        self.post(
            "credits",
            "/v1/credit-products",
            {"name": "Drop-in", "credits": 1, "price_minor": 1500, "validity_days": 30},
        )
        plan = self.post(
            "credits",
            "/v1/membership-plans",
            {
                "name": "Unlimited monthly",
                "discount_percent": 10,
                "priority_label": "Member",
                "duration_days": 30,
            },
        )
        return ten, plan

    def customers(self) -> list[dict[str, Any]]:
        made = []
        for first, last, phone, tags in PEOPLE:
            body: dict[str, Any] = {
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}@example.com".lower().replace(" ", ""),
                "tags": tags,
            }
            if phone:
                body["phone"] = phone
            if "vip" in tags:
                body["status"] = "vip"
            made.append(self.post("customers", "/v1/customers", body))
        return made


def run(urls: dict[str, str], tenant: uuid.UUID) -> str:
    token = issue_token(Settings(), tenant_id=tenant, role=Role.admin, sub="demo-admin")
    demo = Demo(urls, token)
    if demo.already_there():
        return f"{STUDIO} is there already for tenant {tenant}: nothing changed."
    where = demo.studio()
    classes = demo.week_of_classes(where, date.today() + timedelta(days=1))
    ten, plan = demo.catalogue()
    people = demo.customers()
    demo.post(
        "customers",
        f"/v1/customers/{people[0]['id']}/notes",
        {
            "text": "Prefers the mat by the window. Knee injury in 2025: no deep lunges.",
            "pinned": True,
        },
    )
    demo.post(
        "customers",
        f"/v1/customers/{people[3]['id']}/notes",
        {"text": "Asked about a 5-class pack for her daughter.", "visibility": "team"},
    )
    demo.post("credits", "/v1/memberships", {"customer_id": people[0]["id"], "plan_id": plan["id"]})
    booked = 0
    for n, person in enumerate(people[:8]):  # the first eight bought a 10-class pack
        demo.post(
            "credits",
            "/v1/credit-packages",
            {"customer_id": person["id"], "product_id": ten["id"]},
            **{"Idempotency-Key": f"demo-pack-{person['id']}"},
        )
        for session in classes[n % 4 :: 4][:3]:  # three classes each, spread over the week
            booking = demo.post(
                "scheduling",
                "/v1/bookings",
                {"session_id": session["id"], "customer_id": person["id"]},
                Prefer="wait=10",
            )
            booked += booking["status"] == "confirmed"
    return (
        f"{STUDIO} for tenant {tenant}: {len(classes)} classes, {len(people)} customers, "
        f"{booked} bookings confirmed (paid by credits)."
    )


def main() -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="demo", help="tenant id (UUID) or 'demo'")
    for name, port in (("customers", 8001), ("credits", 8002), ("scheduling", 8003)):
        parser.add_argument(f"--{name}-url", default=f"http://{settings.host}:{port}")
    args = parser.parse_args()
    tenant = DEMO_TENANT if args.tenant == "demo" else uuid.UUID(args.tenant)
    urls = {
        "customers": args.customers_url,
        "credits": args.credits_url,
        "scheduling": args.scheduling_url,
    }
    try:
        print(run(urls, tenant))
    except httpx.TransportError as error:
        sys.exit(f"a service is not answering ({error}); start them first with `make run`")


if __name__ == "__main__":
    main()
