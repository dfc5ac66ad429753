//! ARI REST calls: originate, continue in the dialplan, hang up, list
//! channels, subscribe to a channel. Every value is checked before it is
//! sent (no control characters; channel variables as separate JSON values).

use super::{AriError, AriSettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one REST call may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A channel as `GET /channels` lists it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ChannelSummary {
    /// Channel id (the dialer's attempt id for its channels).
    pub id: String,
    /// Channel name (`Local/5551234@customers-00000012;1`).
    pub name: String,
    /// `Down`, `Ringing`, `Up`…
    pub state: String,
    /// Where it is in the dialplan (`app_name` `Stasis` while it waits in
    /// an ARI application).
    #[serde(default)]
    pub dialplan: ChannelDialplan,
}

/// A channel's dialplan location, as `GET /channels` gives it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ChannelDialplan {
    /// The application running (`Stasis`, `Queue`, `Wait`…).
    #[serde(default)]
    pub app_name: String,
}

/// What to originate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Originate<'a> {
    /// Channel id to give the new channel (the attempt id).
    pub channel_id: &'a str,
    /// Dial string (`PJSIP/5551234@trunk`).
    pub endpoint: &'a str,
    /// Caller ID (`"Name" <number>`).
    pub caller_id: &'a str,
    /// Ring time, seconds.
    pub timeout_s: u32,
    /// Channel variables, sent as JSON values (never spliced into a string
    /// Asterisk parses).
    pub variables: &'a BTreeMap<String, String>,
}

/// A REST client for one Asterisk.
#[derive(Clone, Debug)]
pub struct Rest {
    http: reqwest::Client,
    s: AriSettings,
}

fn check(what: &str, v: &str) -> Result<(), AriError> {
    if v.chars().any(|c| c.is_control()) {
        return Err(AriError::Invalid(format!(
            "{what} contains a control character"
        )));
    }
    Ok(())
}

impl Rest {
    /// A client for `s`.
    ///
    /// Errors: the HTTP client cannot be built (TLS setup).
    pub fn new(s: AriSettings) -> Result<Self, AriError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| AriError::Unreachable {
                base: s.base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Rest { http, s })
    }

    /// The Stasis app this client originates into (`[ari] app`).
    pub fn app(&self) -> &str {
        &self.s.app
    }

    /// The settings.
    pub fn settings(&self) -> &AriSettings {
        &self.s
    }

    async fn send(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AriError> {
        let resp = req
            .basic_auth(&self.s.username, Some(self.s.secret.expose()))
            .send()
            .await
            .map_err(|e| AriError::Unreachable {
                base: self.s.base.clone(),
                reason: e.without_url().to_string(),
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        // Asterisk's answer is peer text (a 503 is a multi-line HTML page):
        // one escaped line, at most 300 characters, wherever it is shown.
        let text: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let body = crate::sanitize::escape(&text).into_owned();
        Err(AriError::Status {
            what: what.to_string(),
            status: status.as_u16(),
            body,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/ari{path}", self.s.base)
    }

    /// Creates the channel and dials; when answered it enters the Stasis
    /// app with the argument `dialed`.
    ///
    /// Errors: a bad value (refused before sending), Asterisk unreachable,
    /// or refused (400 bad endpoint, 409 the id is in use).
    pub async fn originate(&self, o: Originate<'_>) -> Result<(), AriError> {
        for (what, v) in [
            ("channel id", o.channel_id),
            ("endpoint", o.endpoint),
            ("caller id", o.caller_id),
        ] {
            check(what, v)?;
        }
        for (k, v) in o.variables {
            check("variable name", k)?;
            check("variable value", v)?;
        }
        let timeout = o.timeout_s.to_string();
        let req = self
            .http
            .post(self.url(&format!("/channels/{}", o.channel_id)))
            .query(&[
                ("endpoint", o.endpoint),
                ("app", self.s.app.as_str()),
                ("appArgs", "dialed"),
                ("callerId", o.caller_id),
                ("timeout", timeout.as_str()),
            ])
            .json(&serde_json::json!({ "variables": o.variables }));
        self.send("originate", req).await.map(|_| ())
    }

    /// Sends channel `id` (in the Stasis app) on to `context`/`exten`,
    /// priority 1.
    ///
    /// Errors: Asterisk unreachable, or the channel is gone (404) or not in
    /// the app (409).
    pub async fn continue_to(&self, id: &str, context: &str, exten: &str) -> Result<(), AriError> {
        check("context", context)?;
        check("extension", exten)?;
        let req = self
            .http
            .post(self.url(&format!("/channels/{id}/continue")))
            .query(&[
                ("context", context),
                ("extension", exten),
                ("priority", "1"),
            ]);
        self.send("continue", req).await.map(|_| ())
    }

    /// Hangs channel `id` up (normal clearing).
    ///
    /// Errors: Asterisk unreachable, or no such channel (404).
    pub async fn hangup(&self, id: &str) -> Result<(), AriError> {
        let req = self
            .http
            .delete(self.url(&format!("/channels/{id}")))
            .query(&[("reason", "normal")]);
        self.send("hangup", req).await.map(|_| ())
    }

    /// Asks Asterisk whether it answers (`GET /asterisk/ping`).
    ///
    /// Errors: Asterisk unreachable or not answering in time.
    pub async fn ping(&self) -> Result<(), AriError> {
        self.send("ping", self.http.get(self.url("/asterisk/ping")))
            .await
            .map(|_| ())
    }

    /// Every channel Asterisk has.
    ///
    /// Errors: Asterisk unreachable, or a body that is not a channel list.
    pub async fn channels(&self) -> Result<Vec<ChannelSummary>, AriError> {
        let resp = self
            .send("channels", self.http.get(self.url("/channels")))
            .await?;
        resp.json().await.map_err(|e| AriError::Unreachable {
            base: self.s.base.clone(),
            reason: format!("channel list: {}", e.without_url()),
        })
    }

    /// Subscribes the app to channel `id`'s events (kept after it leaves
    /// the app, so its hangup is seen).
    ///
    /// Errors: Asterisk unreachable, or no such channel.
    pub async fn subscribe(&self, id: &str) -> Result<(), AriError> {
        let source = format!("channel:{id}");
        let req = self
            .http
            .post(self.url(&format!("/applications/{}/subscription", self.s.app)))
            .query(&[("eventSource", source.as_str())]);
        self.send("subscribe", req).await.map(|_| ())
    }
}
