use super::*;

fn schema(json: &str) -> FormSchema {
    FormSchema::from_json(json).unwrap_or_else(|e| panic!("{e:?}"))
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn codes(errs: &[FormError]) -> Vec<(String, &'static str)> {
    errs.iter().map(|e| (e.key.clone(), e.code)).collect()
}

const REISSUE: &str = r#"{
  "title": "居民身份证补领",
  "pages": [
    {"title": "申请人", "fields": [
      {"key": "name", "label": "姓名", "kind": "text", "required": true, "prefill": "name"},
      {"key": "id", "label": "公民身份号码", "kind": "id_number", "required": true, "prefill": "id_number"},
      {"key": "age", "label": "年龄", "kind": "number", "compute": {"age_from_id": "id"}},
      {"key": "phone", "label": "手机", "kind": "phone", "required": true, "prefill": "phone"},
      {"key": "home", "label": "住址", "kind": "address", "required": true}
    ]},
    {"title": "补领原因", "fields": [
      {"key": "why", "label": "原因", "kind": "choice", "required": true, "options": ["遗失", "被盗", "损坏"]},
      {"key": "police_no", "label": "报案回执号", "kind": "text", "required": true,
       "show_if": {"field": "why", "equals": ["被盗"]}},
      {"key": "fee", "label": "工本费", "kind": "money", "min": 0, "max": 100},
      {"key": "post", "label": "邮费", "kind": "money"},
      {"key": "total", "label": "合计", "kind": "money", "compute": {"sum": ["fee", "post"]}},
      {"key": "lost_on", "label": "遗失日期", "kind": "date"},
      {"key": "family", "label": "同住人", "kind": "group", "max_items": 3, "fields": [
        {"key": "name", "label": "姓名", "kind": "text", "required": true},
        {"key": "id", "label": "身份证号", "kind": "id_number"}
      ]},
      {"key": "photo", "label": "照片", "kind": "file", "required": true}
    ]}
  ]
}"#;

#[test]
fn a_complete_application_validates() {
    let s = schema(REISSUE);
    let mut a = answers(&[
        ("why", "遗失"),
        ("home.province", "重庆市"),
        ("home.city", "重庆市"),
        ("home.district", "渝中区"),
        ("home.detail", "解放碑街道民族路 1 号"),
        ("fee", "20"),
        ("post", "12.5"),
        ("family.#", "1"),
        ("family.0.name", "张三"),
    ]);
    let profile = Profile {
        name: "李四".into(),
        id_number: "11010519491231002X".into(),
        phone: "13800138000".into(),
        verified: true,
        today: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
        companies: Vec::new(),
    };
    s.normalize(&mut a, &profile);
    let files: BTreeMap<String, usize> = [("photo".to_string(), 1)].into();
    assert_eq!(codes(&s.validate(None, &a, &files)), vec![]);
    assert_eq!(a.get("name").map(String::as_str), Some("李四"));
    assert_eq!(a.get("total").map(String::as_str), Some("32.50"));
    assert!(
        a.get("age")
            .is_some_and(|v| v.parse::<i32>().is_ok_and(|n| n >= 76))
    );
}

#[test]
fn every_missing_or_wrong_answer_is_reported_by_input_name() {
    let s = schema(REISSUE);
    let a = answers(&[
        ("id", "110105194912310021"),
        ("phone", "1380013800"),
        ("home.province", "重庆市"),
        ("why", "借给别人"),
        ("fee", "200"),
        ("post", "1.234"),
        ("lost_on", "2026-13-01"),
    ]);
    let got = codes(&s.validate(None, &a, &BTreeMap::new()));
    for want in [
        ("name", "required"),
        ("id", "invalid_id_number"),
        ("phone", "invalid_phone"),
        ("home.city", "required"),
        ("home.detail", "required"),
        ("why", "invalid_choice"),
        ("fee", "out_of_range"),
        ("post", "invalid_money"),
        ("lost_on", "invalid_date"),
        ("photo", "file_required"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1)),
            "{want:?} in {got:?}"
        );
    }
}

#[test]
fn a_hidden_field_is_neither_required_nor_kept() {
    let s = schema(REISSUE);
    let mut lost = answers(&[("why", "遗失"), ("police_no", "left over")]);
    let page = s.validate(Some(1), &lost, &[("photo".to_string(), 1)].into());
    assert!(!codes(&page).iter().any(|(k, _)| k == "police_no"));
    s.normalize(&mut lost, &Profile::default());
    assert!(!lost.contains_key("police_no"));

    let stolen = answers(&[("why", "被盗")]);
    let page = s.validate(Some(1), &stolen, &[("photo".to_string(), 1)].into());
    assert!(codes(&page).contains(&("police_no".to_string(), "required")));
}

#[test]
fn repeating_rows_are_checked_row_by_row_and_limited() {
    let s = schema(REISSUE);
    let a = answers(&[
        ("why", "遗失"),
        ("family.#", "2"),
        ("family.0.name", "王五"),
        ("family.1.id", "123"),
    ]);
    let got = codes(&s.validate(Some(1), &a, &[("photo".to_string(), 1)].into()));
    assert!(got.contains(&("family.1.name".to_string(), "required")));
    assert!(got.contains(&("family.1.id".to_string(), "invalid_id_number")));
    assert!(!got.iter().any(|(k, _)| k.starts_with("family.0")));

    let many = answers(&[("why", "遗失"), ("family.#", "4")]);
    let got = codes(&s.validate(Some(1), &many, &[("photo".to_string(), 1)].into()));
    assert!(got.contains(&("family".to_string(), "too_many_rows")));
}

#[test]
fn verified_identity_is_filled_in_and_cannot_be_changed() {
    let s = schema(REISSUE);
    let verified = Profile {
        name: "李四".into(),
        id_number: "11010519491231002X".into(),
        phone: "13800138000".into(),
        verified: true,
        today: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
        companies: Vec::new(),
    };
    let mut a = answers(&[("name", "冒名"), ("phone", "13900139000")]);
    s.normalize(&mut a, &verified);
    assert_eq!(a.get("name").map(String::as_str), Some("李四"));
    // A contact number may differ from the account's.
    assert_eq!(a.get("phone").map(String::as_str), Some("13900139000"));

    let unverified = Profile {
        verified: false,
        ..verified
    };
    let mut b = answers(&[("name", "李四四")]);
    s.normalize(&mut b, &unverified);
    assert_eq!(b.get("name").map(String::as_str), Some("李四四"));
}

#[test]
fn the_editor_refuses_broken_schemas_with_reasons() {
    let broken = r#"{"title": "", "pages": [{"title": "p", "fields": [
        {"key": "Bad Key", "label": "x", "kind": "text"},
        {"key": "a", "label": "", "kind": "choice"},
        {"key": "a", "label": "dup", "kind": "text", "show_if": {"field": "later", "equals": ["1"]}},
        {"key": "later", "label": "l", "kind": "number", "min": 5, "max": 1},
        {"key": "s", "label": "s", "kind": "money", "compute": {"sum": ["nope"]}},
        {"key": "g", "label": "g", "kind": "group", "fields": [{"key": "f", "label": "f", "kind": "file"}]}
    ]}]}"#;
    let errs = FormSchema::from_json(broken).err().unwrap_or_default();
    let got: Vec<&str> = errs.iter().map(|e| e.code).collect();
    for code in [
        "schema_title",
        "schema_key",
        "schema_label",
        "schema_options",
        "schema_duplicate",
        "schema_show_if",
        "schema_range",
        "schema_compute",
        "schema_nested",
    ] {
        assert!(got.contains(&code), "{code} in {got:?}");
    }
    let syntax = FormSchema::from_json("{not json").err().unwrap_or_default();
    assert_eq!(syntax.first().map(|e| e.code), Some("schema_syntax"));
}

#[test]
fn money_is_read_as_yuan_with_at_most_two_decimals() {
    assert_eq!(parse_money("1,200.5"), Some(120_050));
    assert_eq!(parse_money("¥3"), Some(300));
    assert_eq!(parse_money("0.07"), Some(7));
    assert_eq!(parse_money("1.234"), None);
    assert_eq!(parse_money("-5"), None);
    assert_eq!(parse_money("abc"), None);
}

#[test]
fn age_counts_whole_years_to_the_birthday() {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
    assert_eq!(age_on("11010519491231002X", day("2026-12-30")), Some(76));
    assert_eq!(age_on("11010519491231002X", day("2026-12-31")), Some(77));
}

#[test]
fn the_default_form_asks_for_each_material_and_a_delivery_choice() {
    use crate::catalog::Material;
    let mut item = sample_item();
    item.materials = vec![
        Material {
            name: "居民户口簿".into(),
            form: "原件".into(),
            count: 1,
            elicense_ok: true,
            note: String::new(),
        },
        Material {
            name: "结婚证（如有）".into(),
            form: "原件".into(),
            count: 1,
            elicense_ok: false,
            note: String::new(),
        },
    ];
    let s = default_schema(&item);
    assert!(s.check().is_empty(), "{:?}", s.check());
    let files: Vec<&Field> = s.file_fields().collect();
    assert_eq!(files.len(), 2);
    assert!(files[0].required && !files[1].required);
    assert_eq!(files[0].material, "居民户口簿");
    assert!(s.field("delivery").is_some_and(|f| f.options.len() == 3));
    let mail = s.field("mail_address").and_then(|f| f.show_if.clone());
    assert_eq!(mail.map(|c| c.field), Some("delivery".to_string()));
}

fn sample_item() -> ServiceItem {
    use crate::catalog::*;
    ServiceItem {
        code: "T-1".into(),
        main_code: "T".into(),
        main_name: "测试".into(),
        name: "测试事项".into(),
        name_en: String::new(),
        aliases: Vec::new(),
        handling_kind: HandlingKind::New,
        item_type: ItemType::ALL[0],
        department_code: "D".into(),
        department_name: "部门".into(),
        implementing_body: "部门".into(),
        legal_basis: "依据".into(),
        audience: Audience::Person,
        life_events: Vec::new(),
        police_domain: None,
        conditions: Vec::new(),
        materials: Vec::new(),
        steps: Vec::new(),
        legal_limit_days: 20,
        promised_limit_days: 10,
        fees: "不收费".into(),
        fee_basis: String::new(),
        place: "大厅".into(),
        hours: "工作日".into(),
        visits: 0,
        online: true,
        enquiry_phone: "023-12345".into(),
        complaint_phone: "12345".into(),
        high_frequency: false,
        realname_level: 2,
        status: Status::Published,
        version: 1,
        updated_at: String::new(),
        updated_by: String::new(),
    }
}

#[test]
fn a_company_is_one_the_applicant_acts_for_and_its_name_comes_from_the_record() {
    let s = schema(
        r#"{"title": "t", "pages": [{"title": "p", "fields": [
        {"key": "company", "label": "以单位名义申请", "kind": "company"}]}]}"#,
    );
    let profile = Profile {
        companies: vec![("91500000MA5U000001".into(), "渝州山城科技有限公司".into())],
        today: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
        ..Profile::default()
    };
    let none = BTreeMap::new();
    // Its own company: accepted, named from the record whatever was typed.
    let mut a = answers(&[
        ("company", "91500000ma5u000001"),
        ("company.name", "别的名字"),
    ]);
    s.normalize(&mut a, &profile);
    assert_eq!(codes(&s.validate(None, &a, &none)), vec![]);
    assert_eq!(
        a.get("company.name").map(String::as_str),
        Some("渝州山城科技有限公司")
    );
    // Someone else's company: refused, and no name is kept.
    let mut b = answers(&[
        ("company", "91500000MA5U000099"),
        ("company.name", "他人公司"),
    ]);
    s.normalize(&mut b, &profile);
    assert_eq!(
        codes(&s.validate(None, &b, &none)),
        vec![("company".to_string(), "company_not_yours")]
    );
    assert_eq!(b.get("company.name"), None);
    // Applying as a person: nothing to check.
    let mut c = answers(&[("company", "")]);
    s.normalize(&mut c, &profile);
    assert_eq!(codes(&s.validate(None, &c, &none)), vec![]);
}
