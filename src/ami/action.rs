//! AMI actions: validated on construction, encoded with an `ActionID`.
//!
//! Nothing reaches Asterisk unchecked: a key or value with CR, LF or NUL would
//! let data inject a header or a whole action, so it is refused here with an
//! error that names the header. Channel variables (`Variable: name=value`)
//! also refuse a comma in the value (Asterisk splits on it) and `=` in the name.

use std::fmt;
use thiserror::Error;

/// Why an action could not be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ActionError {
    /// A key or value contains CR, LF or NUL.
    #[error(
        "AMI header `{key}` contains {what}; remove it (line breaks and NUL would inject headers)"
    )]
    ForbiddenChar {
        /// The header key (or the action name for the `Action` header).
        key: String,
        /// `"CR"`, `"LF"` or `"NUL"`.
        what: &'static str,
    },
    /// A key that is empty or contains `:` or a space.
    #[error("AMI header key `{key}` is not a valid key (empty, or contains ':' or a space)")]
    BadKey {
        /// The key as given.
        key: String,
    },
    /// A channel variable value with a comma, or a name with `=` or a comma.
    #[error("channel variable `{name}`: {why}")]
    BadVariable {
        /// The variable name as given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A validated AMI action. Encode it with [`Action::encode`].
#[derive(Clone, PartialEq, Eq)]
pub struct Action {
    name: String,
    headers: Vec<(String, String)>,
}

fn check_text(key: &str, value: &str) -> Result<(), ActionError> {
    for (c, what) in [('\r', "CR"), ('\n', "LF"), ('\0', "NUL")] {
        if key.contains(c) || value.contains(c) {
            return Err(ActionError::ForbiddenChar {
                key: key.replace(['\r', '\n', '\0'], "?"),
                what,
            });
        }
    }
    Ok(())
}

impl Action {
    /// An action with no headers besides `Action: name`.
    pub fn new(name: &str) -> Result<Self, ActionError> {
        check_text("Action", name)?;
        Ok(Action {
            name: name.to_string(),
            headers: Vec::new(),
        })
    }

    /// Adds a header. Errors when key or value contain CR/LF/NUL, or the key is
    /// not a header name.
    pub fn header(mut self, key: &str, value: &str) -> Result<Self, ActionError> {
        check_text(key, value)?;
        if key.is_empty() || key.contains([':', ' ']) {
            return Err(ActionError::BadKey {
                key: key.to_string(),
            });
        }
        self.headers.push((key.to_string(), value.to_string()));
        Ok(self)
    }

    /// Adds `Variable: name=value`. Errors when the value has a comma, or the
    /// name is empty or has `=`, a comma or a space.
    pub fn variable(self, name: &str, value: &str) -> Result<Self, ActionError> {
        let bad = |why| ActionError::BadVariable {
            name: name.to_string(),
            why,
        };
        if name.is_empty() || name.contains(['=', ',', ' ']) {
            return Err(bad("the name must be non-empty without '=', ',' or spaces"));
        }
        if value.contains(',') {
            return Err(bad(
                "the value contains a comma, which Asterisk would split on",
            ));
        }
        self.header("Variable", &format!("{name}={value}"))
    }

    /// The action name (`Login`, `QueueStatus`...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Wire bytes: `Action`, `ActionID`, the headers, then the blank line.
    /// `action_id` must come from the connection's generator (no CR/LF).
    pub fn encode(&self, action_id: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.headers.len() * 32);
        push_line(&mut out, "Action", &self.name);
        push_line(&mut out, "ActionID", action_id);
        for (k, v) in &self.headers {
            push_line(&mut out, k, v);
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// `Login` with `Events: on`. The secret is only ever put on the wire.
    pub fn login(username: &str, secret: &str) -> Result<Self, ActionError> {
        Action::new("Login")?
            .header("Username", username)?
            .header("Secret", secret)?
            .header("Events", "on")
    }
}

fn push_line(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Action");
        d.field("name", &self.name);
        let shown: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("Secret") {
                    (k.as_str(), "***")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        d.field("headers", &shown).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_order_with_action_id() {
        let a = Action::new("QueueStatus")
            .and_then(|a| a.header("Queue", "sales"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            a.encode("sb-1-7"),
            b"Action: QueueStatus\r\nActionID: sb-1-7\r\nQueue: sales\r\n\r\n"
        );
    }

    #[test]
    fn refuses_injection() {
        for bad in ["a\r\nAction: Command", "a\nb", "a\0b", "a\rb"] {
            let e = Action::new("Originate").and_then(|a| a.header("CallerID", bad));
            assert!(
                matches!(e, Err(ActionError::ForbiddenChar { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Action::new("Ping\r\n"),
            Err(ActionError::ForbiddenChar { .. })
        ));
        assert!(matches!(
            Action::new("Ping").and_then(|a| a.header("Bad: key", "v")),
            Err(ActionError::BadKey { .. })
        ));
    }

    #[test]
    fn variables_refuse_commas_and_bad_names() {
        let a = || Action::new("Originate");
        assert!(
            a().and_then(|a| a.variable("LEAD_NAME", "Smith, John"))
                .is_err()
        );
        assert!(a().and_then(|a| a.variable("A=B", "x")).is_err());
        assert!(a().and_then(|a| a.variable("", "x")).is_err());
        let ok = a()
            .and_then(|a| a.variable("LEAD", "EXEC rm"))
            .map(|a| a.encode("1"));
        assert!(ok.is_ok_and(|b| b.ends_with(b"Variable: LEAD=EXEC rm\r\n\r\n")));
    }

    #[test]
    fn debug_hides_secret() {
        let a = Action::login("u", "s3cret").unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
