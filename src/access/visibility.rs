//! [`Visibility`]: which calls, queues and extensions a user may see, as
//! `[acl]` gives it. The live panes read it through
//! [`super::LiveAccess`]; CDR queries turn it into SQL
//! (`cdr::filter`).

/// Which calls a user may see.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Visibility {
    /// Every call (admin, or no ACL configured).
    All,
    /// Calls where, on any leg of the same call (same `linkedid`, when the
    /// table has it; else the leg itself), one of `extensions` is the
    /// source, the destination or the extension on a channel (by the
    /// filter's [`crate::endpoints::ExtensionRule`]: `PJSIP/301-…`, `IAX2/301-…`,
    /// `Local/301@from-queue-…`), or one of `queues` is the queue the leg waited in
    /// (`lastapp` `Queue`, `lastdata` starting with the queue name).
    Restricted {
        /// Allowed extensions.
        extensions: Vec<String>,
        /// Allowed queues.
        queues: Vec<String>,
    },
}

impl Visibility {
    /// The allowed extensions; `None` for all.
    pub fn extensions(&self) -> Option<&[String]> {
        match self {
            Visibility::All => None,
            Visibility::Restricted { extensions, .. } => Some(extensions),
        }
    }

    /// The allowed queues; `None` for all.
    pub fn queues(&self) -> Option<&[String]> {
        match self {
            Visibility::All => None,
            Visibility::Restricted { queues, .. } => Some(queues),
        }
    }

    /// `extension` is allowed.
    pub fn allows_extension(&self, extension: &str) -> bool {
        self.extensions()
            .is_none_or(|e| e.iter().any(|x| x == extension))
    }

    /// `queue` is allowed.
    pub fn allows_queue(&self, queue: &str) -> bool {
        self.queues().is_none_or(|q| q.iter().any(|x| x == queue))
    }
}
