//! Roles: what a user may do to the floor, as action × scope (`[roles.NAME]
//! actions = [...] queues = [...]`, given to users by `[acl.users.LOGIN]
//! roles`), the way FOP2 splits its permissions. Admins (and everyone on an
//! install without users in `[acl]`) may do everything.

use super::Visibility;
use super::acl::{AclConfig, Role};
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The rights roles grant (`[roles.NAME] actions`), one per kind of act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    /// Pause and unpause a queue member (`QueuePause`).
    Pause,
    /// Add a member to a queue, remove one, change a penalty
    /// (`QueueAdd`, `QueueRemove`, `QueuePenalty`).
    Members,
    /// Remove a member from every queue it is in.
    Logoff,
    /// Hang up a call (`Hangup`).
    Hangup,
    /// Move a call to an extension, a queue or a context/extension
    /// (`Redirect`).
    Transfer,
    /// Listen to an agent's call from one's own phone (ChanSpy).
    Listen,
    /// Speak to the agent only (ChanSpy whisper).
    Whisper,
    /// Speak to both sides (ChanSpy barge).
    Barge,
}

impl ActKind {
    /// Every kind, in menu order.
    pub const ALL: [ActKind; 8] = [
        ActKind::Pause,
        ActKind::Members,
        ActKind::Logoff,
        ActKind::Hangup,
        ActKind::Transfer,
        ActKind::Listen,
        ActKind::Whisper,
        ActKind::Barge,
    ];

    /// The name used in config files, audit rows and messages.
    pub fn name(self) -> &'static str {
        match self {
            ActKind::Pause => "pause",
            ActKind::Members => "members",
            ActKind::Logoff => "logoff",
            ActKind::Hangup => "hangup",
            ActKind::Transfer => "transfer",
            ActKind::Listen => "listen",
            ActKind::Whisper => "whisper",
            ActKind::Barge => "barge",
        }
    }
}

impl fmt::Display for ActKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `[roles.NAME]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    /// What it may do.
    pub actions: Vec<ActKind>,
    /// The queues it may act in (members of, calls waiting in or taken
    /// from); empty: every queue its user sees.
    #[serde(default)]
    pub queues: Vec<String>,
}

/// `[roles]`: roles by name.
pub type RolesConfig = BTreeMap<String, RoleDef>;

/// One right of a user: a kind of act and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The kind.
    pub kind: ActKind,
    /// The queues it applies in; `None`: every queue the user sees.
    pub queues: Option<Vec<String>>,
}

/// What a user may do: the union of their roles' grants. Sent to an
/// attached console (which offers only these) and checked again by the
/// daemon.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    /// One grant per kind the user has.
    pub grants: Vec<Grant>,
}

impl Rights {
    /// Every kind, everywhere (admins).
    pub fn all() -> Self {
        Rights {
            grants: ActKind::ALL
                .into_iter()
                .map(|kind| Grant { kind, queues: None })
                .collect(),
        }
    }

    /// `login`'s rights under `acl` and `roles`: everything for an admin or
    /// when no user is configured; the union of the user's roles
    /// otherwise; nothing for an unknown login.
    pub fn of(acl: &AclConfig, roles: &RolesConfig, login: &str) -> Self {
        if acl.users.is_empty() {
            return Rights::all();
        }
        let Some(user) = acl.users.get(login) else {
            return Rights::default();
        };
        if user.role == Role::Admin {
            return Rights::all();
        }
        let mut grants: Vec<Grant> = Vec::new();
        for def in user.roles.iter().filter_map(|r| roles.get(r)) {
            let scope = (!def.queues.is_empty()).then(|| def.queues.clone());
            for &kind in &def.actions {
                match grants.iter_mut().find(|g| g.kind == kind) {
                    None => grants.push(Grant {
                        kind,
                        queues: scope.clone(),
                    }),
                    Some(g) => {
                        g.queues = match (g.queues.take(), &scope) {
                            (Some(mut a), Some(b)) => {
                                a.extend(
                                    b.iter()
                                        .filter(|q| !a.contains(q))
                                        .cloned()
                                        .collect::<Vec<_>>(),
                                );
                                Some(a)
                            }
                            _ => None,
                        }
                    }
                }
            }
        }
        grants.sort_by_key(|g| g.kind);
        Rights { grants }
    }

    /// The grant for `kind`, if the user has it.
    pub fn grant(&self, kind: ActKind) -> Option<&Grant> {
        self.grants.iter().find(|g| g.kind == kind)
    }

    /// The user has `kind` somewhere (the menu offers it).
    pub fn has(&self, kind: ActKind) -> bool {
        self.grant(kind).is_some()
    }

    /// The user may do `kind` in `queue`, which they must also see.
    ///
    /// Errors: the words of the refusal, naming the login, the right and
    /// what an admin changes.
    pub fn allows_in(
        &self,
        login: &str,
        kind: ActKind,
        queue: &str,
        visibility: &Visibility,
    ) -> Result<(), String> {
        let grant = self.grant(kind).ok_or_else(|| lacks(login, kind))?;
        let in_scope = grant
            .queues
            .as_ref()
            .is_none_or(|qs| qs.iter().any(|q| q == queue));
        if in_scope && visibility.allows_queue(queue) {
            Ok(())
        } else {
            Err(format!(
                "`{login}` may not {kind} in queue {queue}: outside their roles' queues; an admin adds it to a role's queues"
            ))
        }
    }

    /// The calls `kind` may reach, as a [`Visibility`] to test a call
    /// with (besides the user's own): `All` when the grant names no
    /// queue.
    ///
    /// Errors: the user lacks `kind` (the refusal's words).
    pub fn call_scope(&self, login: &str, kind: ActKind) -> Result<Visibility, String> {
        let grant = self.grant(kind).ok_or_else(|| lacks(login, kind))?;
        Ok(match &grant.queues {
            None => Visibility::All,
            Some(queues) => Visibility::Restricted {
                extensions: Vec::new(),
                queues: queues.clone(),
            },
        })
    }
}

/// The refusal for a right the user does not have.
pub fn lacks(login: &str, kind: ActKind) -> String {
    format!(
        "`{login}` may not {kind}: none of their roles grants it; an admin adds \"{kind}\" to a role's actions in [roles] and the role to [acl.users.{login}] roles"
    )
}

/// Checks roles and the users' references to them.
///
/// Errors: a user naming a role that is not defined
/// (`acl.users.LOGIN.roles`), a role without actions.
pub fn validate(acl: &AclConfig, roles: &RolesConfig) -> Result<(), ConfigError> {
    for (name, def) in roles {
        if def.actions.is_empty() {
            return Err(ConfigError::new(
                &format!("roles.{name}.actions"),
                "a role needs at least one action (pause, members, logoff, hangup, transfer, listen, whisper, barge)",
            ));
        }
    }
    for (login, user) in &acl.users {
        if let Some(missing) = user.roles.iter().find(|r| !roles.contains_key(*r)) {
            let known: Vec<&str> = roles.keys().map(String::as_str).collect();
            return Err(ConfigError::new(
                &format!("acl.users.{login}.roles"),
                format!(
                    "no role `{missing}`; define [roles.{missing}] or use one of: {}",
                    if known.is_empty() {
                        "(none defined)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> (AclConfig, RolesConfig) {
        #[derive(Deserialize)]
        struct File {
            acl: AclConfig,
            #[serde(default)]
            roles: RolesConfig,
        }
        let f: File = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        (f.acl, f.roles)
    }

    #[test]
    fn a_user_gets_the_union_of_their_roles_and_admins_everything() {
        let (acl, roles) = config(
            r#"
[roles.teamlead]
actions = ["pause", "listen", "whisper"]
queues = ["sales"]
[roles.floor]
actions = ["pause"]
queues = ["support"]
[acl.users.ann]
role = "supervisor"
queues = ["sales", "support"]
roles = ["teamlead", "floor"]
[acl.users.boss]
role = "admin"
[acl.users.eve]
role = "supervisor"
"#,
        );
        assert!(validate(&acl, &roles).is_ok());
        let ann = Rights::of(&acl, &roles, "ann");
        let sees = Visibility::Restricted {
            extensions: vec![],
            queues: vec!["sales".into(), "support".into()],
        };
        assert!(ann.allows_in("ann", ActKind::Pause, "sales", &sees).is_ok());
        assert!(
            ann.allows_in("ann", ActKind::Pause, "support", &sees)
                .is_ok()
        );
        let err = ann.allows_in("ann", ActKind::Listen, "support", &sees);
        assert!(err.is_err_and(|e| e.contains("queue support")));
        let err = ann.allows_in("ann", ActKind::Hangup, "sales", &sees);
        assert!(err.is_err_and(|e| e.contains("[acl.users.ann] roles")));
        assert!(!ann.has(ActKind::Barge));
        assert_eq!(Rights::of(&acl, &roles, "boss"), Rights::all());
        assert_eq!(Rights::of(&acl, &roles, "eve"), Rights::default());
        assert_eq!(Rights::of(&acl, &roles, "mallory"), Rights::default());
        // A role's queue the user may not see is still out of reach.
        let only_sales = Visibility::Restricted {
            extensions: vec![],
            queues: vec!["sales".into()],
        };
        assert!(
            ann.allows_in("ann", ActKind::Pause, "support", &only_sales)
                .is_err()
        );
    }

    #[test]
    fn an_undefined_role_is_named() {
        let (acl, roles) = config("[acl.users.ann]\nrole = \"supervisor\"\nroles = [\"lead\"]\n");
        let err = validate(&acl, &roles)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("acl.users.ann.roles") && err.contains("[roles.lead]"),
            "{err}"
        );
    }
}
