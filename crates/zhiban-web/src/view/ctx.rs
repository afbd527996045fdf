//! Per-request page context: language, elder mode and high contrast (from
//! cookies, so they work without JavaScript and persist), the current path
//! for the toggles, and translation helpers the templates call.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use std::borrow::Cow;

pub const LANG_COOKIE: &str = "zb_lang";
pub const ELDER_COOKIE: &str = "zb_elder";
pub const CONTRAST_COOKIE: &str = "zb_contrast";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    ZhHk,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhHk, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhHk => "zh-HK",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh-cn" | "zh" => Some(Lang::ZhCn),
            "zh-HK" | "zh-hk" | "zh-TW" | "zh-Hant" => Some(Lang::ZhHk),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language's own name, shown in the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "简体中文",
            Lang::ZhHk => "繁體中文",
            Lang::En => "English",
        }
    }
}

/// Translates `key` into `lang`.
pub fn tr(lang: Lang, key: &str) -> String {
    let s: Cow<'_, str> = rust_i18n::t!(key, locale = lang.code());
    s.into_owned()
}

/// An entry of the staff menu, from the route table.
#[derive(Debug, Clone, Copy)]
pub struct MenuEntry {
    pub path: &'static str,
    /// Translation key of the label.
    pub label: &'static str,
    /// `None`: every staff member.
    pub perm: Option<zhiban_domain::identity::Perm>,
}

#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    pub elder: bool,
    pub contrast: bool,
    /// Path and query of this request, where the toggles return to.
    pub here: String,
    /// The signed-in staff member's display name, on admin pages.
    pub staff: Option<String>,
    /// The signed-in citizen, masked (张* or 138****8000), on pages that
    /// are theirs (never on a cached public page).
    pub citizen: Option<String>,
    /// The company the signed-in citizen acts for (以企业身份办事), shown
    /// on every page of theirs with the way back to themselves.
    pub acting: Option<String>,
    /// CSRF token for forms on this page.
    pub csrf: String,
    /// The signed-in staff member's permission codes.
    pub perms: Vec<&'static str>,
    /// The staff menu this person sees: (path, label key).
    pub menu: Vec<(&'static str, &'static str)>,
}

impl PageCtx {
    /// Whether the signed-in staff member holds permission `code`.
    pub fn can(&self, code: &str) -> bool {
        self.perms.contains(&code)
    }

    pub fn from_parts(parts: &Parts) -> Self {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = jar
            .get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .or_else(|| {
                parts
                    .headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(accept_language)
            })
            .unwrap_or_default();
        PageCtx {
            lang,
            elder: jar.get(ELDER_COOKIE).is_some_and(|c| c.value() == "1"),
            contrast: jar.get(CONTRAST_COOKIE).is_some_and(|c| c.value() == "1"),
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            staff: None,
            citizen: None,
            acting: None,
            csrf: String::new(),
            perms: Vec::new(),
            menu: Vec::new(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        tr(self.lang, key)
    }

    /// An asset's versioned URL (`/assets/site.css?v=…`).
    pub fn asset(&self, name: &str) -> String {
        crate::assets::url(name)
    }

    /// Translation with `%{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut s = self.t(key);
        for (name, value) in args {
            s = s.replace(&format!("%{{{name}}}"), &value.to_string());
        }
        s
    }

    /// Translation with its `%{n}` placeholder filled in.
    pub fn tn(&self, key: &str, n: impl std::fmt::Display) -> String {
        self.t(key).replace("%{n}", &n.to_string())
    }

    /// Label of a catalog vocabulary value, e.g. `life_event.birth`.
    pub fn term(&self, kind: &str, slug: &str) -> String {
        self.t(&format!("{kind}.{slug}"))
    }

    /// Everything a public page's HTML depends on besides the catalog.
    /// Why a write was refused (a domain conflict), in this language.
    pub fn conflict(&self, c: zhiban_domain::Conflict) -> String {
        self.t(&format!("conflict.{}", c.code()))
    }

    /// A permission's name in this language.
    pub fn perm_label(&self, p: zhiban_domain::identity::Perm) -> String {
        self.t(&format!("perm.{}", p.slug().replace('.', "_")))
    }

    /// An instant (Unix seconds) as Beijing date and time, `2026-03-02 09:30:00`.
    pub fn when(&self, at: &i64) -> String {
        zhiban_domain::time::local_time(*at)
    }

    /// An instant as a `datetime-local` input's value, `2026-03-02T09:30`.
    pub fn datetime_local(at: i64) -> String {
        zhiban_domain::time::local_time(at)
            .get(..16)
            .unwrap_or_default()
            .replacen(' ', "T", 1)
    }

    /// A file size for people: 1.2 MB, 340 KB.
    pub fn size(&self, bytes: &i64) -> String {
        crate::view::form::size_text(*bytes)
    }

    /// The Beijing time of day of an instant, `09:30`.
    pub fn clock(&self, at: &i64) -> String {
        zhiban_domain::time::local_time(*at)
            .get(11..16)
            .unwrap_or_default()
            .to_string()
    }

    /// A case state in this language.
    pub fn case_state(&self, s: &zhiban_domain::cases::CaseState) -> String {
        self.t(&format!("cases.state_{}", s.slug()))
    }

    /// A case step in this language.
    pub fn case_action(&self, a: &zhiban_domain::cases::CaseAction) -> String {
        self.t(&format!("cases.action_{}", a.slug()))
    }

    /// A license check result in this language (有效, 已吊销 …).
    pub fn license_status(&self, s: &zhiban_domain::licenses::Status) -> String {
        self.t(&format!("licenses.status_{}", s.slug()))
    }

    /// A license's expiry date, or 长期有效 when it has none.
    pub fn license_expires(&self, expires_on: &str) -> String {
        if expires_on.is_empty() {
            self.t("licenses.long_term")
        } else {
            expires_on.to_string()
        }
    }

    /// What a license check result means, in a sentence.
    pub fn license_verdict(&self, s: &zhiban_domain::licenses::Status) -> String {
        self.t(&format!("licenses.verdict_{}", s.slug()))
    }

    pub fn cache_key(&self) -> String {
        format!(
            "{}|{}{}|{}",
            self.lang.code(),
            u8::from(self.elder),
            u8::from(self.contrast),
            self.here
        )
    }

    /// ` lang="zh-Hans"` for catalog content (in Simplified Chinese) on a
    /// page in another language, so screen readers pronounce it right
    /// (WCAG 3.1.2); nothing where the page language already fits.
    /// An item's name in this language: the English one on en pages where
    /// it has one, else the Chinese.
    pub fn item_name<'a>(&self, item: &'a zhiban_domain::catalog::ServiceItem) -> &'a str {
        if self.shows_english_name(item) {
            &item.name_en
        } else {
            &item.name
        }
    }

    /// `lang` for an item's name as [`Self::item_name`] shows it.
    pub fn item_lang(&self, item: &zhiban_domain::catalog::ServiceItem) -> &'static str {
        if self.shows_english_name(item) {
            ""
        } else {
            self.content_lang()
        }
    }

    /// The en page shows the English name (and the Chinese under it).
    pub fn shows_english_name(&self, item: &zhiban_domain::catalog::ServiceItem) -> bool {
        self.lang == Lang::En && !item.name_en.is_empty()
    }

    pub fn content_lang(&self) -> &'static str {
        match self.lang {
            Lang::En => " lang=\"zh-Hans\"",
            Lang::ZhCn | Lang::ZhHk => "",
        }
    }

    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "zh-Hans",
            Lang::ZhHk => "zh-Hant-HK",
            Lang::En => "en",
        }
    }

    pub fn body_class(&self) -> String {
        let mut c = String::from("lang-") + self.lang.code();
        if self.elder {
            c.push_str(" elder");
        }
        if self.contrast {
            c.push_str(" contrast");
        }
        c
    }

    /// Link that switches a preference and comes back here.
    pub fn pref_link(&self, key: &str, value: &str) -> String {
        format!("/prefs?{key}={value}&next={}", urlencode(&self.here))
    }

    pub fn langs(&self) -> Vec<(Lang, String, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (*l, self.pref_link("lang", l.code()), *l == self.lang))
            .collect()
    }
}

fn accept_language(header: &str) -> Option<Lang> {
    header
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(str::trim)
        .find_map(|tag| {
            Lang::parse(tag).or_else(|| {
                let lower = tag.to_ascii_lowercase();
                if lower.starts_with("zh-hk")
                    || lower.starts_with("zh-tw")
                    || lower.starts_with("zh-mo")
                {
                    Some(Lang::ZhHk)
                } else if lower.starts_with("zh") {
                    Some(Lang::ZhCn)
                } else if lower.starts_with("en") {
                    Some(Lang::En)
                } else {
                    None
                }
            })
        })
}

/// Percent-encodes everything but unreserved characters.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageCtx::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_language_picks_traditional_for_hong_kong_and_taiwan() {
        assert_eq!(accept_language("zh-TW,zh;q=0.9"), Some(Lang::ZhHk));
        assert_eq!(accept_language("fr-FR, en;q=0.8"), Some(Lang::En));
        assert_eq!(accept_language("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(accept_language("de"), None);
    }

    /// The keys of a message file: `section.key` for every two-level entry.
    fn locale_keys(text: &str) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut section = String::new();
        for line in text.lines() {
            let body = line.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let Some((key, _)) = body.split_once(':') else {
                continue;
            };
            let key = key.trim().trim_matches('"');
            match line.len() - body.len() {
                0 => section = key.to_string(),
                _ => {
                    out.insert(format!("{section}.{key}"));
                }
            }
        }
        out
    }

    #[test]
    fn every_message_file_has_the_same_keys() {
        let zh_cn = locale_keys(include_str!("../../locales/zh-CN.yml"));
        assert!(zh_cn.len() > 900, "the parser reads the file");
        for (name, text) in [
            ("zh-HK", include_str!("../../locales/zh-HK.yml")),
            ("en", include_str!("../../locales/en.yml")),
        ] {
            let other = locale_keys(text);
            let missing: Vec<_> = zh_cn.difference(&other).collect();
            let extra: Vec<_> = other.difference(&zh_cn).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}: missing {missing:?}, not in zh-CN {extra:?}"
            );
        }
    }

    #[test]
    fn every_conflict_has_a_message_in_every_language() {
        for c in zhiban_domain::Conflict::ALL {
            for lang in Lang::ALL {
                let key = format!("conflict.{}", c.code());
                assert_ne!(tr(lang, &key), key, "{key} in {}", lang.code());
            }
        }
    }

    #[test]
    fn every_language_has_every_key_of_the_default() {
        for key in [
            "site.name",
            "nav.home",
            "guide.materials",
            "life_event.birth",
            "police.fire",
        ] {
            for lang in Lang::ALL {
                let s = tr(lang, key);
                assert_ne!(s, key, "{key} missing in {}", lang.code());
            }
        }
    }
}
