//! 一件事一次办 (`/bundles`, `/bundles/{code}`): the published bundles and
//! each one's guide — the questions asked first, the items stage by stage
//! with their departments and time limits, every material once, and the
//! way in to the one form.

use crate::error::AppError;
use crate::state::AppState;
use crate::view::ctx::PageCtx;
use crate::view::render;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use zhiban_domain::bundles::{self, Bundle, BundleItem, GuideMaterial};
use zhiban_domain::catalog::ServiceItem;

/// A bundle with its items as the catalog has them.
pub struct Listed {
    pub bundle: Bundle,
    pub items: Vec<ServiceItem>,
    pub days: u32,
}

fn listed(state: &AppState, bundle: Bundle) -> Listed {
    let catalog = state.catalog();
    let refs = bundle.items_in(&catalog);
    Listed {
        days: bundles::promised_days(&bundle, &refs),
        items: refs.into_iter().cloned().collect(),
        bundle,
    }
}

#[derive(Template)]
#[template(path = "public/bundles/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub bundles: Vec<Listed>,
}

pub async fn list(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let all = bundles::list(&state.db, true).await?;
    render(&ListPage {
        bundles: all.into_iter().map(|b| listed(&state, b)).collect(),
        ctx,
    })
}

#[derive(Template)]
#[template(path = "public/bundles/guide.html")]
pub struct GuidePage {
    pub ctx: PageCtx,
    pub l: Listed,
    /// Stage by stage: (stage, [(bundle item, catalog item)]).
    pub stages: Vec<(u32, Vec<(BundleItem, ServiceItem)>)>,
    pub materials: Vec<GuideMaterial>,
}

impl GuidePage {
    /// The question a condition names, as people read it.
    fn condition_text(&self, i: &BundleItem) -> String {
        let Some(c) = &i.when else {
            return String::new();
        };
        let q = self
            .l
            .bundle
            .questions
            .iter()
            .find(|q| q.key == c.question)
            .map_or(c.question.as_str(), |q| q.label.as_str());
        format!("{q}：{}", c.equals.join("、"))
    }
}

pub async fn guide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let l = listed(&state, bundles::published(&state.db, &code).await?);
    let stages = (1..=l.bundle.stages())
        .map(|s| {
            let row: Vec<(BundleItem, ServiceItem)> = l
                .bundle
                .items
                .iter()
                .filter(|i| i.stage == s)
                .filter_map(|i| {
                    l.items
                        .iter()
                        .find(|x| x.code == i.code)
                        .map(|x| (i.clone(), x.clone()))
                })
                .collect();
            (s, row)
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    let refs: Vec<&ServiceItem> = l.items.iter().collect();
    render(&GuidePage {
        materials: bundles::guide_materials(&refs),
        stages,
        l,
        ctx,
    })
}
