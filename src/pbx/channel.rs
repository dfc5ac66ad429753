//! Channels, and calls (channels grouped by `Linkedid`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A live channel, keyed by `Uniqueid`.
///
/// Sources: `Newchannel`, `CoreShowChannel` (snapshot), updated by `Newstate`,
/// `NewCallerid`, `NewConnectedLine`, `Newexten`, `BridgeEnter`/`BridgeLeave`,
/// `Hold`/`Unhold`, `Rename`; removed by `Hangup`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// `Uniqueid`.
    pub uniqueid: String,
    /// `Linkedid`: the first channel of the call; all legs share it.
    pub linkedid: String,
    /// Channel name, e.g. `PJSIP/301-0000002a`.
    pub name: String,
    /// `ChannelState` (0 Down, 4 Ring, 5 Ringing, 6 Up, 7 Busy...).
    pub state: u8,
    /// `CallerIDNum`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller_num: String,
    /// `CallerIDName`, unescaped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller_name: String,
    /// `ConnectedLineNum`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connected_num: String,
    /// `ConnectedLineName`, unescaped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connected_name: String,
    /// Dialplan position: `Context`, `Exten`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
    /// `Exten`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exten: String,
    /// Current application (`Application` / `AppData` owner), may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub application: String,
    /// Bridge the channel is in (`BridgeUniqueid` / `BridgeId`), empty if none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bridge: String,
    /// On hold (`Hold` … `Unhold`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_hold: bool,
    /// The channel this one spies on (`ChanSpyStart`'s `SpyeeChannel`,
    /// cleared by `ChanSpyStop`); empty when it does not.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spying: String,
    /// Channel creation time, ms since the Unix epoch (UTC): receive time of
    /// `Newchannel`, or receive time minus `Duration` for a snapshot.
    pub created_ms: i64,
    #[serde(skip)]
    pub(crate) seen: u64,
}

impl Channel {
    /// Text for a `ChannelState` code.
    pub fn state_label(&self) -> &'static str {
        match self.state {
            0 => "Down",
            1 => "Rsrvd",
            2 => "OffHook",
            3 => "Dialing",
            4 => "Ring",
            5 => "Ringing",
            6 => "Up",
            7 => "Busy",
            8 => "Dialing Offhook",
            9 => "Pre-ring",
            _ => "Unknown",
        }
    }

    /// True for the `;1`/`;2` halves of Local channels (plumbing, not phones).
    pub fn is_local(&self) -> bool {
        self.name.starts_with("Local/")
    }
}

/// A bridge: channels talking to each other.
/// Sources: `BridgeCreate`, `BridgeListItem` (snapshot), `BridgeDestroy`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    /// `BridgeUniqueid`.
    pub id: String,
    /// `BridgeType` (basic, stasis...).
    pub kind: String,
    #[serde(skip)]
    pub(crate) seen: u64,
}

/// A call: all live channels sharing one `Linkedid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// The shared `Linkedid`.
    pub linkedid: &'a str,
    /// Its channels, oldest first.
    pub channels: Vec<&'a Channel>,
}

impl<'a> Call<'a> {
    /// Start of the call: creation of its oldest channel (ms since epoch, UTC).
    pub fn started_ms(&self) -> i64 {
        self.channels.first().map(|c| c.created_ms).unwrap_or(0)
    }

    /// The originating channel: the one whose `Uniqueid` is the `Linkedid`,
    /// else the oldest.
    pub fn origin(&self) -> Option<&'a Channel> {
        self.channels
            .iter()
            .find(|c| c.uniqueid == self.linkedid)
            .or(self.channels.first())
            .copied()
    }

    /// The party the caller reaches: the newest non-Local channel other than
    /// the origin, else the newest other channel.
    pub fn peer(&self) -> Option<&'a Channel> {
        let origin = self.origin().map(|c| c.uniqueid.as_str());
        let others = || {
            self.channels
                .iter()
                .rev()
                .filter(|c| Some(c.uniqueid.as_str()) != origin)
        };
        others()
            .find(|c| !c.is_local())
            .or_else(|| others().next())
            .copied()
    }

    /// Answered: two or more of its channels share a bridge.
    pub fn is_bridged(&self) -> bool {
        let mut seen: Vec<&str> = Vec::new();
        for c in &self.channels {
            if c.bridge.is_empty() {
                continue;
            }
            if seen.contains(&c.bridge.as_str()) {
                return true;
            }
            seen.push(&c.bridge);
        }
        false
    }

    /// Any leg on hold.
    pub fn on_hold(&self) -> bool {
        self.channels.iter().any(|c| c.on_hold)
    }

    /// Summary for the screen: On hold, Talking, Queued (a leg waits in a
    /// queue: `queued` says which uniqueids do), Ringing, or the origin's
    /// channel state.
    pub fn status(&self, queued: impl Fn(&str) -> bool) -> &'static str {
        if self.on_hold() {
            "On hold"
        } else if self.is_bridged() {
            "Talking"
        } else if self.channels.iter().any(|c| queued(&c.uniqueid)) {
            "Queued"
        } else if self.channels.iter().any(|c| c.state == 5 || c.state == 4) {
            "Ringing"
        } else {
            self.origin().map(Channel::state_label).unwrap_or("Unknown")
        }
    }
}

/// Groups channels into calls by `Linkedid`, oldest call first.
pub fn calls<'a>(channels: impl Iterator<Item = &'a Channel>) -> Vec<Call<'a>> {
    let mut by_link: BTreeMap<&str, Vec<&Channel>> = BTreeMap::new();
    for c in channels {
        by_link.entry(c.linkedid.as_str()).or_default().push(c);
    }
    let mut out: Vec<Call<'a>> = by_link
        .into_iter()
        .map(|(linkedid, mut channels)| {
            channels.sort_by(|a, b| {
                a.created_ms
                    .cmp(&b.created_ms)
                    .then(a.uniqueid.cmp(&b.uniqueid))
            });
            Call { linkedid, channels }
        })
        .collect();
    out.sort_by_key(|c| (c.started_ms(), c.linkedid));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(uid: &str, link: &str, name: &str, created: i64, bridge: &str) -> Channel {
        Channel {
            uniqueid: uid.into(),
            linkedid: link.into(),
            name: name.into(),
            created_ms: created,
            bridge: bridge.into(),
            state: 6,
            ..Channel::default()
        }
    }

    #[test]
    fn groups_by_linkedid_and_finds_origin_and_peer() {
        let chans = [
            ch("1.2", "1.1", "Local/555@callers;2", 2, "b1"),
            ch("1.1", "1.1", "Local/555@callers;1", 1, ""),
            ch("1.3", "1.1", "PJSIP/301-0001", 3, "b1"),
            ch("2.1", "2.1", "PJSIP/302-0002", 5, ""),
        ];
        let calls = calls(chans.iter());
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].linkedid, "1.1");
        assert_eq!(calls[0].origin().map(|c| c.uniqueid.as_str()), Some("1.1"));
        assert_eq!(
            calls[0].peer().map(|c| c.name.as_str()),
            Some("PJSIP/301-0001")
        );
        assert_eq!(calls[0].status(|_| false), "Talking");
        assert_eq!(calls[1].status(|_| false), "Up");
        assert_eq!(calls[1].status(|u| u == "2.1"), "Queued");
    }
}
