//! The answering engine: question + the conversation so far → a reply
//! with its sources, a confidence, and whether a person should take over.
//! Pure and in memory (no database), so it answers in well under a
//! millisecond and can be evaluated offline.

use std::collections::HashSet;
use std::sync::Arc;

use zhiban_search::{SearchIndex, SearchQuery};

use super::aspects::{self, Aspect, SmallTalk};
use super::compose;
use super::knowledge::Entry;
pub use super::reply::{Choice, Reply, ReplyKind, Source, Topic};
use super::words::{
    asks_amount, common_part, content_pairs, follow_label, is_benefit, is_cjk, longest_stem, pairs,
    starts_with_connective, strip_connectives,
};
use crate::catalog::{CatalogSnapshot, Department, ServiceItem};

/// What the engine knows, prepared once per catalog and knowledge-base
/// version.
pub struct Brain {
    pub catalog: Arc<CatalogSnapshot>,
    /// Every character pair in a published item's name, main item, department,
    /// conditions and materials: the words a question can be understood by.
    known: HashSet<[char; 2]>,
    /// In how many item names each character pair occurs (rare pairs say
    /// more about which item is meant).
    title_df: std::collections::HashMap<[char; 2], u32>,
    /// All item names, one per line (to tell a cue from part of a name).
    names: String,
    districts: Vec<(Vec<String>, Department)>,
    knowledge: Vec<PreparedEntry>,
}

struct PreparedEntry {
    entry: Entry,
    /// Pair sets of the question and each variant, normalised.
    forms: Vec<HashSet<[char; 2]>>,
}

impl Brain {
    pub fn new(
        catalog: Arc<CatalogSnapshot>,
        knowledge: Vec<Entry>,
        search: &SearchIndex,
    ) -> Brain {
        let mut known = HashSet::new();
        let mut names = String::new();
        let mut title_df: std::collections::HashMap<[char; 2], u32> = Default::default();
        for s in &catalog.services {
            let own: HashSet<[char; 2]> = pairs(&s.name).into_iter().collect();
            for p in own {
                *title_df.entry(p).or_default() += 1;
            }
            for text in [&s.name, &s.main_name, &s.department_name]
                .into_iter()
                .chain(s.conditions.iter())
                .chain(s.materials.iter().map(|m| &m.name))
            {
                known.extend(pairs(text));
            }
            names.push_str(&s.name);
            names.push('\n');
        }
        let districts = catalog
            .departments
            .iter()
            .filter(|d| d.level == "区县")
            .map(|d| {
                let mut forms = vec![d.name.clone()];
                for suffix in ["新区", "区", "县"] {
                    if let Some(short) = d.name.strip_suffix(suffix)
                        && short.chars().count() >= 2
                    {
                        forms.push(short.to_string());
                        break;
                    }
                }
                (forms, d.clone())
            })
            .collect();
        let knowledge = knowledge
            .into_iter()
            .map(|entry| {
                let forms = std::iter::once(&entry.question)
                    .chain(entry.variants.iter())
                    .map(|f| pairs(&search.understand(f).rewritten).into_iter().collect())
                    .collect();
                PreparedEntry { entry, forms }
            })
            .collect();
        Brain {
            catalog,
            known,
            title_df,
            names,
            districts,
            knowledge,
        }
    }

    /// How much a pair says about which item is meant: pairs in few names
    /// weigh most; pairs only in guide texts weigh 1.
    fn weight(&self, p: &[char; 2]) -> f32 {
        match self.title_df.get(p) {
            None | Some(0) => 1.0,
            Some(df) => {
                1.0 + (self.catalog.services.len() as f32 / *df as f32)
                    .ln()
                    .max(0.0)
            }
        }
    }

    pub fn knowledge_len(&self) -> usize {
        self.knowledge.len()
    }
}

/// A question answered against a [`Brain`] and the search index.
pub struct Assistant<'a> {
    pub brain: &'a Brain,
    pub search: &'a SearchIndex,
    /// Below this confidence the engine says it does not know.
    pub threshold: f32,
}

/// How one candidate fits the question.
#[derive(Debug, Clone)]
struct Fit {
    item: Arc<ServiceItem>,
    confidence: f32,
    /// Share of the item's name the question covers (1: named exactly).
    precision: f32,
}

fn guide(s: &ServiceItem) -> Source {
    Source {
        title: s.name.clone(),
        url: format!("/services/{}", s.code),
    }
}

impl Assistant<'_> {
    pub fn reply(&self, question: &str, topic: &Topic) -> Reply {
        let q = question.trim();
        if q.is_empty() {
            return self.small(SmallTalk::Greeting, topic);
        }
        if let Some(t) = aspects::small_talk(q) {
            return self.small(t, topic);
        }
        let normalized = self.search.understand(q).normalized;
        let names = &self.brain.names;
        let protected = |cue: &str| {
            // A cue is part of a name when the question has it with a
            // neighbouring character that the name has too.
            let chars: Vec<char> = normalized.chars().collect();
            let cue_chars: Vec<char> = cue.chars().collect();
            let n = cue_chars.len();
            (0..chars.len().saturating_sub(n - 1)).any(|i| {
                chars[i..i + n] == cue_chars[..]
                    && ((i > 0 && names.contains(&chars[i - 1..i + n].iter().collect::<String>()))
                        || (i + n < chars.len()
                            && names.contains(&chars[i..=i + n].iter().collect::<String>())))
            })
        };
        let (asked, rest) = aspects::read(&normalized, &protected);
        let (district, without_district) = self.district_in(&rest);
        // The district stays in the text services are looked up by: some
        // items exist only in one district (食品摊贩登记（渝中区）).
        let with_district = strip_connectives(&rest);
        let rest = strip_connectives(&without_district);

        // A pick among the options of the last clarifying question.
        if !topic.options.is_empty()
            && let Some(item) = self.pick(&rest, &topic.options)
        {
            let aspects = if asked.is_empty() {
                topic.aspects.clone()
            } else {
                asked
            };
            let district = district.or(topic.district.clone());
            return self.about(&item, &aspects, district.as_deref(), 1.0);
        }

        if let Some(reply) = self.knowledge_answer(&normalized, topic) {
            return reply;
        }

        let content = self.search.understand(&rest).rewritten;
        let content_len = content.chars().filter(|c| !c.is_whitespace()).count();
        let current = topic
            .item
            .as_deref()
            .and_then(|c| self.brain.catalog.get(c))
            .cloned();
        let short = content_len <= 4;
        let aspects_now = if asked.is_empty() && current.is_some() && short {
            topic.aspects.clone()
        } else {
            asked.clone()
        };
        let district_now = district.clone().or_else(|| {
            (current.is_some() && short)
                .then(|| topic.district.clone())
                .flatten()
        });

        if content_len == 0 {
            return match current {
                Some(item) => {
                    let aspects = if asked.is_empty() && district.is_some() {
                        vec![Aspect::Place]
                    } else if asked.is_empty() {
                        topic.aspects.clone()
                    } else {
                        asked
                    };
                    self.about(&item, &aspects, district_now.as_deref(), 1.0)
                }
                None if !topic.options.is_empty() => {
                    // Still choosing: answer the new aspect for each option.
                    let options: Vec<Fit> = topic
                        .options
                        .iter()
                        .filter_map(|c| self.brain.catalog.get(c).cloned())
                        .map(|item| Fit {
                            item,
                            confidence: 1.0,
                            precision: 0.0,
                        })
                        .collect();
                    let tied: Vec<&Fit> = options.iter().collect();
                    let aspects = if asked.is_empty() {
                        topic.aspects.clone()
                    } else {
                        asked
                    };
                    let district = district.or(topic.district.clone());
                    self.clarify(&tied, &aspects, district.as_deref(), 1.0)
                }
                None => self.which_service(&asked, district_now),
            };
        }

        let mut fits = self.services_for(&with_district);
        let best_alone = fits.first().map(|f| f.confidence).unwrap_or(0.0);
        let follow_up = current.is_some() && (short || starts_with_connective(&normalized));
        if follow_up && let Some(item) = &current {
            // 那换领呢 after 首次申领: a sibling named by what sets it apart.
            if let Some(pick) = self.in_family(item, &content)
                && (short || best_alone < 0.8)
            {
                return self.about(
                    &pick,
                    &aspects_now,
                    district_now.as_deref(),
                    best_alone.max(0.8),
                );
            }
            if short && best_alone < self.threshold {
                // An aspect asked in words we do not know: still about the same item.
                return self.about(item, &aspects_now, district_now.as_deref(), self.threshold);
            }
        }
        let best = best_alone;
        let amount = asks_amount(&normalized);
        // Published articles answer what policies say (how much, who
        // qualifies), not a service's materials, time limit or place.
        let article = self
            .article_for(&rest)
            .filter(|(conf, _)| *conf >= self.threshold)
            .filter(|_| asked.is_empty() || amount);
        if let Some((conf, doc)) = &article
            && (best < self.threshold || (asked.is_empty() && *conf > best + 0.1))
        {
            return self.article_answer(doc, *conf, None);
        }
        if fits.is_empty() || best < self.threshold {
            return self.hand_off(best, topic);
        }
        let mut tied: Vec<&Fit> = fits
            .iter()
            .filter(|f| f.confidence + 0.05 >= best)
            .take(4)
            .collect();
        // One of them named exactly (狗证 → 犬只登记, not 犬只登记注销).
        let exact: Vec<&Fit> = tied
            .iter()
            .copied()
            .filter(|f| f.precision >= 0.99)
            .collect();
        if exact.len() == 1 {
            tied = exact;
        }
        if tied.len() > 1 {
            return self.clarify(&tied, &aspects_now, district_now.as_deref(), best);
        }
        let chosen = tied[0].item.clone();
        fits.retain(|f| f.item.code == chosen.code);
        let district_now = district_now.filter(|d| {
            // A district item answers for its own district.
            self.brain
                .catalog
                .department(d)
                .is_none_or(|dep| !chosen.name.contains(dep.name.as_str()))
        });
        // How much a benefit pays is in its policy, not in the guide's fee.
        if amount
            && is_benefit(&chosen.name)
            && let Some((conf, doc)) = self.article_for(&format!("{} {}", chosen.name, rest))
            && conf >= 0.4
        {
            return self.article_answer(&doc, best, Some(&chosen));
        }
        let mut reply = self.about(&chosen, &aspects_now, district_now.as_deref(), best);
        if let Some((_, doc)) = article {
            reply.sources.push(Source {
                title: doc.title.clone(),
                url: doc.url.clone(),
            });
        }
        reply
    }

    /// The item of `current`'s family (same main item, or same department
    /// and a shared name part) that the words of a follow-up single out.
    fn in_family(&self, current: &ServiceItem, content: &str) -> Option<Arc<ServiceItem>> {
        let words: HashSet<char> = content.chars().filter(|c| is_cjk(*c)).collect();
        let stem = longest_stem(&current.name);
        let family: Vec<&Arc<ServiceItem>> = self
            .brain
            .catalog
            .services
            .iter()
            .filter(|s| {
                s.main_code == current.main_code
                    || (s.department_code == current.department_code
                        && stem.as_ref().is_some_and(|st| s.name.contains(st.as_str())))
            })
            .collect();
        let mut best: Option<(f32, &Arc<ServiceItem>)> = None;
        let mut tie = false;
        for s in family {
            let common = common_part(&s.name, &current.name);
            let own: HashSet<char> = s
                .name
                .chars()
                .filter(|c| is_cjk(*c) && !common.contains(*c))
                .collect();
            if own.is_empty() {
                continue;
            }
            let matched = own.iter().filter(|c| words.contains(c)).count();
            if matched == 0 {
                continue;
            }
            // More of its own characters named wins; then the larger share.
            let score = matched as f32 + matched as f32 / own.len() as f32;
            match best {
                Some((b, _)) if (score - b).abs() < f32::EPSILON => tie = true,
                Some((b, _)) if score < b => {}
                _ => {
                    best = Some((score, s));
                    tie = false;
                }
            }
        }
        match best {
            Some((_, s)) if !tie => Some(Arc::clone(s)),
            _ => None,
        }
    }

    fn small(&self, t: SmallTalk, topic: &Topic) -> Reply {
        let (answer, handoff) = match t {
            SmallTalk::Greeting => (
                "您好，我是智能客服。可以问我办事要带什么材料、几天办好、收不收费、在哪里办、能不能网上办，也可以直接说您遇到的事。",
                false,
            ),
            SmallTalk::Thanks => ("不客气，还有其他问题随时问我。", false),
            SmallTalk::Human => ("好的，正在为您转接人工客服。", true),
            SmallTalk::Personal => (
                "查询您本人的办件进度、记录或账户需要核实身份：办件进度请登录后在「我的办件」查看，也可以转人工客服为您查询。",
                true,
            ),
        };
        Reply {
            kind: if handoff {
                ReplyKind::HandOff
            } else {
                ReplyKind::SmallTalk
            },
            answer: answer.into(),
            sources: Vec::new(),
            confidence: 1.0,
            handoff,
            choices: Vec::new(),
            next: if t == SmallTalk::Personal {
                vec![Source {
                    title: "我的办件".into(),
                    url: "/my/cases".into(),
                }]
            } else {
                Vec::new()
            },
            topic: topic.clone(),
        }
    }

    /// The district a question names, and the question without it.
    fn district_in(&self, text: &str) -> (Option<String>, String) {
        for (forms, d) in &self.brain.districts {
            for f in forms {
                if text.contains(f.as_str()) {
                    return (Some(d.code.clone()), text.replacen(f.as_str(), " ", 1));
                }
            }
        }
        (None, text.to_string())
    }

    fn pick(&self, rest: &str, options: &[String]) -> Option<Arc<ServiceItem>> {
        let items: Vec<Arc<ServiceItem>> = options
            .iter()
            .filter_map(|c| self.brain.catalog.get(c).cloned())
            .collect();
        let t: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        const ORDINALS: &[(&[&str], usize)] = &[
            (&["第一", "1", "一"], 0),
            (&["第二", "2", "二"], 1),
            (&["第三", "3", "三"], 2),
            (&["第四", "4", "四"], 3),
        ];
        if t.chars().count() <= 4 {
            for (forms, i) in ORDINALS {
                if forms.iter().any(|f| t.starts_with(f)) {
                    return items.get(*i).cloned();
                }
            }
        }
        let rewritten = self.search.understand(rest).rewritten;
        let wanted: Vec<[char; 2]> = pairs(&rewritten);
        if wanted.is_empty() {
            return None;
        }
        let score = |s: &ServiceItem| wanted.iter().filter(|p| pairs(&s.name).contains(p)).count();
        let best = items.iter().map(|s| score(s)).max().unwrap_or(0);
        let top: Vec<&Arc<ServiceItem>> = items.iter().filter(|s| score(s) == best).collect();
        (best > 0 && top.len() == 1).then(|| top[0].clone())
    }

    fn knowledge_answer(&self, normalized: &str, topic: &Topic) -> Option<Reply> {
        let asked: HashSet<[char; 2]> = pairs(&self.search.understand(normalized).rewritten)
            .into_iter()
            .collect();
        if asked.is_empty() {
            return None;
        }
        let mut best: Option<(f32, &PreparedEntry)> = None;
        for e in &self.brain.knowledge {
            for form in &e.forms {
                if form.is_empty() {
                    continue;
                }
                let shared = asked.intersection(form).count() as f32;
                // Both ways: the question covers the entry, the entry the question.
                let score = (shared / form.len() as f32).min(shared / asked.len() as f32);
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, e));
                }
            }
        }
        let (score, e) = best?;
        if score < 0.7 {
            return None;
        }
        let mut sources = vec![Source {
            title: e.entry.question.clone(),
            url: format!("/assistant/faq/{}", e.entry.id),
        }];
        sources.extend(e.entry.links.iter().cloned());
        Some(Reply {
            kind: ReplyKind::Answer,
            answer: e.entry.answer.clone(),
            sources,
            confidence: score,
            handoff: false,
            choices: Vec::new(),
            next: Vec::new(),
            topic: topic.clone(),
        })
    }

    /// Published services that fit the words left, best first.
    fn services_for(&self, rest: &str) -> Vec<Fit> {
        let results = match self.search.search(&SearchQuery {
            text: rest.to_string(),
            kind: Some("service".into()),
            limit: 8,
            ..Default::default()
        }) {
            Ok(r) => r,
            Err(_) => return Vec::new(),
        };
        let asked = content_pairs(&results.understood.rewritten);
        if asked.is_empty() {
            return Vec::new();
        }
        let known: Vec<&[char; 2]> = asked
            .iter()
            .filter(|p| self.brain.known.contains(*p))
            .collect();
        if known.is_empty() {
            return Vec::new();
        }
        let understood_share = known.len() as f32 / asked.len() as f32;
        let total: f32 = known.iter().map(|p| self.brain.weight(p)).sum();
        let mut fits: Vec<Fit> = results
            .hits
            .iter()
            .filter_map(|h| self.brain.catalog.get(&h.doc.id).cloned())
            .map(|item| {
                let title: HashSet<[char; 2]> = pairs(&item.name)
                    .into_iter()
                    .chain(pairs(&item.main_name))
                    .collect();
                let mut body: HashSet<[char; 2]> = title.clone();
                body.extend(pairs(&item.department_name));
                for c in &item.conditions {
                    body.extend(pairs(c));
                }
                for m in &item.materials {
                    body.extend(pairs(&m.name));
                }
                let weigh = |set: &HashSet<[char; 2]>| -> f32 {
                    known
                        .iter()
                        .filter(|p| set.contains(**p))
                        .map(|p| self.brain.weight(p))
                        .sum()
                };
                let coverage = 0.75 * weigh(&title) / total + 0.25 * weigh(&body) / total;
                // How much of the item's own name the question covers.
                let name_pairs: HashSet<[char; 2]> = pairs(&item.name).into_iter().collect();
                let precision = if name_pairs.is_empty() {
                    0.0
                } else {
                    name_pairs.iter().filter(|p| known.contains(p)).count() as f32
                        / name_pairs.len() as f32
                };
                Fit {
                    item,
                    confidence: coverage * (0.4 + 0.6 * understood_share),
                    precision,
                }
            })
            .collect();
        // Stable: equal confidence keeps the search's order.
        fits.sort_by(|a, b| {
            b.confidence
                .partial_cmp(&a.confidence)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        fits
    }

    /// The published policy or interpretation that fits, with confidence.
    fn article_for(&self, rest: &str) -> Option<(f32, Arc<zhiban_search::SearchDoc>)> {
        let results = self
            .search
            .search(&SearchQuery {
                text: rest.to_string(),
                kind: Some("article".into()),
                limit: 5,
                ..Default::default()
            })
            .ok()?;
        let asked = content_pairs(&results.understood.rewritten);
        if asked.is_empty() {
            return None;
        }
        // Policies, their interpretations and notices say what applies;
        // news and police reports do not answer questions.
        let hit = results.hits.iter().find(|h| {
            ["政策文件", "政策解读", "通知公告", "便民公告"]
                .iter()
                .any(|k| h.doc.body.starts_with(k))
        })?;
        let title: HashSet<[char; 2]> = pairs(&hit.doc.title).into_iter().collect();
        let in_title = asked.iter().filter(|p| title.contains(*p)).count() as f32;
        Some((in_title / asked.len() as f32, Arc::clone(&hit.doc)))
    }

    /// A policy or interpretation as the answer (with the service it
    /// governs, when the question was about one, kept as the topic).
    fn article_answer(
        &self,
        doc: &zhiban_search::SearchDoc,
        confidence: f32,
        item: Option<&Arc<ServiceItem>>,
    ) -> Reply {
        let mut answer = format!("《{}》", doc.title);
        if !doc.date.is_empty() {
            answer.push_str(&format!("（{} 发布）", doc.date));
        }
        if !doc.summary.trim().is_empty() {
            answer.push_str(&format!("：{}", doc.summary.trim()));
        }
        answer.push_str("\n详细内容请看原文。");
        let mut sources = vec![Source {
            title: doc.title.clone(),
            url: doc.url.clone(),
        }];
        if let Some(item) = item {
            sources.push(guide(item));
        }
        Reply {
            kind: ReplyKind::Answer,
            answer,
            sources,
            confidence,
            handoff: false,
            choices: Vec::new(),
            next: Vec::new(),
            topic: Topic {
                item: item.map(|i| i.code.clone()),
                ..Topic::default()
            },
        }
    }

    /// The answer about one item: the aspects asked, or an overview.
    fn about(
        &self,
        item: &Arc<ServiceItem>,
        aspects: &[Aspect],
        district: Option<&str>,
        confidence: f32,
    ) -> Reply {
        let mut parts: Vec<String> = Vec::new();
        let district_dept = district.and_then(|d| self.brain.catalog.department(d));
        for a in aspects {
            if *a == Aspect::Place
                && let Some(d) = district_dept
            {
                parts.push(compose::district_place(item, d, &self.units_in(d, item)));
            } else {
                parts.push(compose::aspect_text(item, *a));
            }
        }
        if parts.is_empty() {
            match district_dept {
                Some(d) => parts.push(compose::district_place(item, d, &self.units_in(d, item))),
                None => parts.push(compose::overview(item)),
            }
        }
        let mut sources = vec![guide(item)];
        let mut choices = Vec::new();
        if item.online {
            sources.push(Source {
                title: format!("在线申请：{}", item.name),
                url: format!("/apply/{}", item.code),
            });
        }
        for a in [
            Aspect::Materials,
            Aspect::TimeLimit,
            Aspect::Fees,
            Aspect::Place,
        ] {
            if !aspects.contains(&a) && choices.len() < 3 {
                choices.push(Choice {
                    label: follow_label(a).into(),
                    ask: follow_label(a).into(),
                });
            }
        }
        Reply {
            kind: ReplyKind::Answer,
            answer: parts.join("\n"),
            sources,
            confidence,
            handoff: false,
            choices,
            next: Vec::new(),
            topic: Topic {
                item: Some(item.code.clone()),
                aspects: aspects.to_vec(),
                district: district.map(str::to_string),
                options: Vec::new(),
            },
        }
    }

    /// Units of a district that do this item's department's work (same
    /// line of the org tree), else the district's service centre.
    fn units_in<'b>(&'b self, district: &Department, item: &ServiceItem) -> Vec<&'b Department> {
        let line = item
            .department_code
            .split('-')
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let in_district = |d: &&Department| d.code.starts_with(&format!("{}-", district.code));
        let same_line: Vec<&Department> = self
            .brain
            .catalog
            .departments
            .iter()
            .filter(in_district)
            .filter(|d| !line.is_empty() && d.code.split('-').nth(1) == Some(line.as_str()))
            .collect();
        if !same_line.is_empty() {
            return same_line;
        }
        self.brain
            .catalog
            .departments
            .iter()
            .filter(in_district)
            .filter(|d| d.code.ends_with("-ZWFW"))
            .collect()
    }

    fn clarify(
        &self,
        tied: &[&Fit],
        aspects: &[Aspect],
        district: Option<&str>,
        confidence: f32,
    ) -> Reply {
        // When every candidate answers the aspects alike (same place, same
        // hours), there is nothing to ask.
        if !aspects.is_empty() {
            let same = tied.windows(2).all(|w| {
                aspects.iter().all(|a| {
                    compose::aspect_text(&w[0].item, *a).replace(&w[0].item.name, "")
                        == compose::aspect_text(&w[1].item, *a).replace(&w[1].item.name, "")
                })
            });
            if same {
                let mut r = self.about(&tied[0].item, aspects, district, confidence);
                for f in &tied[1..] {
                    r.sources.push(guide(&f.item));
                }
                return r;
            }
        }
        let mut answer = String::from("您要办理的是哪一项？");
        if !aspects.is_empty() {
            answer = String::from("这几项的规定不同，请看您要办的是哪一项：");
            for f in tied {
                for a in aspects {
                    answer.push('\n');
                    answer.push_str(&compose::aspect_text(&f.item, *a));
                }
            }
        } else {
            for (i, f) in tied.iter().enumerate() {
                answer.push_str(&format!("\n{}. {}", i + 1, f.item.name));
            }
        }
        Reply {
            kind: ReplyKind::Clarify,
            answer,
            sources: tied.iter().map(|f| guide(&f.item)).collect(),
            confidence,
            handoff: false,
            choices: tied
                .iter()
                .map(|f| Choice {
                    label: f.item.name.clone(),
                    ask: f.item.name.clone(),
                })
                .collect(),
            next: Vec::new(),
            topic: Topic {
                item: None,
                aspects: aspects.to_vec(),
                district: district.map(str::to_string),
                options: tied.iter().map(|f| f.item.code.clone()).collect(),
            },
        }
    }

    fn which_service(&self, asked: &[Aspect], district: Option<String>) -> Reply {
        Reply {
            kind: ReplyKind::Clarify,
            answer: "请问您要办理的是哪项业务？比如“居民身份证换领”“住房公积金提取”。".into(),
            sources: Vec::new(),
            confidence: 0.0,
            handoff: false,
            choices: Vec::new(),
            next: Vec::new(),
            topic: Topic {
                item: None,
                aspects: asked.to_vec(),
                district,
                options: Vec::new(),
            },
        }
    }

    fn hand_off(&self, confidence: f32, topic: &Topic) -> Reply {
        Reply {
            kind: ReplyKind::HandOff,
            answer: "这个问题我还没有把握答准。可以转人工客服为您解答；不在服务时间的，您的问题会转为咨询留言，下一个工作日答复。".into(),
            sources: Vec::new(),
            confidence,
            handoff: true,
            choices: Vec::new(),
            next: Vec::new(),
            topic: topic.clone(),
        }
    }
}
