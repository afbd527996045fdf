"""Reads every feed and the sitemap of a running portal as other software does.

Usage: check_feeds.py BASE_URL
"""
import sys
import xml.etree.ElementTree as ET

import feedparser
import requests

base = sys.argv[1].rstrip("/")
problems = []


def feed_paths():
    """Site and channel feeds, found from the pages' <link rel="alternate">."""
    paths = set()
    sitemap = requests.get(f"{base}/sitemap.xml", timeout=30)
    sitemap.raise_for_status()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(sitemap.content)
    locs = [e.text for e in root.findall("s:url/s:loc", ns)]
    assert locs, "the sitemap lists no URLs"
    pages = [u for u in locs if "/sites/" in u]
    assert pages, "the sitemap lists no site or channel pages"
    for u in pages:
        html = requests.get(u, timeout=30)
        if html.status_code != 200:
            problems.append(f"{u}: {html.status_code}")
            continue
        for kind in ("rss.xml", "atom.xml"):
            for part in html.text.split('href="')[1:]:
                href = part.split('"', 1)[0]
                if href.endswith(kind):
                    paths.add(href)
    articles = [u for u in locs if "/articles/" in u]
    assert articles, "the sitemap lists no articles"
    for u in articles[:20] + locs[:10]:
        r = requests.get(u, timeout=30)
        if r.status_code != 200:
            problems.append(f"sitemap URL {u} answers {r.status_code}")
    return sorted(paths)


paths = feed_paths()
assert any(p.endswith("rss.xml") for p in paths) and any(p.endswith("atom.xml") for p in paths), paths
entries = 0
for p in paths:
    r = requests.get(f"{base}{p}", timeout=30)
    d = feedparser.parse(r.content, response_headers={"content-type": r.headers.get("content-type", "")})
    if d.bozo:
        problems.append(f"{p}: does not parse cleanly: {d.bozo_exception!r}")
        continue
    expected = "rss20" if p.endswith("rss.xml") else "atom10"
    if d.version != expected:
        problems.append(f"{p}: read as {d.version!r}, expected {expected}")
    if not d.feed.get("title"):
        problems.append(f"{p}: no feed title")
    for e in d.entries:
        entries += 1
        for field in ("title", "link", "published_parsed"):
            if not e.get(field):
                problems.append(f"{p}: entry {e.get('link')} has no {field}")
        if not e["link"].startswith(base + "/articles/"):
            problems.append(f"{p}: entry link {e['link']} is not an article of this portal")

print(f"{len(paths)} feeds, {entries} entries read")
if problems:
    print("\n".join(problems))
    sys.exit(1)
