//! The case workflow (DOMAIN.md, Case handling): 申请 → 预审/受理 (or 不予受理,
//! 补正) → 审查 → 决定 (准予/不予) → 办结 → 送达, with transfer between
//! units, 特别程序 that stop the clock, and withdrawal by the applicant.
//! Pure rules: which action is allowed in which state, who may take it,
//! and what it needs.

use crate::catalog::enums::vocabulary;

vocabulary!(
    /// Where a case stands.
    CaseState {
        Submitted => "submitted", "待受理";
        Correction => "correction", "待补正";
        NotAccepted => "not_accepted", "不予受理";
        Accepted => "accepted", "审查中";
        Suspended => "suspended", "特别程序";
        Decided => "decided", "已决定";
        Concluded => "concluded", "已办结";
        Delivered => "delivered", "已送达";
        Withdrawn => "withdrawn", "已撤回";
        // Items of a later stage of a bundle (一件事) wait for the earlier
        // ones; they are halted when an earlier one is not approved.
        Waiting => "waiting", "待前序办结";
        Halted => "halted", "已终止";
    }
);

vocabulary!(
    /// What someone does to a case; each is one recorded transition.
    CaseAction {
        Submit => "submit", "提交申请";
        Accept => "accept", "受理";
        Reject => "reject", "不予受理";
        Correct => "correct", "一次性告知补正";
        Resubmit => "resubmit", "补正后提交";
        Suspend => "suspend", "进入特别程序";
        Resume => "resume", "特别程序结束";
        Approve => "approve", "准予";
        Deny => "deny", "不予";
        Conclude => "conclude", "办结";
        Deliver => "deliver", "送达";
        Transfer => "transfer", "转办";
        Withdraw => "withdraw", "撤回申请";
        Remind => "remind", "临期提醒";
        Escalate => "escalate", "超期督办";
        Extend => "extend", "延长答复期限";
        Release => "release", "前序事项办结，开始办理";
        Halt => "halt", "前序事项未获准予，终止办理";
    }
);

vocabulary!(
    /// What was decided (准予 / 不予); a case has none until decided.
    Outcome {
        Approved => "approved", "准予";
        Denied => "denied", "不予";
    }
);

vocabulary!(
    /// How the result reaches the applicant (送达方式).
    Delivery {
        Online => "online", "网上下载";
        Counter => "counter", "窗口领取";
        Mail => "mail", "邮寄送达";
    }
);

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Applicant,
    Staff,
    /// Electronic supervision (reminders, escalations): recorded, no transition.
    System,
}

impl CaseState {
    /// The time limit is counting (not paused, not finished).
    pub fn clock_running(self) -> bool {
        matches!(
            self,
            CaseState::Submitted | CaseState::Accepted | CaseState::Decided
        )
    }

    /// Waiting for the applicant or a special procedure: the clock is paused.
    pub fn paused(self) -> bool {
        matches!(self, CaseState::Correction | CaseState::Suspended)
    }

    /// No further step is possible.
    pub fn closed(self) -> bool {
        matches!(
            self,
            CaseState::NotAccepted
                | CaseState::Delivered
                | CaseState::Withdrawn
                | CaseState::Halted
        )
    }

    /// Done as far as a bundle is concerned: concluded or closed.
    pub fn finished(self) -> bool {
        self == CaseState::Concluded || self.closed()
    }

    /// Staff have something to do (their 待办).
    pub fn staff_todo(self) -> bool {
        matches!(
            self,
            CaseState::Submitted
                | CaseState::Accepted
                | CaseState::Suspended
                | CaseState::Decided
                | CaseState::Concluded
        )
    }

    /// Where a case goes, or `None` if the action is not allowed here.
    /// `resume_to` is the state a case in 补正 returns to.
    pub fn after(self, action: CaseAction, resume_to: CaseState) -> Option<CaseState> {
        use CaseAction as A;
        use CaseState as S;
        Some(match (self, action) {
            (S::Submitted, A::Accept) => S::Accepted,
            (S::Submitted, A::Reject) => S::NotAccepted,
            (S::Submitted | S::Accepted, A::Correct) => S::Correction,
            (S::Correction, A::Resubmit) => resume_to,
            (S::Accepted, A::Suspend) => S::Suspended,
            (S::Suspended, A::Resume) => S::Accepted,
            (S::Accepted, A::Approve | A::Deny) => S::Decided,
            (S::Decided, A::Conclude) => S::Concluded,
            (S::Concluded, A::Deliver) => S::Delivered,
            (S::Submitted | S::Accepted | S::Suspended, A::Transfer) => self,
            (S::Submitted | S::Accepted, A::Extend) => self,
            (S::Submitted | S::Correction | S::Waiting, A::Withdraw) => S::Withdrawn,
            (S::Waiting, A::Release) => S::Submitted,
            (S::Waiting, A::Halt) => S::Halted,
            _ => return None,
        })
    }

    /// The staff actions offered in this state, in the order a desk works.
    pub fn staff_actions(self) -> &'static [CaseAction] {
        use CaseAction as A;
        match self {
            CaseState::Submitted => &[A::Accept, A::Correct, A::Reject, A::Transfer],
            CaseState::Accepted => &[A::Approve, A::Deny, A::Correct, A::Suspend, A::Transfer],
            CaseState::Suspended => &[A::Resume, A::Transfer],
            CaseState::Decided => &[A::Conclude],
            CaseState::Concluded => &[A::Deliver],
            _ => &[],
        }
    }
}

impl CaseAction {
    pub fn role(self) -> Role {
        match self {
            CaseAction::Submit | CaseAction::Resubmit | CaseAction::Withdraw => Role::Applicant,
            CaseAction::Remind | CaseAction::Escalate | CaseAction::Release | CaseAction::Halt => {
                Role::System
            }
            _ => Role::Staff,
        }
    }

    /// The applicant must be told why (一次性告知, reasons for a refusal).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            CaseAction::Reject
                | CaseAction::Correct
                | CaseAction::Suspend
                | CaseAction::Deny
                | CaseAction::Transfer
                | CaseAction::Extend
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseAction as A;
    use CaseState as S;

    #[test]
    fn the_happy_path_runs_from_submission_to_delivery() {
        let mut s = S::Submitted;
        for a in [A::Accept, A::Approve, A::Conclude, A::Deliver] {
            s = s.after(a, S::Submitted).unwrap_or(S::Withdrawn);
        }
        assert_eq!(s, S::Delivered);
        assert!(s.closed());
    }

    #[test]
    fn correction_returns_to_the_state_it_interrupted() {
        assert_eq!(
            S::Accepted.after(A::Correct, S::Submitted),
            Some(S::Correction)
        );
        assert_eq!(
            S::Correction.after(A::Resubmit, S::Accepted),
            Some(S::Accepted)
        );
        assert_eq!(
            S::Correction.after(A::Resubmit, S::Submitted),
            Some(S::Submitted)
        );
    }

    #[test]
    fn steps_cannot_be_skipped_or_repeated() {
        assert_eq!(S::Submitted.after(A::Approve, S::Submitted), None);
        assert_eq!(S::Decided.after(A::Deliver, S::Submitted), None);
        assert_eq!(S::NotAccepted.after(A::Accept, S::Submitted), None);
        assert_eq!(S::Accepted.after(A::Withdraw, S::Submitted), None);
        assert_eq!(S::Delivered.after(A::Transfer, S::Submitted), None);
    }

    #[test]
    fn every_offered_staff_action_is_allowed_and_staff_only() {
        for s in CaseState::ALL {
            for a in s.staff_actions() {
                assert!(s.after(*a, S::Submitted).is_some(), "{s:?} {a:?}");
                assert_eq!(a.role(), Role::Staff);
            }
        }
    }

    #[test]
    fn a_waiting_bundle_item_is_released_or_halted_by_the_system_only() {
        assert_eq!(
            S::Waiting.after(A::Release, S::Submitted),
            Some(S::Submitted)
        );
        assert_eq!(S::Waiting.after(A::Halt, S::Submitted), Some(S::Halted));
        assert_eq!(S::Waiting.after(A::Accept, S::Submitted), None);
        assert_eq!(A::Release.role(), Role::System);
        assert!(S::Waiting.staff_actions().is_empty());
        assert!(!S::Waiting.clock_running() && !S::Waiting.finished());
        assert!(S::Halted.finished() && S::Concluded.finished());
    }

    #[test]
    fn the_clock_runs_pauses_and_stops_by_state() {
        assert!(S::Accepted.clock_running());
        assert!(S::Correction.paused() && !S::Correction.clock_running());
        assert!(S::Suspended.paused());
        assert!(!S::Concluded.clock_running() && !S::Concluded.paused());
    }
}
