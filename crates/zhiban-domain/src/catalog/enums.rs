//! The closed vocabularies of the catalog. Each value has a stable slug (used
//! in URLs, the database and the API) and its official Chinese label (used in
//! guides and import files). The web layer translates slugs for en / zh-HK.

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $slug:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_slug(s: &str) -> Option<Self> {
                match s { $($slug => Some($name::$variant),)+ _ => None }
            }

            pub fn from_label(s: &str) -> Option<Self> {
                match s.trim() { $($label => Some($name::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.slug())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary!(
    /// 办理项类型
    HandlingKind {
        New => "new", "新办";
        Change => "change", "变更";
        Renew => "renew", "延续";
        Cancel => "cancel", "注销";
        Reissue => "reissue", "补领";
        Other => "other", "其他";
    }
);

vocabulary!(
    /// 事项类型 (the power type of the item)
    ItemType {
        Permit => "permit", "行政许可";
        Confirmation => "confirmation", "行政确认";
        Benefit => "benefit", "行政给付";
        Levy => "levy", "行政征收";
        Ruling => "ruling", "行政裁决";
        Award => "award", "行政奖励";
        Inspection => "inspection", "行政检查";
        PublicService => "public-service", "公共服务";
        OtherPower => "other-power", "其他行政权力";
        Disclosure => "disclosure", "依申请公开";
    }
);

vocabulary!(
    /// 服务对象
    Audience {
        Person => "person", "个人";
        Company => "company", "法人";
        Both => "both", "个人、法人";
    }
);

impl Audience {
    /// Whether an item for `self` serves someone who is `who`.
    pub fn serves(self, who: Audience) -> bool {
        self == Audience::Both || who == Audience::Both || self == who
    }
}

vocabulary!(
    /// 人生事件 / 企业生命周期 (主题服务)
    LifeEvent {
        Birth => "birth", "出生";
        School => "school", "入学";
        Work => "work", "就业";
        Family => "family", "婚育";
        Home => "home", "置业";
        Travel => "travel", "出行";
        Health => "health", "就医";
        Retire => "retire", "退休";
        Relief => "relief", "社会救助";
        Bereavement => "bereavement", "身后事";
        Start => "start", "开办";
        License => "license", "准营";
        Amend => "amend", "变更";
        Tax => "tax", "纳税";
        Build => "build", "投资建设";
        Close => "close", "注销";
    }
);

impl LifeEvent {
    /// Whether the event belongs to a person's life (else a company's).
    pub fn is_personal(self) -> bool {
        !matches!(
            self,
            LifeEvent::Start
                | LifeEvent::License
                | LifeEvent::Amend
                | LifeEvent::Tax
                | LifeEvent::Build
                | LifeEvent::Close
        )
    }
}

vocabulary!(
    /// 警种业务 of the police bureau sub-site.
    PoliceDomain {
        Household => "household", "户政";
        Traffic => "traffic", "交管";
        Exit => "exit-entry", "出入境";
        PublicOrder => "public-order", "治安";
        Fire => "fire", "消防";
        Border => "border", "边防";
    }
);

vocabulary!(
    /// Publication state of a catalog item.
    Status {
        Draft => "draft", "草稿";
        Published => "published", "已发布";
    }
);

/// The material forms an import or form may use.
pub const MATERIAL_FORMS: &[&str] = &["原件", "复印件", "电子件", "原件和复印件"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_and_label_round_trips() {
        for e in LifeEvent::ALL {
            assert_eq!(LifeEvent::from_slug(e.slug()), Some(*e));
            assert_eq!(LifeEvent::from_label(e.label()), Some(*e));
        }
        for d in PoliceDomain::ALL {
            assert_eq!(PoliceDomain::from_slug(d.slug()), Some(*d));
        }
        assert_eq!(ItemType::from_label("不存在"), None);
    }

    #[test]
    fn an_item_for_both_audiences_serves_people_and_companies() {
        assert!(Audience::Both.serves(Audience::Person));
        assert!(Audience::Person.serves(Audience::Person));
        assert!(!Audience::Company.serves(Audience::Person));
    }
}
