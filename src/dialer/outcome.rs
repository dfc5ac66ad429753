//! What became of an attempt: answered (it entered the Stasis app), else
//! the originate's dial status (ARI's `Dial` event: `BUSY`, `NOANSWER`,
//! `CONGESTION`…), else the channel's hangup cause (Q.850, from
//! `ChannelDestroyed`). The dial status comes first because a Local channel
//! ends with cause 0 whatever its other half saw.

use serde::{Deserialize, Serialize};

/// An attempt's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The customer answered (the channel entered the dialer's Stasis app).
    Answered,
    /// Rang out, or no answer (causes 18, 19, 21, and 16 or 0 unanswered).
    NoAnswer,
    /// Busy (cause 17).
    Busy,
    /// The network could not place the call (34, 38, 41, 42, 44).
    Congestion,
    /// Anything else: invalid number (1, 3, 28), refused originate.
    Failed,
    /// The attempt's fate is not known (the engine stopped while it was in
    /// flight and Asterisk no longer has the channel). Never retried.
    Unknown,
    /// Hung up by a supervisor's stop before an answer: the lead is due
    /// again when the campaign runs, and the attempt does not count.
    Stopped,
    /// Nothing was dialed (the engine stopped before sending the originate,
    /// or Asterisk refused it with a 5xx): the lead is due again, and the
    /// attempt does not count.
    NotDialed,
}

impl Outcome {
    /// The outcome of a channel that ended with `cause`, after being
    /// answered or not.
    pub fn from_hangup(cause: i64, answered: bool) -> Self {
        if answered {
            return Outcome::Answered;
        }
        match cause {
            17 => Outcome::Busy,
            0 | 16 | 18 | 19 | 21 | 31 => Outcome::NoAnswer,
            34 | 38 | 41 | 42 | 44 | 47 => Outcome::Congestion,
            _ => Outcome::Failed,
        }
    }

    /// The outcome of an attempt that ended after the dial status
    /// `dial_status` (if one came) and hangup `cause`.
    pub fn from_end(dial_status: Option<&str>, cause: i64, answered: bool) -> Self {
        if answered {
            return Outcome::Answered;
        }
        match dial_status {
            Some("BUSY") => Outcome::Busy,
            Some("NOANSWER" | "CANCEL") => Outcome::NoAnswer,
            Some("CONGESTION") => Outcome::Congestion,
            Some("CHANUNAVAIL" | "INVALIDARGS" | "DONTCALL" | "TORTURE") => Outcome::Failed,
            _ => Outcome::from_hangup(cause, false),
        }
    }

    /// Name in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Congestion => "congestion",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::Stopped => "stopped",
            Outcome::NotDialed => "not_dialed",
        }
    }

    /// The outcome named `s` in the database.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Outcome::Answered,
            Outcome::NoAnswer,
            Outcome::Busy,
            Outcome::Congestion,
            Outcome::Failed,
            Outcome::Unknown,
            Outcome::Stopped,
            Outcome::NotDialed,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_map_to_outcomes() {
        assert_eq!(Outcome::from_hangup(16, true), Outcome::Answered);
        assert_eq!(Outcome::from_hangup(17, false), Outcome::Busy);
        assert_eq!(Outcome::from_hangup(19, false), Outcome::NoAnswer);
        assert_eq!(Outcome::from_hangup(34, false), Outcome::Congestion);
        assert_eq!(Outcome::from_hangup(1, false), Outcome::Failed);
        assert_eq!(Outcome::from_end(Some("BUSY"), 0, false), Outcome::Busy);
        assert_eq!(
            Outcome::from_end(Some("CONGESTION"), 0, false),
            Outcome::Congestion
        );
        assert_eq!(Outcome::from_end(Some(""), 19, false), Outcome::NoAnswer);
        assert_eq!(Outcome::from_end(Some("BUSY"), 0, true), Outcome::Answered);
        for o in [Outcome::Answered, Outcome::Unknown, Outcome::Busy] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
