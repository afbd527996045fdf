//! The review workflow of 政务公开 (DOMAIN.md, Publishing): 草稿 → 初审 →
//! (复审) → 终审 → 已发布, with one to three review stages per site, rejection
//! with a reason back to the draft, recall by the editor, and withdrawal of
//! a published article with a reason. Pure rules: which step is allowed in
//! which state and who may take it; `repo` applies them.

use std::collections::BTreeSet;

use crate::catalog::enums::vocabulary;
use crate::identity::Perm;

vocabulary!(
    /// Where an article's working copy stands. A published article that is
    /// being revised stays published (its last approved version is what
    /// citizens read) while the new draft goes through review.
    ArticleState {
        Draft => "draft", "草稿";
        InReview => "review", "审核中";
        Published => "published", "已发布";
        Withdrawn => "withdrawn", "已撤回";
    }
);

vocabulary!(
    /// One recorded step of an article's history.
    ArticleAction {
        Create => "create", "新建";
        Save => "save", "保存";
        Submit => "submit", "送审";
        Recall => "recall", "撤回送审";
        Approve => "approve", "审核通过";
        Reject => "reject", "退回修改";
        Publish => "publish", "发布";
        Withdraw => "withdraw", "撤稿";
        Restore => "restore", "恢复历史版本";
    }
);

/// Which review stage `stage` (1-based) of `stages` is: the last one is
/// always `final` (终审), the first of several `first` (初审), the middle of
/// three `second` (复审). Pages translate the code.
pub fn stage_code(stage: i64, stages: i64) -> &'static str {
    match (stage, stages) {
        (s, n) if s >= n => "final",
        (1, _) => "first",
        _ => "second",
    }
}

/// What the workflow needs to know about the article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub state: ArticleState,
    /// The stage under review (1-based) while `InReview`.
    pub stage: i64,
    /// The site's number of review stages (1–3).
    pub stages: i64,
    /// Who saved the version under review.
    pub author: String,
    /// Who approved earlier stages of this round.
    pub approvers: Vec<String>,
    /// Citizens can read an approved version (it may be under revision).
    pub live: bool,
}

/// The person acting.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub username: &'a str,
    pub perms: &'a BTreeSet<Perm>,
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not in this state.
    State,
    /// The person lacks the permission for the step.
    Permission,
    /// A reviewer may not pass their own text (审核不得审自己的稿件).
    OwnText,
    /// One person may pass only one stage of the same round.
    SameReviewer,
    /// A reason is required (rejection, withdrawal).
    ReasonRequired,
}

/// The result of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    pub state: ArticleState,
    pub stage: i64,
    /// The version under review becomes the one citizens read.
    pub goes_live: bool,
}

/// Saving the working copy: allowed unless it is under review (recall it
/// first), for people who may edit. The saved copy is a draft; a published
/// article stays readable in its approved version until the revision is
/// approved in turn.
pub fn save(f: &Facts, a: &Actor) -> Result<Next, Refusal> {
    if !a.perms.contains(&Perm::ContentEdit) {
        return Err(Refusal::Permission);
    }
    match f.state {
        ArticleState::InReview => Err(Refusal::State),
        _ => Ok(draft()),
    }
}

fn draft() -> Next {
    Next {
        state: ArticleState::Draft,
        stage: 0,
        goes_live: false,
    }
}

/// Sending the working copy to the first review stage.
pub fn submit(f: &Facts, a: &Actor) -> Result<Next, Refusal> {
    if !a.perms.contains(&Perm::ContentEdit) {
        return Err(Refusal::Permission);
    }
    match f.state {
        ArticleState::Draft | ArticleState::Published | ArticleState::Withdrawn => Ok(Next {
            state: ArticleState::InReview,
            stage: 1,
            goes_live: false,
        }),
        ArticleState::InReview => Err(Refusal::State),
    }
}

/// The editor takes the text back from review to change it.
pub fn recall(f: &Facts, a: &Actor) -> Result<Next, Refusal> {
    if !a.perms.contains(&Perm::ContentEdit) {
        return Err(Refusal::Permission);
    }
    if f.state != ArticleState::InReview {
        return Err(Refusal::State);
    }
    Ok(draft())
}

fn reviewer_may_act(f: &Facts, a: &Actor) -> Result<(), Refusal> {
    if !a.perms.contains(&Perm::ContentReview) {
        return Err(Refusal::Permission);
    }
    if f.state != ArticleState::InReview {
        return Err(Refusal::State);
    }
    if f.author == a.username {
        return Err(Refusal::OwnText);
    }
    if f.approvers.iter().any(|p| p == a.username) {
        return Err(Refusal::SameReviewer);
    }
    Ok(())
}

/// Passing the current stage: on to the next, or published after the last.
pub fn approve(f: &Facts, a: &Actor) -> Result<Next, Refusal> {
    reviewer_may_act(f, a)?;
    let stages = f.stages.clamp(1, 3);
    if f.stage >= stages {
        Ok(Next {
            state: ArticleState::Published,
            stage: 0,
            goes_live: true,
        })
    } else {
        Ok(Next {
            state: ArticleState::InReview,
            stage: f.stage + 1,
            goes_live: false,
        })
    }
}

/// Sending the text back to its editor, with the reason.
pub fn reject(f: &Facts, a: &Actor, reason: &str) -> Result<Next, Refusal> {
    reviewer_may_act(f, a)?;
    if reason.trim().is_empty() {
        return Err(Refusal::ReasonRequired);
    }
    Ok(draft())
}

/// Taking a published article off the site, with the reason (reviewers),
/// also while a revision of it is being written or reviewed.
pub fn withdraw(f: &Facts, a: &Actor, reason: &str) -> Result<Next, Refusal> {
    if !a.perms.contains(&Perm::ContentReview) {
        return Err(Refusal::Permission);
    }
    if !f.live {
        return Err(Refusal::State);
    }
    if reason.trim().is_empty() {
        return Err(Refusal::ReasonRequired);
    }
    Ok(Next {
        state: ArticleState::Withdrawn,
        stage: 0,
        goes_live: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(p: &[Perm]) -> BTreeSet<Perm> {
        p.iter().copied().collect()
    }

    fn facts(state: ArticleState, stage: i64, stages: i64) -> Facts {
        Facts {
            state,
            stage,
            stages,
            author: "editor".into(),
            approvers: vec![],
            live: state == ArticleState::Published,
        }
    }

    #[test]
    fn a_draft_goes_through_every_stage_of_its_site_before_it_is_published() {
        let reviewer = perms(&[Perm::ContentReview]);
        let first = Actor {
            username: "r1",
            perms: &reviewer,
        };
        let second = Actor {
            username: "r2",
            perms: &reviewer,
        };
        let mut f = facts(ArticleState::InReview, 1, 2);
        let n = approve(&f, &first).unwrap();
        assert_eq!(
            (n.state, n.stage, n.goes_live),
            (ArticleState::InReview, 2, false)
        );
        f.stage = 2;
        f.approvers = vec!["r1".into()];
        let n = approve(&f, &second).unwrap();
        assert_eq!((n.state, n.goes_live), (ArticleState::Published, true));
        // One stage: the first approval publishes.
        let n = approve(&facts(ArticleState::InReview, 1, 1), &first).unwrap();
        assert!(n.goes_live);
        // Three stages: 初审, 复审, 终审.
        assert_eq!(
            [1, 2, 3].map(|s| stage_code(s, 3)),
            ["first", "second", "final"]
        );
        assert_eq!(stage_code(1, 1), "final");
        assert_eq!([1, 2].map(|s| stage_code(s, 2)), ["first", "final"]);
    }

    #[test]
    fn nobody_passes_their_own_text_or_two_stages_of_one_round() {
        let both = perms(&[Perm::ContentEdit, Perm::ContentReview]);
        let author = Actor {
            username: "editor",
            perms: &both,
        };
        let f = facts(ArticleState::InReview, 1, 2);
        assert_eq!(approve(&f, &author), Err(Refusal::OwnText));
        assert_eq!(reject(&f, &author, "改一下"), Err(Refusal::OwnText));
        let r1 = Actor {
            username: "r1",
            perms: &both,
        };
        let mut f = facts(ArticleState::InReview, 2, 2);
        f.approvers = vec!["r1".into()];
        assert_eq!(approve(&f, &r1), Err(Refusal::SameReviewer));
    }

    #[test]
    fn editors_cannot_review_and_reviewers_cannot_write() {
        let edit = perms(&[Perm::ContentEdit]);
        let review = perms(&[Perm::ContentReview]);
        let editor = Actor {
            username: "e2",
            perms: &edit,
        };
        let reviewer = Actor {
            username: "r1",
            perms: &review,
        };
        let f = facts(ArticleState::InReview, 1, 2);
        assert_eq!(approve(&f, &editor), Err(Refusal::Permission));
        let d = facts(ArticleState::Draft, 0, 2);
        assert_eq!(save(&d, &reviewer), Err(Refusal::Permission));
        assert_eq!(submit(&d, &reviewer), Err(Refusal::Permission));
        let p = facts(ArticleState::Published, 0, 2);
        assert_eq!(withdraw(&p, &editor, "错误"), Err(Refusal::Permission));
    }

    #[test]
    fn rejection_and_withdrawal_need_a_reason() {
        let review = perms(&[Perm::ContentReview]);
        let r = Actor {
            username: "r1",
            perms: &review,
        };
        let f = facts(ArticleState::InReview, 1, 2);
        assert_eq!(reject(&f, &r, "  "), Err(Refusal::ReasonRequired));
        assert_eq!(
            reject(&f, &r, "标题有错别字").unwrap().state,
            ArticleState::Draft
        );
        let p = facts(ArticleState::Published, 0, 2);
        assert_eq!(withdraw(&p, &r, ""), Err(Refusal::ReasonRequired));
        assert_eq!(
            withdraw(&p, &r, "信息已过时").unwrap().state,
            ArticleState::Withdrawn
        );
        assert_eq!(withdraw(&f, &r, "x"), Err(Refusal::State));
        // A published article under revision can still be taken down.
        let mut revising = facts(ArticleState::InReview, 1, 2);
        revising.live = true;
        assert!(withdraw(&revising, &r, "政策已调整").is_ok());
    }

    #[test]
    fn text_under_review_is_recalled_before_it_is_changed_and_a_published_one_stays_live() {
        let edit = perms(&[Perm::ContentEdit]);
        let e = Actor {
            username: "editor",
            perms: &edit,
        };
        let f = facts(ArticleState::InReview, 1, 2);
        assert_eq!(save(&f, &e), Err(Refusal::State));
        assert_eq!(submit(&f, &e), Err(Refusal::State));
        assert_eq!(recall(&f, &e).unwrap().state, ArticleState::Draft);
        let p = facts(ArticleState::Published, 0, 2);
        assert_eq!(save(&p, &e).unwrap().state, ArticleState::Draft);
        assert_eq!(submit(&p, &e).unwrap().state, ArticleState::InReview);
        let w = facts(ArticleState::Withdrawn, 0, 2);
        assert_eq!(save(&w, &e).unwrap().state, ArticleState::Draft);
        assert_eq!(recall(&p, &e), Err(Refusal::State));
    }
}
