//! The engine's promise as rules: state and events in, decisions out, no
//! I/O and no clock, so every fault case is a unit test.
//!
//! The promise: no customer who answered is dialed again, no lead is lost,
//! nothing stays in flight for ever. What each rule stands on:
//! - an answer recorded anywhere (the app database's `answered_at`, the
//!   channel entering the Stasis app) is final: no later event, a timeout
//!   or a "no answer" from a half that never saw the answer, turns it back;
//! - an attempt is a dial only if its originate may have left: one cut by
//!   the engine before it was sent, or refused by Asterisk (5xx), gives its
//!   attempt back and the lead is due again;
//! - a call a supervisor's stop hung up before an answer is `stopped`: the
//!   lead is dialed again when the campaign runs again, and that attempt is
//!   not counted against the retry rules;
//! - an attempt whose channel is gone and whose fate nobody recorded is
//!   `unknown`, final: when in doubt, never dial twice; so is an unanswered
//!   end of a call that was in flight while Asterisk stopped answering the
//!   engine (its "no answer" may hide a customer who picked up).

use super::outcome::Outcome;

/// What is known about an attempt whose channel has ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ended<'a> {
    /// The app database holds an answer time for it (`answered_at`).
    pub recorded_answer: bool,
    /// The channel entered the Stasis app (the customer answered).
    pub entered_stasis: bool,
    /// The originate's dial status (ARI `Dial` event), if one came.
    pub dial_status: Option<&'a str>,
    /// Q.850 hangup cause from `ChannelDestroyed`.
    pub cause: i64,
    /// The engine hung it up because a supervisor stopped the campaign.
    pub stopped_by_supervisor: bool,
    /// Asterisk did not answer the engine while this call was in flight (a
    /// request timed out, the event socket dropped): what its end reports
    /// may hide an answer the engine never heard of (a customer picking up
    /// as a frozen Asterisk's ring timer fires).
    pub in_doubt: bool,
}

/// The outcome of an attempt whose channel ended.
pub fn ended(e: Ended<'_>) -> Outcome {
    if e.recorded_answer || e.entered_stasis {
        return Outcome::Answered;
    }
    if e.stopped_by_supervisor {
        return Outcome::Stopped;
    }
    if e.in_doubt {
        // When in doubt, never dial twice: unknown is final.
        return Outcome::Unknown;
    }
    Outcome::from_end(e.dial_status, e.cause, false)
}

/// An attempt in flight for which Asterisk has no channel (found at
/// reconciliation, after a restart, an ARI reconnect or a lost originate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vanished {
    /// The app database holds an answer time for it.
    pub recorded_answer: bool,
    /// Its originate may have been sent (`sending_at` or `originated_at`).
    pub maybe_sent: bool,
}

/// What to do with an attempt whose channel is gone.
pub fn vanished(v: Vanished) -> Outcome {
    match v {
        Vanished {
            recorded_answer: true,
            ..
        } => Outcome::Answered,
        Vanished {
            maybe_sent: false, ..
        } => Outcome::NotDialed,
        _ => Outcome::Unknown,
    }
}

/// The outcome to record when `proposed` arrives for an attempt whose
/// recorded state says `recorded_answer`: an answer is never undone.
pub fn settle(proposed: Outcome, recorded_answer: bool) -> Outcome {
    if recorded_answer {
        Outcome::Answered
    } else {
        proposed
    }
}

/// Whether an outcome counts as a dial of the lead (a retry rule's
/// `max_attempts` counts these).
pub fn counts_as_dial(o: Outcome) -> bool {
    !matches!(o, Outcome::NotDialed | Outcome::Stopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_final_whatever_comes_after() {
        // Asterisk froze: the engine's half says NOANSWER/cause 19, but the
        // answer was recorded before the freeze.
        let late = Ended {
            recorded_answer: true,
            dial_status: Some("NOANSWER"),
            cause: 19,
            ..Ended::default()
        };
        assert_eq!(ended(late), Outcome::Answered);
        let stasis = Ended {
            entered_stasis: true,
            stopped_by_supervisor: true,
            cause: 16,
            ..Ended::default()
        };
        assert_eq!(ended(stasis), Outcome::Answered);
        for o in [
            Outcome::NoAnswer,
            Outcome::Busy,
            Outcome::Unknown,
            Outcome::Stopped,
            Outcome::NotDialed,
        ] {
            assert_eq!(settle(o, true), Outcome::Answered);
            assert_eq!(settle(o, false), o);
        }
    }

    #[test]
    fn a_supervisors_stop_before_an_answer_is_stopped_not_no_answer() {
        let e = Ended {
            stopped_by_supervisor: true,
            cause: 16,
            ..Ended::default()
        };
        assert_eq!(ended(e), Outcome::Stopped);
        assert!(!counts_as_dial(Outcome::Stopped));
    }

    #[test]
    fn an_unanswered_end_after_asterisk_stopped_answering_is_unknown() {
        let e = Ended {
            dial_status: Some("NOANSWER"),
            cause: 19,
            in_doubt: true,
            ..Ended::default()
        };
        assert_eq!(ended(e), Outcome::Unknown);
        let answered = Ended {
            entered_stasis: true,
            in_doubt: true,
            ..Ended::default()
        };
        assert_eq!(ended(answered), Outcome::Answered);
    }

    #[test]
    fn dial_status_then_cause_decide_an_unanswered_end() {
        let busy = Ended {
            dial_status: Some("BUSY"),
            ..Ended::default()
        };
        assert_eq!(ended(busy), Outcome::Busy);
        let rang_out = Ended {
            cause: 19,
            ..Ended::default()
        };
        assert_eq!(ended(rang_out), Outcome::NoAnswer);
    }

    #[test]
    fn a_vanished_attempt_is_requeued_only_if_it_was_never_sent() {
        let never = Vanished {
            recorded_answer: false,
            maybe_sent: false,
        };
        assert_eq!(vanished(never), Outcome::NotDialed);
        assert!(!counts_as_dial(Outcome::NotDialed));
        let sent = Vanished {
            recorded_answer: false,
            maybe_sent: true,
        };
        assert_eq!(vanished(sent), Outcome::Unknown);
        let answered = Vanished {
            recorded_answer: true,
            maybe_sent: true,
        };
        assert_eq!(vanished(answered), Outcome::Answered);
    }
}
