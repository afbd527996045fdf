//! 差评整改: the rules of a rectification, pure. The rated unit verifies
//! the bad rating (核实) and either fixes the problem by the deadline or
//! explains why it is unfounded; a clear problem may be fixed at once. A
//! real-name rating is then called back (回访) before it closes; an
//! anonymous one closes on resolution. The rater may appeal once after it
//! closes, which sends it back to verification.

use crate::catalog::enums::vocabulary;

vocabulary!(
    /// Where a rectification stands.
    RectState {
        Open => "open", "待核实";
        Fixing => "fixing", "整改中";
        Followup => "followup", "待回访";
        Closed => "closed", "已办结";
    }
);

vocabulary!(
    /// One step of a rectification.
    RectAction {
        Verify => "verify", "核实属实，开始整改";
        Fix => "fix", "整改完成";
        Unfounded => "unfounded", "核实不属实，予以说明";
        Followup => "followup", "回访";
        Appeal => "appeal", "评价人申诉";
        Remind => "remind", "临期提醒";
    }
);

/// What the rules need besides the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RectFacts {
    /// The rater gave their name: a follow-up call is required.
    pub real_name: bool,
    /// The rater appealed before (once is the most).
    pub appealed: bool,
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectRefusal {
    /// Not possible in this state.
    State,
    /// Appealed once already.
    AppealedBefore,
    /// An anonymous rater cannot be called back.
    Anonymous,
}

impl RectAction {
    /// The rater takes this step (the unit takes the others).
    pub fn by_rater(self) -> bool {
        self == RectAction::Appeal
    }

    /// Steps that must say something: what was found, what was done, how
    /// the call went, why the rater appeals.
    pub fn needs_note(self) -> bool {
        !matches!(self, RectAction::Remind)
    }
}

impl RectState {
    /// The unit has something to do.
    pub fn todo(self) -> bool {
        self != RectState::Closed
    }

    /// The problem has been dealt with (fixed or explained).
    pub fn resolved(self) -> bool {
        matches!(self, RectState::Followup | RectState::Closed)
    }
}

/// Where `action` takes a rectification in `state`, or why not.
pub fn next(
    state: RectState,
    action: RectAction,
    facts: RectFacts,
) -> Result<RectState, RectRefusal> {
    use RectAction as A;
    use RectState as S;
    // Resolved: called back when the rater gave their name, else closed.
    let resolved = if facts.real_name {
        S::Followup
    } else {
        S::Closed
    };
    Ok(match (state, action) {
        (S::Open, A::Verify) => S::Fixing,
        // A clear problem is fixed at once, without a separate verification.
        (S::Open | S::Fixing, A::Fix) => resolved,
        (S::Open, A::Unfounded) => resolved,
        (S::Followup, A::Followup) => S::Closed,
        (_, A::Followup) if !facts.real_name => return Err(RectRefusal::Anonymous),
        (S::Closed, A::Appeal) if facts.appealed => return Err(RectRefusal::AppealedBefore),
        (S::Closed, A::Appeal) => S::Open,
        (s @ (S::Open | S::Fixing), A::Remind) => s,
        _ => return Err(RectRefusal::State),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMED: RectFacts = RectFacts {
        real_name: true,
        appealed: false,
    };
    const ANON: RectFacts = RectFacts {
        real_name: false,
        appealed: false,
    };

    #[test]
    fn a_real_name_rating_is_called_back_before_it_closes() {
        let s = next(RectState::Open, RectAction::Verify, NAMED).unwrap();
        assert_eq!(s, RectState::Fixing);
        let s = next(s, RectAction::Fix, NAMED).unwrap();
        assert_eq!(s, RectState::Followup);
        assert_eq!(
            next(s, RectAction::Appeal, NAMED),
            Err(RectRefusal::State),
            "no appeal before the call"
        );
        assert_eq!(next(s, RectAction::Followup, NAMED), Ok(RectState::Closed));
    }

    #[test]
    fn an_anonymous_rating_closes_on_resolution_and_cannot_be_called() {
        assert_eq!(
            next(RectState::Open, RectAction::Unfounded, ANON),
            Ok(RectState::Closed)
        );
        assert_eq!(
            next(RectState::Fixing, RectAction::Fix, ANON),
            Ok(RectState::Closed)
        );
        assert_eq!(
            next(RectState::Closed, RectAction::Followup, ANON),
            Err(RectRefusal::Anonymous)
        );
    }

    #[test]
    fn unfounded_only_before_work_starts_and_appeal_only_once() {
        assert_eq!(
            next(RectState::Fixing, RectAction::Unfounded, NAMED),
            Err(RectRefusal::State)
        );
        assert_eq!(
            next(RectState::Closed, RectAction::Appeal, NAMED),
            Ok(RectState::Open)
        );
        let again = RectFacts {
            appealed: true,
            ..NAMED
        };
        assert_eq!(
            next(RectState::Closed, RectAction::Appeal, again),
            Err(RectRefusal::AppealedBefore)
        );
        assert_eq!(
            next(RectState::Closed, RectAction::Verify, NAMED),
            Err(RectRefusal::State)
        );
    }
}
