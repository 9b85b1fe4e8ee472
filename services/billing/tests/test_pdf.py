"""PDFs open and hold the number, the lines and the totals (read back with pypdf), in the
business's language and currency."""

import io
import uuid

from pypdf import PdfReader

from .helpers import ADMIN, draft, issued, line


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


async def test_invoice_pdf_has_number_lines_and_totals(client, tokens):
    admin = tokens.headers(ADMIN)
    r = await client.patch(
        "/v1/billing-profile",
        json={
            "seller_name": "Studio Mitte",
            "seller_address": "Torstraße 1\n10119 Berlin",
            "seller_tax_id": "DE123456789",
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    made = await issued(
        client,
        tokens,
        lines=[
            line(9_900, description="10er Karte Yoga", tax_rate_bp=1900),
            line(1_500, description="Sauna", quantity=2, tax_rate_bp=700, discount_bp=1000),
        ],
        bill_to={"name": "Zoë Łukasiewicz", "address": "Hauptstraße 5"},
    )
    r = await client.get(f"/v1/invoices/{made['id']}/pdf", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert made["number"] in r.headers["content-disposition"]
    body = text_of(r.content)
    for expected in (
        made["number"],
        "Invoice",
        "Studio Mitte",
        "Zoë Łukasiewicz",
        "10er Karte Yoga",
        "Sauna",
        "€99.00",
        "€27.00",  # 2 * 15.00 less 10 %
        "€126.00",  # the total
        "Amount due",
        "Discount 10 %",
    ):
        assert expected in body, (expected, body)


async def test_pdf_in_the_business_language_and_a_credit_note_pdf(client, tokens):
    admin = tokens.headers(ADMIN)
    await client.patch(
        "/v1/billing-profile", json={"locale": "de", "timezone": "Europe/Berlin"}, headers=admin
    )
    made = await issued(client, tokens, lines=[line(12_345, description="Massage")])
    body = text_of((await client.get(f"/v1/invoices/{made['id']}/pdf", headers=admin)).content)
    assert "Rechnung" in body and "123,45\xa0€" in body.replace(" ", "\xa0"), body
    r = await client.post("/v1/credit-notes", json={"invoice_id": made["id"]}, headers=admin)
    note = r.json()
    r = await client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=admin)
    assert r.status_code == 200
    body = text_of(r.content)
    assert "Gutschrift" in body and note["number"] in body and made["number"] in body
    assert "Massage" in body


async def test_a_draft_pdf_is_marked_and_unknown_ids_are_404(client, tokens):
    admin = tokens.headers(ADMIN)
    made = await draft(client, tokens)
    body = text_of((await client.get(f"/v1/invoices/{made['id']}/pdf", headers=admin)).content)
    assert "draft" in body
    r = await client.get(f"/v1/invoices/{uuid.uuid4()}/pdf", headers=admin)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
