"""Tables, one repository per aggregate (every query is here), the dispatcher's queries
across tenants, and the clients of Twilio (the official SDK) and SMTP (aiosmtplib)."""
