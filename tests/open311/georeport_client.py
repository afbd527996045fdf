"""Open311 GeoReport v2 client checks (https://wiki.open311.org/GeoReport_v2),
written from the spec's examples with `requests` and xml.etree: services and
their definitions, posting with and without a key, reading one request and
lists with filters, in JSON and XML, and the error format."""
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

import requests

BASE, KEY = sys.argv[1], sys.argv[2]
ROOT = f"{BASE}/open311/v2"
S = requests.Session()


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok - {what}")


def errors_of(r):
    body = r.json()
    return isinstance(body, list) and body and all(
        isinstance(e.get("code"), int) and isinstance(e.get("description"), str) for e in body)


# Services: JSON and XML list the same codes.
r = S.get(f"{ROOT}/services.json")
check(r.status_code == 200 and r.headers["content-type"].startswith("application/json"), "services.json")
services = r.json()
check(len(services) >= 20, f"{len(services)} services")
for s in services:
    assert set(s) >= {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}, s
    assert s["type"] in ("realtime", "batch", "blackbox"), s
check(all(s["metadata"] is True for s in services), "every service has a definition")
xml = ET.fromstring(S.get(f"{ROOT}/services.xml").content)
check(xml.tag == "services", "services.xml root")
check([e.findtext("service_code") for e in xml.findall("service")] == [s["service_code"] for s in services],
      "services.xml lists the same services")
noise = next(s for s in services if "噪声" in s["service_name"] or "噪音" in s["service_name"])
code = noise["service_code"]

# The definition of one service.
d = S.get(f"{ROOT}/services/{code}.json").json()
check(d["service_code"] == code, "definition names its service")
attrs = {a["code"]: a for a in d["attributes"]}
check(attrs["request_type"]["datatype"] == "singlevaluelist"
      and {"complaint", "help", "consult"} <= {v["key"] for v in attrs["request_type"]["values"]},
      "request_type attribute with its values")
check(all(a["variable"] is True and isinstance(a["order"], int) for a in d["attributes"]), "attribute fields")
dx = ET.fromstring(S.get(f"{ROOT}/services/{code}.xml").content)
check(dx.tag == "service_definition" and len(dx.findall("attributes/attribute")) == len(d["attributes"]),
      "definition in XML")
r = S.get(f"{ROOT}/services/999999.json")
check(r.status_code == 404 and errors_of(r), "an unknown service is a 404 in the error format")

# Posting needs a key.
report = {
    "service_code": code,
    "description": "观音桥步行街北口的烧烤摊每晚外放音响到凌晨两点，住户无法休息，请尽快处理。",
    "address_string": "江北区观音桥步行街北口",
    "lat": "29.5753", "long": "106.5326",
    "first_name": "明", "last_name": "王", "phone": "13800138311",
    "attribute[request_type]": "complaint",
}
r = S.post(f"{ROOT}/requests.json", data=report)
check(r.status_code == 403 and errors_of(r), "posting without api_key is refused (403, error list)")
r = S.post(f"{ROOT}/requests.json", data={**report, "api_key": "not-a-key"})
check(r.status_code == 403 and errors_of(r), "a wrong api_key is refused")
r = S.post(f"{ROOT}/requests.json", data={**report, "api_key": KEY, "description": ""})
check(r.status_code == 400 and errors_of(r)
      and any("request_body" in e["description"] for e in r.json()), "a missing description is a 400 naming it")
r = S.post(f"{ROOT}/requests.json", data={**report, "api_key": KEY, "lat": "north"})
check(r.status_code == 400 and errors_of(r), "a bad latitude is a 400")
r = S.post(f"{ROOT}/requests.json", data={**report, "api_key": KEY})
check(r.status_code == 200, f"posted ({r.status_code} {r.text[:200]})")
posted = r.json()
check(isinstance(posted, list) and len(posted) == 1 and posted[0]["service_request_id"].startswith("SQ"),
      "the answer carries the new service_request_id")
rid = posted[0]["service_request_id"]
rx = S.post(f"{ROOT}/requests.xml", data={**report, "api_key": KEY,
                                           "description": "江北区建新北路人行道井盖缺失，晚上有行人差点踩空，很危险。"})
x = ET.fromstring(rx.content)
check(rx.status_code == 200 and x.tag == "service_requests" and x.findtext("request/service_request_id").startswith("SQ"),
      "posting for an XML answer")

# Reading it back: the key that filed it sees it whole; the public does not.
r = S.get(f"{ROOT}/requests/{rid}.json", params={"api_key": KEY})
check(r.status_code == 200, "the filing client reads its request")
one = r.json()[0]
check(one["service_request_id"] == rid and one["status"] == "open", "open, as filed")
check(one["description"] == report["description"], "its description as posted")
check(one["service_code"] == code and one["service_name"] == noise["service_name"], "the chosen service")
check(abs(one["lat"] - 29.5753) < 1e-6 and abs(one["long"] - 106.5326) < 1e-6, "the map point")
check("江北区" in one["address"], "the district from the address")
for f in ("requested_datetime", "updated_datetime", "expected_datetime"):
    datetime.fromisoformat(one[f])
check(one["requested_datetime"].endswith("+08:00"), "times in ISO 8601 with the offset")
check(S.get(f"{ROOT}/requests/{rid}.json").status_code == 404, "unpublished: not for the public")
r = S.get(f"{ROOT}/requests/{rid}.json", params={"api_key": "not-a-key"})
check(r.status_code == 403 and errors_of(r), "a wrong key reading is refused")
ox = ET.fromstring(S.get(f"{ROOT}/requests/{rid}.xml", params={"api_key": KEY}).content)
check(ox.findtext("request/service_request_id") == rid and ox.findtext("request/lat") == "29.5753", "one request in XML")

# Lists: the public sees published requests only, without personal data.
r = S.get(f"{ROOT}/requests.json", params={"start_date": "2020-01-01T00:00:00+08:00"})
public = r.json()
check(r.status_code == 200 and len(public) > 0, f"{len(public)} published requests")
check(all(p["status"] in ("open", "closed") for p in public), "statuses are open or closed")
check(rid not in {p["service_request_id"] for p in public}, "the new request is not public")
check(not any(re.search(r"1[3-9]\d{9}", p["description"] + p["status_notes"]) for p in public),
      "no phone numbers in public text")
check(all(p["lat"] is None for p in public), "no map points in public")
mine = S.get(f"{ROOT}/requests.json", params={"api_key": KEY, "status": "open", "service_code": code}).json()
check(rid in {p["service_request_id"] for p in mine}, "the client's list has its open request")
check(all(p["status"] == "open" for p in mine), "status filter")
closed = S.get(f"{ROOT}/requests.json", params={"api_key": KEY, "status": "closed"}).json()
check(rid not in {p["service_request_id"] for p in closed}, "not among the closed")
ids = S.get(f"{ROOT}/requests.json", params={"api_key": KEY, "service_request_id": f"{rid},SQ000"}).json()
check([p["service_request_id"] for p in ids] == [rid], "service_request_id list filter")
future = S.get(f"{ROOT}/requests.json", params={"api_key": KEY, "start_date": "2099-01-01T00:00:00Z"}).json()
check(future == [], "date filter")
r = S.get(f"{ROOT}/requests.json", params={"start_date": "yesterday"})
check(r.status_code == 400 and errors_of(r), "a bad date is a 400")
lx = ET.fromstring(S.get(f"{ROOT}/requests.xml", params={"start_date": "2020-01-01T00:00:00+08:00"}).content)
check(lx.tag == "service_requests" and len(lx.findall("request")) == len(public), "the list in XML")
print("all Open311 checks passed")
