//! A lead's data as channel variables on its originate.

use crate::dialer::store::Claimed;
use std::collections::BTreeMap;

/// Lead data as channel variables: `SB_<COLUMN>` (letters, digits and `_`
/// only, as checked at import), values percent-encoded so no character of
/// a lead's data (a comma, a newline, `EXEC`) can act in the dialplan.
pub fn lead_variables(c: &Claimed, campaign: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for (k, v) in &c.data {
        let name: String = k
            .chars()
            .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
            .collect::<String>()
            .to_ascii_uppercase();
        if !name.is_empty() {
            vars.insert(format!("SB_{name}"), percent_encode(v));
        }
    }
    vars.insert("SB_LEAD_ID".into(), c.lead_id.to_string());
    vars.insert("SB_ATTEMPT_ID".into(), c.attempt_id.clone());
    vars.insert("SB_CAMPAIGN".into(), campaign.to_string());
    vars
}

/// `v` with every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX` (what
/// Asterisk's `URIDECODE()` reverses).
pub fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_data_is_inert() {
        let mut data = BTreeMap::new();
        data.insert(
            "name".to_string(),
            "Smith, John\r\nEXEC(System(rm -rf /))".to_string(),
        );
        data.insert("account".to_string(), "A-1".to_string());
        let c = Claimed {
            attempt_id: "sb-1-1".into(),
            lead_id: 1,
            number: "5551234".into(),
            data,
        };
        let v = lead_variables(&c, "spring");
        assert_eq!(
            v.get("SB_NAME").map(String::as_str),
            Some("Smith%2C%20John%0D%0AEXEC%28System%28rm%20-rf%20%2F%29%29")
        );
        assert_eq!(v.get("SB_ACCOUNT").map(String::as_str), Some("A-1"));
        assert_eq!(v.get("SB_ATTEMPT_ID").map(String::as_str), Some("sb-1-1"));
        for value in v.values() {
            assert!(!value.contains([',', '\r', '\n', '(', ' ']), "{value}");
        }
    }
}
