//! Marking the matched words in titles and snippets. Returns plain segments;
//! templates escape the text and wrap hits in `<mark>`.

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// Splits `text` into segments, marking every occurrence of any word
/// (longest first) as a hit.
pub fn highlight(text: &str, words: &[String]) -> Vec<Segment> {
    let mut words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    let mut out: Vec<Segment> = Vec::new();
    let mut rest = text;
    let push = |out: &mut Vec<Segment>, s: &str, hit: bool| {
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(s),
            _ => out.push(Segment {
                text: s.to_string(),
                hit,
            }),
        }
    };
    while !rest.is_empty() {
        // The earliest match; among equal starts, the longest word.
        let next = words
            .iter()
            .filter_map(|w| rest.find(w).map(|i| (i, *w)))
            .min_by_key(|(i, w)| (*i, std::cmp::Reverse(w.len())));
        match next {
            Some((i, w)) => {
                push(&mut out, &rest[..i], false);
                push(&mut out, w, true);
                rest = &rest[i + w.len()..];
            }
            None => {
                push(&mut out, rest, false);
                break;
            }
        }
    }
    out
}

/// About `max` characters of `text` around the first hit, highlighted.
pub fn snippet(text: &str, words: &[String], max: usize) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let first = words
        .iter()
        .filter_map(|w| text.find(w.as_str()))
        .min()
        .map(|byte| text[..byte].chars().count())
        .unwrap_or(0);
    let start = first.saturating_sub(max / 4);
    let end = (start + max).min(chars.len());
    let mut s: String = chars[start..end].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < chars.len() {
        s.push('…');
    }
    highlight(&s, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_word_wins_and_neighbours_merge() {
        let segs = highlight(
            "居民身份证补领",
            &["身份".into(), "身份证".into(), "补领".into()],
        );
        assert_eq!(
            segs,
            vec![
                Segment {
                    text: "居民".into(),
                    hit: false
                },
                Segment {
                    text: "身份证补领".into(),
                    hit: true
                },
            ]
        );
    }

    #[test]
    fn snippets_are_cut_around_the_first_hit() {
        let text = "甲".repeat(100) + "驾驶证" + &"乙".repeat(100);
        let segs = snippet(&text, &["驾驶证".into()], 40);
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert!(joined.starts_with('…') && joined.ends_with('…'));
        assert!(segs.iter().any(|s| s.hit));
    }
}
