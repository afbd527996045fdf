//! Reading what the server sent as a browser would: hidden inputs, the
//! authenticator secret on an enrolment page, the item editor's fields.

/// The authenticator secret shown on the enrolment page.
pub fn totp_secret_on(html: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).expect("enrolment page shows the secret") + marker.len();
    let end = html[start..].find('<').expect("end") + start;
    html[start..end].replace(' ', "")
}

/// The value of the first hidden input named `name`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden field {name}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

/// All form fields of the item editor as (name, value) pairs.
pub fn editor_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, _) in zhiban_domain::catalog::transfer_columns() {
        let id = format!("id=\"f-{k}\"");
        let Some(pos) = html.find(&id) else { continue };
        let tag_start = html[..pos].rfind('<').expect("tag");
        let tag = &html[tag_start..];
        let value = if tag.starts_with("<textarea") {
            let open_end = tag.find('>').expect(">") + 1;
            let close = tag.find("</textarea>").expect("close");
            unescape(&tag[open_end..close])
        } else if tag.starts_with("<select") {
            let close = tag.find("</select>").expect("close");
            let body = &tag[..close];
            match body.find(" selected>") {
                Some(sel) => {
                    let opt = body[..sel].rfind("value=\"").expect("value") + 7;
                    let end = body[opt..].find('"').expect("q") + opt;
                    unescape(&body[opt..end])
                }
                None => String::new(),
            }
        } else {
            let v = tag.find("value=\"").expect("value") + 7;
            let end = tag[v..].find('"').expect("q") + v;
            unescape(&tag[v..end])
        };
        out.push((k.to_string(), value));
    }
    out
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Every link target on a page (`href="…"`), unescaped, each once, in
/// page order.
pub fn hrefs(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in html.split("href=\"").skip(1) {
        let target = unescape(part.split('"').next().unwrap_or(""));
        if !out.contains(&target) {
            out.push(target);
        }
    }
    out
}
