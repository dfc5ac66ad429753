//! The CDR sources a CDR service reads, one per PBX (a PBX's own `cdr`
//! table, the first PBX's `[cdr]`), and which one a request reads: the PBX
//! it names, within the user's PBX scope.

use super::cdr::DbSettings;
use std::sync::Arc;

/// Each PBX's CDR settings, in config order, and the PBXs the user may see.
#[derive(Clone)]
pub struct Sites {
    sites: Vec<(String, Arc<DbSettings>)>,
    /// The PBXs the user sees (`None`: every one).
    scope: Option<Vec<String>>,
}

impl Sites {
    /// One source, for the PBX named [`crate::pbx::site::DEFAULT_PBX`].
    pub fn one(settings: DbSettings) -> Self {
        Sites::new(
            vec![(crate::pbx::site::DEFAULT_PBX.to_string(), settings)],
            None,
        )
    }

    /// `sites` (name, settings) in config order; `scope`: the PBXs the
    /// user sees (`None`: every one).
    pub fn new(sites: Vec<(String, DbSettings)>, scope: Option<Vec<String>>) -> Self {
        Sites {
            sites: sites.into_iter().map(|(n, s)| (n, Arc::new(s))).collect(),
            scope,
        }
    }

    fn sees(&self, name: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == name))
    }

    /// The settings for a request naming `pbx` (`None`: the first PBX the
    /// user sees).
    ///
    /// Errors (the message the user reads): no PBX of that name (the names
    /// the user may give are listed), a PBX outside the user's rights, or
    /// no PBX at all the user sees.
    pub fn pick(&self, pbx: Option<&str>) -> Result<&Arc<DbSettings>, String> {
        let visible: Vec<&(String, Arc<DbSettings>)> =
            self.sites.iter().filter(|(n, _)| self.sees(n)).collect();
        let names = || {
            visible
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match pbx {
            None => visible
                .first()
                .map(|(_, s)| s)
                .ok_or_else(|| "you have rights on no PBX of this switchboard".to_string()),
            Some(name) => match self.sites.iter().find(|(n, _)| n == name) {
                Some((n, s)) if self.sees(n) => Ok(s),
                Some(_) => Err(format!(
                    "no rights on PBX {}: yours are {}",
                    crate::sanitize::escape(name),
                    names()
                )),
                None => Err(format!(
                    "no PBX is named `{}`; name one of: {}",
                    crate::sanitize::escape(name),
                    names()
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(table: &str) -> DbSettings {
        DbSettings {
            url: Err("none".into()),
            table: table.into(),
            columns: Default::default(),
            visibility: crate::access::Visibility::All,
            extension_rule: Default::default(),
            tz: chrono_tz::UTC,
            queue_log: Err("none".into()),
            queue_kpi: Default::default(),
            export_dir: ".".into(),
            deadline: std::time::Duration::from_secs(1),
            kpi_days: Err("none".into()),
            connections: Default::default(),
        }
    }

    #[test]
    fn a_request_reads_its_pbx_within_the_users_scope() {
        let sites = || {
            vec![
                ("a".into(), settings("cdr_a")),
                ("b".into(), settings("cdr_b")),
            ]
        };
        let all = Sites::new(sites(), None);
        let table = |r: Result<&Arc<DbSettings>, String>| r.map(|s| s.table.clone());
        assert_eq!(table(all.pick(None)), Ok("cdr_a".into()));
        assert_eq!(table(all.pick(Some("b"))), Ok("cdr_b".into()));
        assert!(table(all.pick(Some("c"))).is_err_and(|e| e.contains("name one of: a, b")));
        // A supervisor of PBX b: b by default, a refused.
        let on_b = Sites::new(sites(), Some(vec!["b".into()]));
        assert_eq!(table(on_b.pick(None)), Ok("cdr_b".into()));
        assert!(
            table(on_b.pick(Some("a")))
                .is_err_and(|e| e.contains("no rights on PBX a: yours are b"))
        );
        let none = Sites::new(sites(), Some(vec![]));
        assert!(none.pick(None).is_err());
    }
}
