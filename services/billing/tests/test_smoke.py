from .helpers import issued, pay, position


async def test_issue_and_pay(client, tokens):
    inv = await issued(client, tokens)
    assert inv["status"] == "open" and inv["number"].endswith("-000001"), inv
    assert inv["total_minor"] == 10_000 and inv["tax_minor"] == 1597
    await pay(client, tokens, inv["id"], 10_000)
    pos = await position(client, tokens, inv["customer_id"])
    assert pos["outstanding_minor"] == 0 and pos["lifetime_spend_minor"] == 10_000
