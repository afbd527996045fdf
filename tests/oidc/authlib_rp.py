"""A relying party nobody here wrote (authlib) against Zhiban's OpenID
Connect provider: discovery -> sign-in -> consent -> code + PKCE -> token ->
ID-token validation against the JWKS -> userinfo; and the refusals: a wrong
redirect URI, a reused code and a bad PKCE verifier.

Usage: authlib_rp.py BASE_URL SQLITE_DB CLIENT_ID CLIENT_SECRET
(the SQLite file is read only for the development SMS outbox).
"""

import html
import re
import sqlite3
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt

BASE, DB, CLIENT_ID, CLIENT_SECRET = sys.argv[1:5]
REDIRECT = "http://127.0.0.1:9/callback"
PHONE = "13800138000"
PASSWORD = "Citiz3n!pw"
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1
    print(f"ok {checks} - {what}")


def hidden(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    assert m, f"no hidden field {name}"
    return html.unescape(m.group(1))


def latest_code(phone):
    con = sqlite3.connect(DB)
    try:
        (body,) = con.execute(
            "SELECT body FROM sms_outbox WHERE phone = ? ORDER BY id DESC LIMIT 1", (phone,)
        ).fetchone()
    finally:
        con.close()
    return re.search(r"\b(\d{6})\b", body).group(1)


disco = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=10).json()
check(disco["issuer"] == BASE, "discovery names this issuer")
check("S256" in disco["code_challenge_methods_supported"], "discovery offers PKCE S256")
check("RS256" in disco["id_token_signing_alg_values_supported"], "discovery offers RS256")

# The citizen registers in their browser (which also signs them in).
browser = requests.Session()
page = browser.get(f"{BASE}/register", timeout=10).text
csrf = hidden(page, "_csrf")
browser.post(f"{BASE}/register/code", data={"phone": PHONE, "_csrf": csrf}, timeout=10)
r = browser.post(
    f"{BASE}/register",
    data={
        "phone": PHONE,
        "code": latest_code(PHONE),
        "password": PASSWORD,
        "password_again": PASSWORD,
        "accept_privacy": "1",
        "_csrf": csrf,
    },
    allow_redirects=False,
    timeout=10,
)
check(r.status_code == 303, "the citizen registered")


def rp_session(redirect=REDIRECT):
    return OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid profile phone realname",
        redirect_uri=redirect,
        code_challenge_method="S256",
    )


def authorize(rp, verifier, nonce):
    """The browser follows the RP to the portal and back; returns the callback URL."""
    uri, _state = rp.create_authorization_url(
        disco["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    r = browser.get(uri, allow_redirects=False, timeout=10)
    if r.status_code == 200:
        page = r.text
        fields = {
            n: hidden(page, n)
            for n in [
                "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                "code_challenge", "code_challenge_method", "_csrf",
            ]
        }
        fields["decision"] = "allow"
        r = browser.post(
            disco["authorization_endpoint"], data=fields, allow_redirects=False, timeout=10
        )
    assert r.status_code in (302, 303), r.status_code
    return r.headers["Location"]


jwks = JsonWebKey.import_key_set(requests.get(disco["jwks_uri"], timeout=10).json())

rp = rp_session()
verifier, nonce = generate_token(48), generate_token(16)
callback = authorize(rp, verifier, nonce)
check(callback.startswith(REDIRECT + "?"), "the portal returns to the registered redirect URI")
token = rp.fetch_token(
    disco["token_endpoint"], authorization_response=callback, code_verifier=verifier
)
claims = jwt.decode(
    token["id_token"],
    jwks,
    claims_options={
        "iss": {"essential": True, "value": BASE},
        "aud": {"essential": True, "value": CLIENT_ID},
        "nonce": {"essential": True, "value": nonce},
    },
)
claims.validate()
check(claims["acr"] == "L1", "the ID token validates (RS256, iss, aud, nonce, exp) and carries the level")
info = rp.get(disco["userinfo_endpoint"], timeout=10).json()
check(info["sub"] == claims["sub"], "userinfo names the same subject")
check(info["phone_number"] == "+86" + PHONE, "userinfo returns the phone for the phone scope")

# A reused code is refused.
try:
    rp_session().fetch_token(
        disco["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    check(False, "a reused code is refused")
except OAuthError as e:
    check(e.error == "invalid_grant", "a reused code is refused (invalid_grant)")

# A bad PKCE verifier is refused.
rp = rp_session()
verifier, nonce = generate_token(48), generate_token(16)
callback = authorize(rp, verifier, nonce)
try:
    rp.fetch_token(
        disco["token_endpoint"], authorization_response=callback, code_verifier=generate_token(48)
    )
    check(False, "a bad PKCE verifier is refused")
except OAuthError as e:
    check(e.error == "invalid_grant", "a bad PKCE verifier is refused (invalid_grant)")

# A redirect URI that is not registered exactly gets an error page, not a redirect.
for wrong in [REDIRECT + "/", "https://evil.example/callback"]:
    rp = rp_session(redirect=wrong)
    uri, _ = rp.create_authorization_url(
        disco["authorization_endpoint"], nonce="n", code_verifier=generate_token(48)
    )
    r = browser.get(uri, allow_redirects=False, timeout=10)
    check(
        r.status_code == 400 and "Location" not in r.headers,
        f"an unregistered redirect URI ({wrong}) is refused without redirecting",
    )

print(f"1..{checks}")
