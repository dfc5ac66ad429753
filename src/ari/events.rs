//! The ARI event WebSocket as an actor: it connects, reads events, and on
//! any failure reports Down and reconnects with capped backoff. The engine
//! reconciles after every `Connected` (events may have been missed).

use super::AriSettings;
use base64::Engine as _;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The events the dialer acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AriEvent {
    /// A channel entered the app (an originated channel: it was answered).
    StasisStart {
        /// Channel id.
        channel: String,
        /// Channel name (`PJSIP/trunk-0000002a`): what AMI actions name.
        name: String,
        /// The app's arguments: `dialed` from the engine's originate, or
        /// `amd`, `AMDSTATUS`, `AMDCAUSE` from the AMD context (at most 4,
        /// each at most 64 characters).
        args: Vec<String>,
    },
    /// A dial ended for channel `channel` (the peer) with `status`
    /// (`ANSWER`, `BUSY`, `NOANSWER`, `CANCEL`, `CONGESTION`,
    /// `CHANUNAVAIL`…). Only final statuses are reported.
    Dial {
        /// The dialed channel's id.
        channel: String,
        /// Dial status.
        status: String,
    },
    /// A channel's state changed (`ChannelStateChange`): `Up` means
    /// answered, even if its `StasisStart` is lost or late.
    StateChange {
        /// Channel id.
        channel: String,
        /// `Down`, `Ringing`, `Up`…
        state: String,
    },
    /// A channel is gone; `cause` is its Q.850 hangup cause.
    ChannelDestroyed {
        /// Channel id.
        channel: String,
        /// Hangup cause.
        cause: i64,
    },
    /// A channel variable was set on a channel the app follows (a queue
    /// sets `MEMBERINTERFACE` on the caller when an agent answers, with
    /// `setinterfacevar = yes`).
    VarSet {
        /// Channel id.
        channel: String,
        /// Variable name.
        variable: String,
        /// Its value.
        value: String,
    },
    /// Any other event type (ignored by the dialer).
    Other(String),
}

/// What the actor reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AriMsg {
    /// The WebSocket is up (first time or again): reconcile.
    Connected,
    /// It is down; it tries again after `retry_in`.
    Down {
        /// Why.
        reason: String,
        /// When it tries again.
        retry_in: Duration,
    },
    /// An event.
    Event(AriEvent),
}

/// Parses one event text frame.
pub fn parse(text: &str) -> Option<AriEvent> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let kind = v.get("type")?.as_str()?;
    // A field of the event's channel object, as text.
    let of_channel = |field: &str| {
        v.get("channel")
            .and_then(|c| c.get(field))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    let channel = || of_channel("id");
    Some(match kind {
        "StasisStart" => AriEvent::StasisStart {
            channel: channel()?,
            name: of_channel("name").unwrap_or_default(),
            args: v
                .get("args")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .take(4)
                        .map(|x| x.as_str().unwrap_or("").chars().take(64).collect())
                        .collect()
                })
                .unwrap_or_default(),
        },
        "Dial" => {
            let status = v.get("dialstatus").and_then(|d| d.as_str()).unwrap_or("");
            let peer = v
                .get("peer")
                .and_then(|c| c.get("id"))
                .and_then(|i| i.as_str());
            match peer {
                Some(p) if !status.is_empty() => AriEvent::Dial {
                    channel: p.to_string(),
                    status: status.to_string(),
                },
                _ => AriEvent::Other("Dial".into()),
            }
        }
        "ChannelVarset" => AriEvent::VarSet {
            channel: channel()?,
            variable: v.get("variable")?.as_str()?.to_string(),
            value: v
                .get("value")
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string(),
        },
        "ChannelStateChange" => AriEvent::StateChange {
            channel: channel()?,
            state: of_channel("state").unwrap_or_default(),
        },
        "ChannelDestroyed" => AriEvent::ChannelDestroyed {
            channel: channel()?,
            cause: v.get("cause").and_then(|c| c.as_i64()).unwrap_or(0),
        },
        other => AriEvent::Other(other.to_string()),
    })
}

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the actor; it ends when `tx` is closed.
pub fn spawn(s: AriSettings, tx: mpsc::Sender<AriMsg>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = crate::backoff::Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
        loop {
            let (was_up, reason) = match session(&s, &tx).await {
                Ok(()) => return,
                Err(e) => e,
            };
            if was_up {
                backoff.reset();
            }
            let retry_in = backoff.next_delay();
            if tx.send(AriMsg::Down { reason, retry_in }).await.is_err() {
                return;
            }
            tokio::time::sleep(retry_in).await;
        }
    })
}

/// A failed event-socket connect in words an operator can act on.
fn explain(e: &tokio_tungstenite::tungstenite::Error, s: &AriSettings) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(r) if r.status().as_u16() == 401 => format!(
            "{} refused ARI user `{}` (401): check the user in ari.conf and the password (ari.secret_file)",
            s.base, s.username
        ),
        Error::Http(r) => format!(
            "{} answered HTTP {} to the event socket: is ARI enabled (ari.conf `enabled = yes`, http.conf)?",
            s.base,
            r.status()
        ),
        Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "{}: connection refused: is Asterisk's HTTP server there (http.conf `bindport`, [ari] port)?",
            s.base
        ),
        other => format!("{}: {other}", s.base),
    }
}

/// One connection: `Ok` when the receiver is gone, else whether it had
/// been up and why it ended.
async fn session(s: &AriSettings, tx: &mpsc::Sender<AriMsg>) -> Result<(), (bool, String)> {
    let down = |e: String| (false, e);
    let url = format!(
        "{}/ari/events?app={}&subscribeAll=false",
        s.base.replacen("http", "ws", 1),
        s.app
    );
    let mut req = url.into_client_request().map_err(|e| down(e.to_string()))?;
    let token = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        s.username,
        s.secret.expose()
    ));
    let auth = format!("Basic {token}")
        .parse()
        .map_err(|_| down("the ARI user or password is not valid in a header".to_string()))?;
    req.headers_mut().insert("Authorization", auth);
    let (mut ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(req))
        .await
        .map_err(|_| down(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
        .map_err(|e| down(explain(&e, s)))?;
    if tx.send(AriMsg::Connected).await.is_err() {
        return Ok(());
    }
    while let Some(frame) = ws.next().await {
        let frame = frame.map_err(|e| (true, e.to_string()))?;
        let event = match frame {
            Message::Text(t) => parse(t.as_str()),
            Message::Close(_) => return Err((true, "Asterisk closed the event socket".into())),
            _ => None,
        };
        if let Some(e) = event
            && tx.send(AriMsg::Event(e)).await.is_err()
        {
            return Ok(());
        }
    }
    Err((true, "the event socket ended".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse() {
        assert_eq!(
            parse(
                r#"{"type":"ChannelDestroyed","cause":17,"cause_txt":"User busy","channel":{"id":"sb-1-1","name":"Local/x"}}"#
            ),
            Some(AriEvent::ChannelDestroyed {
                channel: "sb-1-1".into(),
                cause: 17
            })
        );
        assert_eq!(
            parse(r#"{"type":"ChannelStateChange","channel":{"id":"sb-5-1","state":"Up"}}"#),
            Some(AriEvent::StateChange {
                channel: "sb-5-1".into(),
                state: "Up".into()
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"StasisStart","args":["dialed"],"channel":{"id":"sb-2-1","name":"Local/5551230@customers-00000001;1"}}"#
            ),
            Some(AriEvent::StasisStart {
                channel: "sb-2-1".into(),
                name: "Local/5551230@customers-00000001;1".into(),
                args: vec!["dialed".into()],
            })
        );
        assert_eq!(
            parse(r#"{"type":"Dial","dialstatus":""}"#),
            Some(AriEvent::Other("Dial".into()))
        );
        assert_eq!(
            parse(r#"{"type":"Dial","dialstatus":"BUSY","peer":{"id":"sb-3-1"}}"#),
            Some(AriEvent::Dial {
                channel: "sb-3-1".into(),
                status: "BUSY".into()
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"ChannelVarset","variable":"MEMBERINTERFACE","value":"Local/201@agents/n","channel":{"id":"sb-4-1"}}"#
            ),
            Some(AriEvent::VarSet {
                channel: "sb-4-1".into(),
                variable: "MEMBERINTERFACE".into(),
                value: "Local/201@agents/n".into()
            })
        );
        assert_eq!(parse("not json"), None);
    }
}
