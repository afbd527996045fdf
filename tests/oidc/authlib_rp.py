"""A relying party nobody here wrote (authlib) against Zhiban's OpenID
Connect provider: discovery -> sign-in -> consent -> code + PKCE -> token ->
ID-token validation against the JWKS -> userinfo; `auth_time` being the
sign-in, not the code; `prompt` (none, login, consent) and `max_age` per
OpenID Connect Core 3.1.2.1; and the refusals: a wrong redirect URI, a reused
code and a bad PKCE verifier.

Usage: authlib_rp.py BASE_URL SQLITE_DB CLIENT_ID CLIENT_SECRET
(the SQLite file is read only for the development SMS outbox).
"""

import html
import re
import sqlite3
import sys
import time
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

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
registered_at = int(time.time())
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
# Time passes between signing in and the first application asking.
time.sleep(2)


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
check(
    registered_at - 1 <= claims["auth_time"] <= registered_at + 1
    and claims["iat"] - claims["auth_time"] >= 2,
    "auth_time is when the citizen signed in, not when the code was issued",
)
first_auth_time = claims["auth_time"]
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


# --- prompt and max_age (OpenID Connect Core 3.1.2.1) ---------------------


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def start(session, **extra):
    """Sends `session` (a browser) to the authorization endpoint; returns
    the response without following it, and what the RP keeps."""
    rp = rp_session()
    verifier, nonce = generate_token(48), generate_token(16)
    uri, state = rp.create_authorization_url(
        disco["authorization_endpoint"], nonce=nonce, code_verifier=verifier, **extra
    )
    r = session.get(uri, allow_redirects=False, timeout=10)
    return r, (rp, verifier, nonce, state)


def id_token_from(callback, kept, max_age=None):
    """Exchanges the code as a strict client would: ID token checked with
    authlib's CodeIDToken, which requires auth_time when max_age was sent."""
    rp, verifier, nonce, _state = kept
    token = rp.fetch_token(
        disco["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    params = {"nonce": nonce, "client_id": CLIENT_ID}
    if max_age is not None:
        params["max_age"] = max_age
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": BASE}},
        claims_params=params,
    )
    claims.validate()
    return claims


def sign_in_from(r):
    """The portal sent the browser to its sign-in page; sign in with the
    password there and follow the page back to the authorization request."""
    assert r.status_code in (302, 303), r.status_code
    login = urllib.parse.urljoin(BASE, r.headers["Location"])
    assert urllib.parse.urlsplit(login).path == "/login", login
    page = browser.get(login, timeout=10).text
    signed_in_at = int(time.time())
    r = browser.post(
        f"{BASE}/login",
        data={
            "phone": PHONE,
            "password": PASSWORD,
            "next": hidden(page, "next"),
            "_csrf": hidden(page, "_csrf"),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 200, r.status_code
    m = re.search(r'href="([^"]*)" id="continue"', r.text)
    assert m, "no way back to the application after signing in"
    back = urllib.parse.urljoin(BASE, html.unescape(m.group(1)))
    return browser.get(back, allow_redirects=False, timeout=10), signed_in_at


# prompt=none while signed in, consent given: a code at once, same auth_time.
r, kept = start(browser, prompt="none")
check(
    r.status_code in (302, 303) and "code" in query_of(r.headers["Location"]),
    "prompt=none while signed in and consented returns a code without any page",
)
check(
    id_token_from(r.headers["Location"], kept)["auth_time"] == first_auth_time,
    "prompt=none keeps the original auth_time",
)

# prompt=none while signed out: back to the application with login_required.
stranger = requests.Session()
r, kept = start(stranger, prompt="none")
q = query_of(r.headers.get("Location", ""))
check(
    r.status_code in (302, 303)
    and r.headers["Location"].startswith(REDIRECT + "?")
    and q.get("error") == "login_required"
    and q.get("state") == kept[3],
    "prompt=none while signed out redirects with error=login_required and the state",
)

# prompt=none with max_age=0 while signed out: still no page, login_required.
r, kept = start(stranger, prompt="none", max_age="0")
check(
    query_of(r.headers.get("Location", "")).get("error") == "login_required",
    "prompt=none with max_age=0 asks for nothing and answers login_required",
)

# prompt=consent: the consent page again, although consent exists.
r, kept = start(browser, prompt="consent")
check(
    r.status_code == 200 and 'name="decision"' in r.text,
    "prompt=consent shows the consent page although consent was given before",
)

# max_age: a sign-in older than max_age means signing in again.
r, kept = start(browser, max_age="1")
check(
    r.status_code in (302, 303) and r.headers["Location"].startswith("/login"),
    "a sign-in older than max_age sends the citizen to sign in again",
)
r, signed_in_at = sign_in_from(r)
check(
    r.status_code in (302, 303) and "code" in query_of(r.headers["Location"]),
    "after signing in again the application gets its code",
)
claims = id_token_from(r.headers["Location"], kept, max_age=1)
check(
    claims["auth_time"] >= signed_in_at - 1 and claims["auth_time"] > first_auth_time,
    "the ID token after max_age carries the new sign-in's auth_time (validated by a strict client)",
)
second_auth_time = claims["auth_time"]

# prompt=login: signing in again although the session is fresh.
time.sleep(1.1)
r, kept = start(browser, prompt="login")
check(
    r.status_code in (302, 303) and r.headers["Location"].startswith("/login"),
    "prompt=login sends a signed-in citizen to sign in again",
)
r, signed_in_at = sign_in_from(r)
check(
    r.status_code in (302, 303) and "code" in query_of(r.headers["Location"]),
    "after the forced sign-in the application gets its code, without a loop",
)
claims = id_token_from(r.headers["Location"], kept)
check(
    claims["auth_time"] >= signed_in_at - 1 and claims["auth_time"] > second_auth_time,
    "prompt=login yields the new sign-in's auth_time",
)

print(f"1..{checks}")
