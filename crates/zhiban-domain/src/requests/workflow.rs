//! The closed loop of a citizen request (DOMAIN.md, Citizen requests):
//! 受理 → 分类 → 派单 → 签收 (within one working day) → 办理 → 答复 →
//! 回访 → 办结. A unit that is not responsible returns the order (退单) to
//! the dispatcher with a reason; a unit may ask for more time (延期),
//! which the dispatcher approves or refuses; a citizen not satisfied with
//! the answer may reopen it once. Pure rules: which step is allowed in
//! which state, by whom, and what it needs.

use crate::catalog::enums::vocabulary;

vocabulary!(
    /// Where a request stands.
    RequestState {
        Submitted => "submitted", "待受理";
        Accepted => "accepted", "待派单";
        Dispatched => "dispatched", "待签收";
        Handling => "handling", "办理中";
        Answered => "answered", "待回访";
        Concluded => "concluded", "已办结";
        Rejected => "rejected", "不予受理";
        Merged => "merged", "已合并";
    }
);

vocabulary!(
    /// One recorded step of a request.
    RequestAction {
        Submit => "submit", "提交诉求";
        Accept => "accept", "受理分类";
        Reject => "reject", "不予受理";
        Dispatch => "dispatch", "派单";
        Sign => "sign", "签收";
        Return => "return", "退单";
        AskExtension => "ask-extension", "申请延期";
        ApproveExtension => "approve-extension", "同意延期";
        RefuseExtension => "refuse-extension", "不同意延期";
        Answer => "answer", "答复";
        Visit => "visit", "回访";
        Rate => "rate", "评价";
        Reopen => "reopen", "不满意重办";
        Merge => "merge", "合并";
        Remind => "remind", "临期提醒";
        Escalate => "escalate", "超期督办";
    }
);

vocabulary!(
    /// 诉求类型, each with its own time limit (settings).
    RequestType {
        Consult => "consult", "咨询";
        Help => "help", "求助";
        Complaint => "complaint", "投诉";
        Report => "report", "举报";
        Suggestion => "suggestion", "建议";
        Praise => "praise", "表扬";
    }
);

vocabulary!(
    /// 满意度 of an answer, given at 回访.
    Satisfaction {
        Satisfied => "satisfied", "满意";
        Basically => "basically", "基本满意";
        Unsatisfied => "unsatisfied", "不满意";
    }
);

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Citizen,
    /// 话务员 / 派单员: accepts, classifies, dispatches, rules on extensions.
    Dispatcher,
    /// The responsible unit's handlers: sign, return, handle, answer.
    Unit,
    /// Electronic supervision: recorded, no transition.
    System,
}

/// Time limits in working days (`[requests]` settings), DOMAIN.md defaults.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RequestSettings {
    pub consult_days: u32,
    pub help_days: u32,
    pub complaint_days: u32,
    pub report_days: u32,
    pub suggestion_days: u32,
    pub praise_days: u32,
    /// A dispatched order must be signed within this many working days.
    pub sign_days: u32,
    /// The longest extension a dispatcher may grant.
    pub max_extension_days: u32,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            consult_days: 2,
            help_days: 5,
            complaint_days: 15,
            report_days: 15,
            suggestion_days: 15,
            praise_days: 15,
            sign_days: 1,
            max_extension_days: 15,
        }
    }
}

impl RequestSettings {
    /// Working days to answer a request of type `t`.
    pub fn limit(&self, t: RequestType) -> u32 {
        match t {
            RequestType::Consult => self.consult_days,
            RequestType::Help => self.help_days,
            RequestType::Complaint => self.complaint_days,
            RequestType::Report => self.report_days,
            RequestType::Suggestion => self.suggestion_days,
            RequestType::Praise => self.praise_days,
        }
    }
}

/// What the rules need to know about a request besides its state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// A unit's extension request is waiting for the dispatcher.
    pub extension_pending: bool,
    /// Reopened before (once is the most).
    pub reopened: bool,
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not possible in this state.
    State,
    /// Not this person's step.
    Role,
    /// Reopened once already.
    ReopenedBefore,
    /// An extension is already waiting, or none is.
    Extension,
}

impl RequestAction {
    /// Who takes the step.
    pub fn who(self) -> Who {
        use RequestAction as A;
        match self {
            A::Submit | A::Reopen | A::Rate => Who::Citizen,
            A::Accept
            | A::Reject
            | A::Dispatch
            | A::ApproveExtension
            | A::RefuseExtension
            | A::Visit
            | A::Merge => Who::Dispatcher,
            A::Sign | A::Return | A::AskExtension | A::Answer => Who::Unit,
            A::Remind | A::Escalate => Who::System,
        }
    }

    /// The citizen or the dispatcher must be told why.
    pub fn needs_reason(self) -> bool {
        use RequestAction as A;
        matches!(
            self,
            A::Reject | A::Return | A::AskExtension | A::RefuseExtension | A::Answer | A::Reopen
        )
    }
}

/// Where `action` by `who` takes a request in `state`, or why not.
pub fn next(
    state: RequestState,
    action: RequestAction,
    who: Who,
    facts: Facts,
) -> Result<RequestState, Refusal> {
    use RequestAction as A;
    use RequestState as S;
    if action.who() != who {
        return Err(Refusal::Role);
    }
    let to = match (state, action) {
        (S::Submitted, A::Accept) => S::Accepted,
        (S::Submitted | S::Accepted, A::Reject) => S::Rejected,
        (S::Submitted | S::Accepted, A::Merge) => S::Merged,
        (S::Accepted, A::Dispatch) => S::Dispatched,
        (S::Dispatched, A::Sign) => S::Handling,
        // 退单: back to the dispatcher, before or after signing.
        (S::Dispatched | S::Handling, A::Return) => S::Accepted,
        (S::Handling, A::AskExtension) => {
            if facts.extension_pending {
                return Err(Refusal::Extension);
            }
            S::Handling
        }
        (S::Handling, A::ApproveExtension | A::RefuseExtension) => {
            if !facts.extension_pending {
                return Err(Refusal::Extension);
            }
            S::Handling
        }
        (S::Handling, A::Answer) => S::Answered,
        // The citizen rates the answer, or the dispatcher calls back (回访).
        (S::Answered, A::Visit | A::Rate) => S::Concluded,
        // Not satisfied: handled again by the same unit, once.
        (S::Answered | S::Concluded, A::Reopen) => {
            if facts.reopened {
                return Err(Refusal::ReopenedBefore);
            }
            S::Handling
        }
        (s, A::Remind | A::Escalate) if s.clock_running() => s,
        _ => return Err(Refusal::State),
    };
    Ok(to)
}

impl RequestState {
    /// The answer clock is counting.
    pub fn clock_running(self) -> bool {
        matches!(
            self,
            RequestState::Submitted
                | RequestState::Accepted
                | RequestState::Dispatched
                | RequestState::Handling
        )
    }

    /// No further step but a reopening.
    pub fn closed(self) -> bool {
        matches!(
            self,
            RequestState::Concluded | RequestState::Rejected | RequestState::Merged
        )
    }

    /// Whose desk the request is on.
    pub fn desk(self) -> Option<Who> {
        match self {
            RequestState::Submitted | RequestState::Accepted | RequestState::Answered => {
                Some(Who::Dispatcher)
            }
            RequestState::Dispatched | RequestState::Handling => Some(Who::Unit),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction as A;
    use RequestState as S;

    fn go(s: S, a: A) -> Result<S, Refusal> {
        next(s, a, a.who(), Facts::default())
    }

    #[test]
    fn the_closed_loop_runs_from_filing_to_conclusion() {
        let mut s = S::Submitted;
        for a in [A::Accept, A::Dispatch, A::Sign, A::Answer, A::Visit] {
            s = go(s, a).expect("allowed");
        }
        assert_eq!(s, S::Concluded);
        assert!(s.closed());
    }

    #[test]
    fn a_unit_returns_an_order_to_the_dispatcher_before_or_after_signing() {
        assert_eq!(go(S::Dispatched, A::Return), Ok(S::Accepted));
        assert_eq!(go(S::Handling, A::Return), Ok(S::Accepted));
        assert_eq!(go(S::Answered, A::Return), Err(Refusal::State));
        assert_eq!(
            next(S::Dispatched, A::Return, Who::Dispatcher, Facts::default()),
            Err(Refusal::Role),
            "only the unit says it is not theirs"
        );
        assert!(A::Return.needs_reason());
    }

    #[test]
    fn an_extension_is_asked_by_the_unit_and_ruled_on_by_the_dispatcher_once_at_a_time() {
        let pending = Facts {
            extension_pending: true,
            ..Facts::default()
        };
        assert_eq!(go(S::Handling, A::AskExtension), Ok(S::Handling));
        assert_eq!(
            next(S::Handling, A::AskExtension, Who::Unit, pending),
            Err(Refusal::Extension)
        );
        assert_eq!(
            next(S::Handling, A::ApproveExtension, Who::Dispatcher, pending),
            Ok(S::Handling)
        );
        assert_eq!(
            go(S::Handling, A::ApproveExtension),
            Err(Refusal::Extension),
            "nothing to approve"
        );
        assert_eq!(
            next(S::Handling, A::ApproveExtension, Who::Unit, pending),
            Err(Refusal::Role),
            "a unit does not approve its own extension"
        );
    }

    #[test]
    fn an_unsatisfied_citizen_reopens_once() {
        assert_eq!(go(S::Concluded, A::Reopen), Ok(S::Handling));
        assert_eq!(go(S::Answered, A::Reopen), Ok(S::Handling));
        let again = Facts {
            reopened: true,
            ..Facts::default()
        };
        assert_eq!(
            next(S::Concluded, A::Reopen, Who::Citizen, again),
            Err(Refusal::ReopenedBefore)
        );
        assert_eq!(go(S::Rejected, A::Reopen), Err(Refusal::State));
    }

    #[test]
    fn steps_cannot_be_skipped_and_closed_requests_are_not_supervised() {
        assert_eq!(go(S::Submitted, A::Dispatch), Err(Refusal::State));
        assert_eq!(go(S::Accepted, A::Answer), Err(Refusal::State));
        assert_eq!(
            go(S::Dispatched, A::Answer),
            Err(Refusal::State),
            "sign first"
        );
        assert_eq!(go(S::Handling, A::Escalate), Ok(S::Handling));
        assert_eq!(go(S::Concluded, A::Escalate), Err(Refusal::State));
        assert_eq!(go(S::Merged, A::Accept), Err(Refusal::State));
    }

    #[test]
    fn the_citizen_rates_the_answer_or_the_dispatcher_calls_back() {
        assert_eq!(go(S::Answered, A::Rate), Ok(S::Concluded));
        assert_eq!(go(S::Answered, A::Visit), Ok(S::Concluded));
        assert_eq!(go(S::Handling, A::Rate), Err(Refusal::State));
        assert_eq!(
            next(S::Answered, A::Rate, Who::Dispatcher, Facts::default()),
            Err(Refusal::Role)
        );
    }

    #[test]
    fn time_limits_follow_the_type() {
        let s = RequestSettings::default();
        assert_eq!(s.limit(RequestType::Consult), 2);
        assert_eq!(s.limit(RequestType::Help), 5);
        assert_eq!(s.limit(RequestType::Complaint), 15);
        assert_eq!(s.sign_days, 1);
        assert_eq!(S::Dispatched.desk(), Some(Who::Unit));
        assert_eq!(
            S::Answered.desk(),
            Some(Who::Dispatcher),
            "回访 is the dispatcher's"
        );
    }
}
