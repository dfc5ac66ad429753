//! The work behind the screens, run off any UI loop: the CDR service
//! (History pages, a call's legs, KPIs, exports; one source per PBX,
//! [`cdr_sites`]) and the campaigns service
//! (campaign status and intents in the app database). Each is an actor
//! with a request channel and a reply channel; each applies the user's
//! rights itself. The direct console, the daemon (one pair per attached
//! console) and the tests start them the same way.

pub mod campaigns;
pub mod cdr;
pub mod cdr_sites;
pub mod supervise;
