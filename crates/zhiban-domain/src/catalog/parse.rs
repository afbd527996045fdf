//! Turning raw text (an admin form, a CSV or XLSX row) into a valid
//! [`ServiceItem`]. Every problem is reported at once, per field, so a
//! person can fix them all in one go.

use std::collections::HashMap;

use super::*;
use crate::FieldError;

/// The catalog's fields in import/export order: (key, official Chinese header).
/// One table serves the file headers, the admin form labels and error messages.
pub const COLUMNS: &[(&str, &str)] = &[
    ("main_code", "主项编码"),
    ("main_name", "主项名称"),
    ("code", "事项编码"),
    ("name", "事项名称"),
    ("name_en", "英文名称"),
    ("aliases", "别名俗称"),
    ("handling_kind", "办理项类型"),
    ("item_type", "事项类型"),
    ("department", "主管部门编码"),
    ("implementing_body", "实施主体"),
    ("legal_basis", "设定依据"),
    ("audience", "服务对象"),
    ("life_events", "人生事件"),
    ("police_domain", "警种业务"),
    ("conditions", "受理条件"),
    ("materials", "申请材料"),
    ("steps", "办理流程"),
    ("legal_limit_days", "法定时限"),
    ("promised_limit_days", "承诺时限"),
    ("fees", "收费标准"),
    ("fee_basis", "收费依据"),
    ("place", "办理地点"),
    ("hours", "办理时间"),
    ("visits", "到现场次数"),
    ("online", "网上办理"),
    ("enquiry_phone", "咨询电话"),
    ("complaint_phone", "监督投诉电话"),
    ("high_frequency", "高频服务"),
    ("realname_level", "实名等级"),
    ("status", "状态"),
];

pub fn field_label_zh(key: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or(match key {
            "file" => "文件",
            "row" => "行",
            _ => "字段",
        })
}

/// Raw text of every field, keyed as in [`COLUMNS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ServiceInput {
    pub main_code: String,
    pub main_name: String,
    pub code: String,
    pub name: String,
    /// English name (optional).
    #[serde(default)]
    pub name_en: String,
    /// Other names, one per line or separated by 、 | ；(optional).
    #[serde(default)]
    pub aliases: String,
    pub handling_kind: String,
    pub item_type: String,
    pub department: String,
    pub implementing_body: String,
    pub legal_basis: String,
    pub audience: String,
    pub life_events: String,
    pub police_domain: String,
    pub conditions: String,
    pub materials: String,
    pub steps: String,
    pub legal_limit_days: String,
    pub promised_limit_days: String,
    pub fees: String,
    pub fee_basis: String,
    pub place: String,
    pub hours: String,
    pub visits: String,
    pub online: String,
    pub enquiry_phone: String,
    pub complaint_phone: String,
    pub high_frequency: String,
    /// 1, 2 or 3 (also "L2"); empty means 2 (实名认证).
    #[serde(default)]
    pub realname_level: String,
    pub status: String,
}

const SHORT: usize = 200;
const LONG: usize = 10_000;

impl ServiceInput {
    pub fn get(&self, key: &str) -> &str {
        match key {
            "main_code" => &self.main_code,
            "main_name" => &self.main_name,
            "code" => &self.code,
            "name" => &self.name,
            "name_en" => &self.name_en,
            "aliases" => &self.aliases,
            "handling_kind" => &self.handling_kind,
            "item_type" => &self.item_type,
            "department" => &self.department,
            "implementing_body" => &self.implementing_body,
            "legal_basis" => &self.legal_basis,
            "audience" => &self.audience,
            "life_events" => &self.life_events,
            "police_domain" => &self.police_domain,
            "conditions" => &self.conditions,
            "materials" => &self.materials,
            "steps" => &self.steps,
            "legal_limit_days" => &self.legal_limit_days,
            "promised_limit_days" => &self.promised_limit_days,
            "fees" => &self.fees,
            "fee_basis" => &self.fee_basis,
            "place" => &self.place,
            "hours" => &self.hours,
            "visits" => &self.visits,
            "online" => &self.online,
            "enquiry_phone" => &self.enquiry_phone,
            "complaint_phone" => &self.complaint_phone,
            "high_frequency" => &self.high_frequency,
            "realname_level" => &self.realname_level,
            "status" => &self.status,
            _ => "",
        }
    }

    pub fn set(&mut self, key: &str, value: String) {
        let slot = match key {
            "main_code" => &mut self.main_code,
            "main_name" => &mut self.main_name,
            "code" => &mut self.code,
            "name" => &mut self.name,
            "name_en" => &mut self.name_en,
            "aliases" => &mut self.aliases,
            "handling_kind" => &mut self.handling_kind,
            "item_type" => &mut self.item_type,
            "department" => &mut self.department,
            "implementing_body" => &mut self.implementing_body,
            "legal_basis" => &mut self.legal_basis,
            "audience" => &mut self.audience,
            "life_events" => &mut self.life_events,
            "police_domain" => &mut self.police_domain,
            "conditions" => &mut self.conditions,
            "materials" => &mut self.materials,
            "steps" => &mut self.steps,
            "legal_limit_days" => &mut self.legal_limit_days,
            "promised_limit_days" => &mut self.promised_limit_days,
            "fees" => &mut self.fees,
            "fee_basis" => &mut self.fee_basis,
            "place" => &mut self.place,
            "hours" => &mut self.hours,
            "visits" => &mut self.visits,
            "online" => &mut self.online,
            "enquiry_phone" => &mut self.enquiry_phone,
            "complaint_phone" => &mut self.complaint_phone,
            "high_frequency" => &mut self.high_frequency,
            "realname_level" => &mut self.realname_level,
            "status" => &mut self.status,
            _ => return,
        };
        *slot = value;
    }

    /// The raw form of an existing item, for editing and export.
    pub fn from_item(item: &ServiceItem) -> Self {
        ServiceInput {
            main_code: item.main_code.clone(),
            main_name: item.main_name.clone(),
            code: item.code.clone(),
            name: item.name.clone(),
            name_en: item.name_en.clone(),
            aliases: item.aliases.join("\n"),
            handling_kind: item.handling_kind.label().into(),
            item_type: item.item_type.label().into(),
            department: item.department_code.clone(),
            implementing_body: item.implementing_body.clone(),
            legal_basis: item.legal_basis.clone(),
            audience: item.audience.label().into(),
            life_events: item
                .life_events
                .iter()
                .map(|e| e.label())
                .collect::<Vec<_>>()
                .join("、"),
            police_domain: item.police_domain.map(|d| d.label()).unwrap_or("").into(),
            conditions: item.conditions.join("\n"),
            materials: format_materials(&item.materials),
            steps: format_steps(&item.steps),
            legal_limit_days: item.legal_limit_days.to_string(),
            promised_limit_days: item.promised_limit_days.to_string(),
            fees: item.fees.clone(),
            fee_basis: item.fee_basis.clone(),
            place: item.place.clone(),
            hours: item.hours.clone(),
            visits: item.visits.to_string(),
            online: yes_no(item.online).into(),
            enquiry_phone: item.enquiry_phone.clone(),
            complaint_phone: item.complaint_phone.clone(),
            high_frequency: yes_no(item.high_frequency).into(),
            realname_level: format!("L{}", item.realname_level),
            status: item.status.label().into(),
        }
    }

    /// Checks every field. `departments` maps department code → name.
    pub fn validate(
        &self,
        departments: &HashMap<String, String>,
    ) -> Result<ServiceItem, Vec<FieldError>> {
        let mut errs = Vec::new();
        let code = opaque_code(&mut errs, "code", &self.code);
        let main_code = opaque_code(&mut errs, "main_code", &self.main_code);
        let main_name = text(&mut errs, "main_name", &self.main_name, SHORT, true);
        let name = text(&mut errs, "name", &self.name, SHORT, true);
        let name_en = text(&mut errs, "name_en", &self.name_en, SHORT, false);
        let aliases = alias_list(&mut errs, &self.aliases);
        let handling_kind = choice(&mut errs, "handling_kind", &self.handling_kind, |s| {
            HandlingKind::from_label(s).or(HandlingKind::from_slug(s))
        });
        let item_type = choice(&mut errs, "item_type", &self.item_type, |s| {
            ItemType::from_label(s).or(ItemType::from_slug(s))
        });
        let audience = choice(&mut errs, "audience", &self.audience, |s| {
            Audience::from_label(&s.replace([',', '，', '/'], "、")).or(Audience::from_slug(s))
        });
        let department_code = self.department.trim().to_string();
        let department_name = if department_code.is_empty() {
            errs.push(FieldError::new("department", "required", ""));
            String::new()
        } else if let Some(n) = departments.get(&department_code) {
            n.clone()
        } else {
            errs.push(FieldError::new(
                "department",
                "unknown_department",
                department_code.clone(),
            ));
            String::new()
        };
        let implementing_body = text(
            &mut errs,
            "implementing_body",
            &self.implementing_body,
            SHORT,
            true,
        );
        let legal_basis = text(&mut errs, "legal_basis", &self.legal_basis, LONG, true);
        let mut life_events = Vec::new();
        for part in split_list(&self.life_events) {
            match LifeEvent::from_label(part).or(LifeEvent::from_slug(part)) {
                Some(e) if !life_events.contains(&e) => life_events.push(e),
                Some(_) => {}
                None => errs.push(FieldError::new("life_events", "invalid_choice", part)),
            }
        }
        let police_domain = match self.police_domain.trim() {
            "" => None,
            s => match PoliceDomain::from_label(s).or(PoliceDomain::from_slug(s)) {
                Some(d) => Some(d),
                None => {
                    errs.push(FieldError::new("police_domain", "invalid_choice", s));
                    None
                }
            },
        };
        let conditions: Vec<String> = lines(&self.conditions).map(str::to_string).collect();
        if conditions.is_empty() {
            errs.push(FieldError::new("conditions", "required", ""));
        }
        let materials = parse_materials(&mut errs, &self.materials);
        let steps = parse_steps(&mut errs, &self.steps);
        let errors_before = errs.len();
        let legal_limit_days = number(&mut errs, "legal_limit_days", &self.legal_limit_days);
        let promised_limit_days =
            number(&mut errs, "promised_limit_days", &self.promised_limit_days);
        // Compare only two real numbers; a typo already has its own message.
        if errs.len() == errors_before && promised_limit_days > legal_limit_days {
            errs.push(FieldError::new(
                "promised_limit_days",
                "promised_exceeds_legal",
                format!("{promised_limit_days} > {legal_limit_days}"),
            ));
        }
        let fees = match self.fees.trim() {
            "" => "不收费".to_string(),
            s => text(&mut errs, "fees", s, LONG, false),
        };
        let fee_basis = text(&mut errs, "fee_basis", &self.fee_basis, LONG, false);
        let place = text(&mut errs, "place", &self.place, LONG, true);
        let hours = text(&mut errs, "hours", &self.hours, SHORT, true);
        let visits = number(&mut errs, "visits", &self.visits);
        let online = boolean(&mut errs, "online", &self.online);
        let enquiry_phone = text(&mut errs, "enquiry_phone", &self.enquiry_phone, 50, true);
        let complaint_phone = text(
            &mut errs,
            "complaint_phone",
            &self.complaint_phone,
            50,
            true,
        );
        let high_frequency = if self.high_frequency.trim().is_empty() {
            false
        } else {
            boolean(&mut errs, "high_frequency", &self.high_frequency)
        };
        let realname_level = match self.realname_level.trim().trim_start_matches(['L', 'l']) {
            "" => DEFAULT_REALNAME_LEVEL,
            "1" => 1,
            "2" => 2,
            "3" => 3,
            _ => {
                errs.push(FieldError::new(
                    "realname_level",
                    "invalid_choice",
                    self.realname_level.trim(),
                ));
                DEFAULT_REALNAME_LEVEL
            }
        };
        let status = if self.status.trim().is_empty() {
            Status::Draft
        } else {
            choice(&mut errs, "status", &self.status, |s| {
                Status::from_label(s).or(Status::from_slug(s))
            })
            .unwrap_or(Status::Draft)
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        // Every `None` above pushed an error, so these are all present here.
        let (Some(handling_kind), Some(item_type), Some(audience)) =
            (handling_kind, item_type, audience)
        else {
            return Err(vec![FieldError::new("row", "invalid", "")]);
        };
        Ok(ServiceItem {
            code,
            main_code,
            main_name,
            name,
            name_en,
            aliases,
            handling_kind,
            item_type,
            department_code,
            department_name,
            implementing_body,
            legal_basis,
            audience,
            life_events,
            police_domain,
            conditions,
            materials,
            steps,
            legal_limit_days,
            promised_limit_days,
            fees,
            fee_basis,
            place,
            hours,
            visits,
            online,
            enquiry_phone,
            complaint_phone,
            high_frequency,
            realname_level,
            status,
            version: 0,
            updated_at: String::new(),
            updated_by: String::new(),
        })
    }
}

/// Most other names an item may carry, and how long each may be.
const MAX_ALIASES: usize = 30;
const MAX_ALIAS: usize = 60;

/// Other names: one per line or separated by 、 | ； ;, each kept once.
fn alias_list(errs: &mut Vec<FieldError>, s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in s
        .split(['\n', '、', '|', '；', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        if a.chars().count() > MAX_ALIAS {
            errs.push(FieldError::new(
                "aliases",
                "too_long",
                format!("{a} (≤ {MAX_ALIAS})"),
            ));
        } else if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    if out.len() > MAX_ALIASES {
        errs.push(FieldError::new(
            "aliases",
            "too_long",
            format!("≤ {MAX_ALIASES}"),
        ));
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(['、', ',', '，', ';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

fn text(
    errs: &mut Vec<FieldError>,
    field: &'static str,
    s: &str,
    max: usize,
    required: bool,
) -> String {
    let s = s.trim();
    if required && s.is_empty() {
        errs.push(FieldError::new(field, "required", ""));
    } else if s.chars().count() > max {
        errs.push(FieldError::new(field, "too_long", format!("≤ {max}")));
    }
    s.to_string()
}

fn opaque_code(errs: &mut Vec<FieldError>, field: &'static str, s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        errs.push(FieldError::new(field, "required", ""));
    } else if s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        errs.push(FieldError::new(field, "invalid_code", s));
    }
    s.to_string()
}

fn choice<T>(
    errs: &mut Vec<FieldError>,
    field: &'static str,
    s: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        errs.push(FieldError::new(field, "required", ""));
        return None;
    }
    let v = parse(s);
    if v.is_none() {
        errs.push(FieldError::new(field, "invalid_choice", s));
    }
    v
}

fn number(errs: &mut Vec<FieldError>, field: &'static str, s: &str) -> u32 {
    let s = s.trim();
    // Spreadsheets hand whole numbers back as "15.0".
    let s = s.strip_suffix(".0").unwrap_or(s);
    match s.parse::<u32>() {
        Ok(n) if n <= 3650 => n,
        _ => {
            errs.push(FieldError::new(
                field,
                if s.is_empty() {
                    "required"
                } else {
                    "invalid_number"
                },
                s,
            ));
            0
        }
    }
}

fn boolean(errs: &mut Vec<FieldError>, field: &'static str, s: &str) -> bool {
    match s.trim() {
        "是" | "true" | "1" | "yes" | "on" => true,
        "否" | "false" | "0" | "no" | "" => false,
        other => {
            errs.push(FieldError::new(field, "invalid_choice", other));
            false
        }
    }
}

/// `名称|形式|份数|电子证照替代|备注`, one material a line.
fn parse_materials(errs: &mut Vec<FieldError>, s: &str) -> Vec<Material> {
    let mut out = Vec::new();
    for line in lines(s) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let ok = (4..=5).contains(&parts.len())
            && !parts[0].is_empty()
            && MATERIAL_FORMS.contains(&parts[1])
            && parts[2].parse::<u32>().is_ok_and(|n| (1..=99).contains(&n))
            && matches!(parts[3], "是" | "否");
        if !ok {
            errs.push(FieldError::new("materials", "invalid_material", line));
            continue;
        }
        out.push(Material {
            name: parts[0].to_string(),
            form: parts[1].to_string(),
            count: parts[2].parse().unwrap_or(1),
            elicense_ok: parts[3] == "是",
            note: parts.get(4).copied().unwrap_or("").to_string(),
        });
    }
    if out.is_empty() && !errs.iter().any(|e| e.field == "materials") {
        errs.push(FieldError::new("materials", "required", ""));
    }
    out
}

/// `环节|说明`, one step a line.
fn parse_steps(errs: &mut Vec<FieldError>, s: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for line in lines(s) {
        let (name, detail) = line.split_once('|').unwrap_or((line, ""));
        if name.trim().is_empty() || detail.contains('|') {
            errs.push(FieldError::new("steps", "invalid_step", line));
            continue;
        }
        out.push(Step {
            name: name.trim().to_string(),
            detail: detail.trim().to_string(),
        });
    }
    if out.is_empty() && !errs.iter().any(|e| e.field == "steps") {
        errs.push(FieldError::new("steps", "required", ""));
    }
    out
}

pub fn format_materials(ms: &[Material]) -> String {
    ms.iter()
        .map(|m| {
            format!(
                "{}|{}|{}|{}|{}",
                m.name,
                m.form,
                m.count,
                yes_no(m.elicense_ok),
                m.note
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn format_steps(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| format!("{}|{}", s.name, s.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn valid_input() -> ServiceInput {
        ServiceInput {
            main_code: "T-0001".into(),
            main_name: "居民身份证办理".into(),
            code: "T-0001-03".into(),
            name: "居民身份证补领".into(),
            name_en: String::new(),
            aliases: String::new(),
            handling_kind: "补领".into(),
            item_type: "行政确认".into(),
            department: "GA".into(),
            implementing_body: "渝州市公安局".into(),
            legal_basis: "《中华人民共和国居民身份证法》第十一条".into(),
            audience: "个人".into(),
            life_events: "出行".into(),
            police_domain: "户政".into(),
            conditions: "居民身份证丢失的".into(),
            materials: "居民户口簿|原件|1|是|核验后退还".into(),
            steps: "申请|窗口提交\n受理|当场受理".into(),
            legal_limit_days: "60".into(),
            promised_limit_days: "15".into(),
            fees: "工本费20元/证".into(),
            fee_basis: "发改价格〔2017〕1186号".into(),
            place: "户籍窗口".into(),
            hours: "工作日".into(),
            visits: "1".into(),
            online: "是".into(),
            enquiry_phone: "023-63961234".into(),
            complaint_phone: "12345".into(),
            high_frequency: "是".into(),
            realname_level: String::new(),
            status: "已发布".into(),
        }
    }

    pub fn depts() -> HashMap<String, String> {
        HashMap::from([("GA".to_string(), "渝州市公安局".to_string())])
    }

    #[test]
    fn a_complete_guide_is_accepted_with_every_element() {
        let item = valid_input().validate(&depts()).expect("valid");
        assert_eq!(item.department_name, "渝州市公安局");
        assert_eq!(item.materials[0].note, "核验后退还");
        assert!(item.materials[0].elicense_ok);
        assert_eq!(item.steps.len(), 2);
        assert_eq!(item.police_domain, Some(PoliceDomain::Household));
        assert_eq!(item.days_saved(), 45);
    }

    #[test]
    fn the_real_name_level_defaults_to_id_verified_and_accepts_l1_to_l3() {
        let mut input = valid_input();
        assert_eq!(input.validate(&depts()).map(|i| i.realname_level), Ok(2));
        input.realname_level = "L3".into();
        assert_eq!(input.validate(&depts()).map(|i| i.realname_level), Ok(3));
        input.realname_level = "1".into();
        let item = input.validate(&depts()).expect("valid");
        assert_eq!(ServiceInput::from_item(&item).realname_level, "L1");
        input.realname_level = "L4".into();
        let errs = input.validate(&depts()).expect_err("invalid");
        assert_eq!(errs[0].field, "realname_level");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut input = valid_input();
        input.code = "有 空格".into();
        input.department = "NOPE".into();
        input.promised_limit_days = "70".into();
        input.materials = "户口簿|扫描件|1|是".into();
        input.audience = "".into();
        let errs = input.validate(&depts()).expect_err("invalid");
        let codes: Vec<_> = errs.iter().map(|e| (e.field, e.code)).collect();
        assert!(codes.contains(&("code", "invalid_code")));
        assert!(codes.contains(&("department", "unknown_department")));
        assert!(codes.contains(&("promised_limit_days", "promised_exceeds_legal")));
        assert!(codes.contains(&("materials", "invalid_material")));
        assert!(codes.contains(&("audience", "required")));
    }

    #[test]
    fn a_limit_that_is_not_a_number_gets_one_message_not_two() {
        let mut input = valid_input();
        input.legal_limit_days = "六十".into();
        let errs = input.validate(&depts()).expect_err("invalid");
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (errs[0].field, errs[0].code),
            ("legal_limit_days", "invalid_number")
        );
    }

    #[test]
    fn editing_text_round_trips_through_the_item() {
        let item = valid_input().validate(&depts()).expect("valid");
        let again = ServiceInput::from_item(&item)
            .validate(&depts())
            .expect("valid again");
        assert_eq!(item, again);
    }

    #[test]
    fn other_names_are_split_kept_once_and_limited() {
        let mut input = valid_input();
        input.name_en = " Resident ID Card Replacement ".into();
        input.aliases = "补身份证、身份证丢了\n lost id card |补身份证；".into();
        let item = input.validate(&depts()).expect("valid");
        assert_eq!(item.name_en, "Resident ID Card Replacement");
        assert_eq!(item.aliases, vec!["补身份证", "身份证丢了", "lost id card"]);
        // They survive editing and export.
        let again = ServiceInput::from_item(&item)
            .validate(&depts())
            .expect("again");
        assert_eq!(again.aliases, item.aliases);
        input.aliases = "长".repeat(61);
        let errs = input.validate(&depts()).expect_err("too long");
        assert_eq!(errs[0].field, "aliases");
        input.aliases = (0..31)
            .map(|i| format!("别名{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            input.validate(&depts()).expect_err("too many")[0].field,
            "aliases"
        );
    }
}
