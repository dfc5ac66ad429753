//! Who sees what, and who may do what: the `[acl]` config turned into a
//! [`Visibility`] (live panes, History, KPIs, exports) and campaign rights.

use super::Visibility;
use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A user's role.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every call.
    Admin,
    /// Sees calls of their extensions (and queues).
    Supervisor,
}

/// One `[acl.users.<login>]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AclUser {
    /// Role.
    pub role: Role,
    /// Extensions whose calls the user sees.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Queues whose calls the user sees.
    #[serde(default)]
    pub queues: Vec<String>,
    /// May start, pause and stop campaigns (admins always may).
    #[serde(default)]
    pub campaigns: bool,
    /// With several `[[pbx]]`: the PBXs whose live data the user sees (by
    /// name); empty, every PBX. Rights by extension and queue apply within
    /// them.
    #[serde(default)]
    pub pbxs: Vec<String>,
    /// The roles that say what the user may do to the floor
    /// (`[roles.NAME]`); admins need none.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user's own phone, rung to listen, whisper or barge
    /// (`PJSIP/301`).
    #[serde(default)]
    pub phone: Option<String>,
}

/// `[acl]`: per-user access, by Unix login. With no user configured,
/// everyone sees every call (a single-supervisor install).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AclConfig {
    /// Users by login.
    pub users: BTreeMap<String, AclUser>,
}

impl AclConfig {
    /// Checks every user's extensions (the PBX names are checked where the
    /// PBXs are known).
    ///
    /// Errors: an extension that is not one, named
    /// (`acl.users.LOGIN.extensions`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (login, u) in &self.users {
            if let Some(bad) = u.extensions.iter().find(|e| {
                e.is_empty()
                    || !e
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "*#+-_".contains(c))
            }) {
                return Err(ConfigError::new(
                    &format!("acl.users.{login}.extensions"),
                    format!("`{bad}` is not an extension"),
                ));
            }
        }
        Ok(())
    }
}

/// What `login` may see under `acl`. With no user configured everyone sees
/// every call (a single-supervisor install); an admin sees every call; a
/// supervisor sees the calls their extensions were on.
///
/// Errors: users are configured and `login` is not one of them (the message
/// says what an admin adds).
pub fn visibility(acl: &AclConfig, login: &str) -> Result<Visibility, ConfigError> {
    if acl.users.is_empty() {
        return Ok(Visibility::All);
    }
    match acl.users.get(login) {
        Some(u) if u.role == Role::Admin => Ok(Visibility::All),
        Some(u) => Ok(Visibility::Restricted {
            extensions: u.extensions.clone(),
            queues: u.queues.clone(),
        }),
        None => Err(ConfigError::new(
            "acl.users",
            format!(
                "user `{login}` has no access; an admin adds [acl.users.{login}] to the config"
            ),
        )),
    }
}

/// The PBXs whose live data `login` sees: `None` for every PBX (an admin,
/// no ACL, or a user with no `pbxs` listed).
pub fn pbx_scope(acl: &AclConfig, login: &str) -> Option<Vec<String>> {
    acl.users
        .get(login)
        .filter(|u| u.role != Role::Admin && !u.pbxs.is_empty())
        .map(|u| u.pbxs.clone())
}

/// `login` is an admin: listed with `role = "admin"`, or anyone when no
/// user is configured (a single-supervisor install).
pub fn is_admin(acl: &AclConfig, login: &str) -> bool {
    acl.users.is_empty() || acl.users.get(login).is_some_and(|u| u.role == Role::Admin)
}

/// `login` may start, pause and stop campaigns: anyone when no user is
/// configured, an admin, or a user with `campaigns = true`.
pub fn may_control_campaigns(acl: &AclConfig, login: &str) -> bool {
    acl.users.is_empty()
        || acl
            .users
            .get(login)
            .is_some_and(|u| u.role == Role::Admin || u.campaigns)
}

/// The login whose view applies: the Unix account running switchboard
/// (from the process's uid, not from `$USER`, which anyone can set), or
/// `as_user` when given. Looking as another user is for admins (and for
/// installs without users in `[acl]`).
///
/// Errors: `as_user` names someone else and the running login is not an
/// admin; the uid has no account name.
pub fn login(acl: &AclConfig, as_user: Option<&str>) -> Result<String, ConfigError> {
    let me = uzers::get_current_username()
        .and_then(|n| n.into_string().ok())
        .ok_or_else(|| {
            ConfigError::new(
                "acl.users",
                "this process's uid has no account name; run switchboard as a named user",
            )
        })?;
    match as_user {
        Some(other) if other != me => {
            if is_admin(acl, &me) {
                Ok(other.to_string())
            } else {
                Err(ConfigError::new(
                    "acl.users",
                    format!(
                        "--as-user {other}: only an admin may look as another user, and `{me}` is not one"
                    ),
                ))
            }
        }
        _ => Ok(me),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_visibility() {
        let acl: AclConfig = toml::from_str(
            "[users.alice]\nrole = \"supervisor\"\nextensions = [\"301\"]\n[users.boss]\nrole = \"admin\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(acl.validate().is_ok());
        assert_eq!(
            visibility(&acl, "alice"),
            Ok(Visibility::Restricted {
                extensions: vec!["301".into()],
                queues: vec![],
            })
        );
        assert_eq!(visibility(&acl, "boss"), Ok(Visibility::All));
        assert!(visibility(&acl, "eve").is_err_and(|e| e.message.contains("[acl.users.eve]")));
        assert_eq!(
            visibility(&AclConfig::default(), "anyone"),
            Ok(Visibility::All)
        );
    }
}
