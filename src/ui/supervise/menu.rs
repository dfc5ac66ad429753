//! The action menu: what the user may do to the selected row, k9s-style
//! (one key opens it). Built from the user's rights (kinds their roles do
//! not grant, or queues outside their scope, are not offered) and the
//! PBX's manager privileges (kinds it may not send are shown greyed with
//! the `write =` class to add).
//!
//! - an extension: pause or unpause it in every queue or one, its penalty,
//!   remove it, add it to a queue, log it off; hang up or transfer its call;
//! - a queue: the same per member, and add a member;
//! - a call: hang up, transfer;
//! - an agent on a call: listen, whisper, barge from the user's phone; and
//!   while that phone is spying, switching the mode.

use super::SuperviseView;
use super::state::{Menu, MenuItem, Then};
use crate::access::ActKind;
use crate::pbx::{Pbx, Queue, QueueMember};
use crate::supervise::{Act, SpyMode};
use crate::ui::model::{Model, PaneId};
use crate::ui::screens::live;
use crate::ui::table;

/// Collects items for one PBX, leaving out what the user may not do.
struct Items<'a> {
    view: &'a SuperviseView,
    model: &'a Model,
    pbx: &'a str,
    items: Vec<MenuItem>,
}

impl Items<'_> {
    /// Adds an item when the user has `kind` (in `queue`, when one).
    fn push(&mut self, kind: ActKind, queue: Option<&str>, label: String, then: Then) {
        let allowed = match queue {
            Some(q) => self
                .view
                .rights
                .allows_in("", kind, q, &self.model.access)
                .is_ok(),
            None => self.view.rights.has(kind),
        };
        if allowed {
            self.items.push(MenuItem {
                label,
                then,
                blocked: self.view.blocked(self.pbx, kind).map(str::to_string),
            });
        }
    }

    /// The command line's text for an act typed on this PBX.
    fn typed(&self, text: String) -> Then {
        if self.model.pbxs.is_many() {
            Then::Type(format!("pbx:{} {text}", self.pbx))
        } else {
            Then::Type(text)
        }
    }

    fn run(&self, act: Act) -> Then {
        Then::Run(self.pbx.to_string(), act)
    }

    fn ask(&self, act: Act, question: String) -> Then {
        Then::Ask(self.pbx.to_string(), act, question)
    }

    /// Pause or unpause `interface` in `queue` (`None`: every queue), with
    /// `paused` its state there now; `of` names the member in a list of
    /// several (` Alice Martin`), empty otherwise.
    fn pause(&mut self, interface: &str, queue: Option<&str>, paused: bool, of: &str) {
        let place = queue.map_or("every queue".to_string(), |q| q.to_string());
        if paused {
            let act = Act::Unpause {
                interface: interface.into(),
                queue: queue.map(str::to_string),
            };
            let then = self.run(act);
            self.push(
                ActKind::Pause,
                queue,
                format!("Unpause{of} in {place}"),
                then,
            );
            return;
        }
        let head = match queue {
            Some(q) => format!("pause {interface} in {q} "),
            None => format!("pause {interface} "),
        };
        let pause = |reason: &str| Act::Pause {
            interface: interface.into(),
            queue: queue.map(str::to_string),
            reason: reason.into(),
        };
        let mut items: Vec<MenuItem> = self
            .view
            .pause_reasons
            .iter()
            .map(|r| MenuItem {
                label: r.clone(),
                then: self.run(pause(r)),
                blocked: None,
            })
            .collect();
        items.push(MenuItem {
            label: "No reason".into(),
            then: self.run(pause("")),
            blocked: None,
        });
        items.push(MenuItem {
            label: "Type a reason…".into(),
            then: self.typed(head),
            blocked: None,
        });
        let reasons = Menu {
            title: format!("Pause {interface} in {place}: why?"),
            items,
            selected: 0,
        };
        self.push(
            ActKind::Pause,
            queue,
            format!("Pause{of} in {place}…"),
            Then::Open(Box::new(reasons)),
        );
    }

    /// `m`'s items in queue `q` (pause, penalty, remove), named by `who`
    /// when the menu lists several members.
    fn member(&mut self, q: &Queue, m: &QueueMember, who: Option<&str>) {
        let of = who.map(|w| format!(" {w}")).unwrap_or_default();
        self.pause(&m.interface, Some(&q.name), m.paused, &of);
        let then = self.typed(format!("penalty {} in {} ", m.interface, q.name));
        let label = format!("Penalty{of} in {} (now {})…", q.name, m.penalty);
        self.push(ActKind::Members, Some(&q.name), label, then);
        let act = Act::Remove {
            queue: q.name.clone(),
            interface: m.interface.clone(),
        };
        let question = format!("Remove {} from queue {}?", m.interface, q.name);
        let then = self.ask(act, question);
        self.push(
            ActKind::Members,
            Some(&q.name),
            format!("Remove{of} from {}", q.name),
            then,
        );
    }

    /// Listen, whisper, barge on agent `interface`'s call from the user's
    /// phone; `of` names the agent in a list of several.
    fn spy(&mut self, interface: &str, of: &str) {
        let phone = self.view.phone.clone();
        for mode in [SpyMode::Listen, SpyMode::Whisper, SpyMode::Barge] {
            let act = Act::Spy {
                interface: interface.into(),
                mode,
            };
            let verb = match mode {
                SpyMode::Listen => "Listen to",
                SpyMode::Whisper => "Whisper to",
                SpyMode::Barge => "Barge in on",
            };
            let then = match mode {
                SpyMode::Barge => {
                    let question =
                        format!("Barge in on{of} {interface}'s call? Both sides will hear you.");
                    self.ask(act, question)
                }
                _ => self.run(act),
            };
            let on = phone
                .as_deref()
                .map(|p| format!(" (rings {p})"))
                .unwrap_or_default();
            let before = self.items.len();
            self.push(
                mode.kind(),
                None,
                format!("{verb}{of} {interface}{on}"),
                then,
            );
            if phone.is_none()
                && let Some(item) = self.items.get_mut(before)
            {
                item.blocked = Some(
                    "you have no phone to listen on; an admin sets phone = \"PJSIP/…\" in your [acl.users] entry".into(),
                );
            }
        }
    }

    /// Switching the spy the user's phone is on, when it is on one.
    fn my_spy(&mut self, p: &Pbx) {
        let Some(phone) = self.view.phone.as_deref() else {
            return;
        };
        let prefix = format!("{phone}-");
        let spying = p.state.channels.values().any(|c| {
            c.name.starts_with(&prefix) && (!c.spying.is_empty() || c.application == "ChanSpy")
        });
        if !spying {
            return;
        }
        for mode in [SpyMode::Listen, SpyMode::Whisper, SpyMode::Barge] {
            let then = self.run(Act::SpyMode { mode });
            self.push(mode.kind(), None, format!("My spy: {}", mode.name()), then);
        }
    }

    /// Hang up or transfer the call on `channel`, `who` for the question
    /// (`the call from José Núñez <5550908>`).
    fn call(&mut self, channel: &str, who: &str) {
        let act = Act::Hangup {
            channel: channel.into(),
        };
        let question = format!("Hang up {who} ({channel})? It ends for every party.");
        let then = self.ask(act, question);
        self.push(ActKind::Hangup, None, format!("Hang up {channel}"), then);
        let then = self.typed(format!("transfer {channel} to "));
        self.push(
            ActKind::Transfer,
            None,
            format!("Transfer {channel}…"),
            then,
        );
    }
}

/// The menu for the focused pane's selected row.
///
/// Errors: nothing is selected, or the user may do nothing to it (the
/// words for the notice).
pub fn for_selection(model: &Model) -> Result<Menu, String> {
    let view = &model.supervise;
    if view.rights.grants.is_empty() {
        return Err(
            "your roles grant no actions; an admin gives you a role in [acl.users] (see [roles])"
                .into(),
        );
    }
    let pane = model.focus;
    let rows = live::rows(model, pane);
    let row = rows
        .get(table::selected_index(&rows, model.table(pane)))
        .ok_or("nothing selected")?;
    let p = model.pbxs.by_name(row.pbx).ok_or("nothing selected")?;
    let mut items = Items {
        view,
        model,
        pbx: &p.name,
        items: Vec::new(),
    };
    let title = match pane {
        PaneId::Extensions => extension(&mut items, p, row.key),
        PaneId::Queues => queue(&mut items, p, row.key),
        PaneId::Calls => {
            let calls = crate::pbx::calls(p.state.channels.values());
            let call = calls.iter().find(|c| c.linkedid == row.key);
            // The caller's own channel (the one in the queue or the
            // bridge), as the pane's From column shows it.
            match call.and_then(live::calls::caller) {
                Some(origin) => {
                    let who = match live::calls::party(&origin.caller_name, &origin.caller_num) {
                        p if p.is_empty() => origin.name.clone(),
                        p => p,
                    };
                    items.call(&origin.name, &format!("the call from {who}"));
                    format!("Call from {who}")
                }
                None => return Err("the call has ended".into()),
            }
        }
    };
    items.my_spy(p);
    if items.items.is_empty() {
        return Err(format!("no action you may take on {title}"));
    }
    Ok(Menu {
        title,
        items: items.items,
        selected: 0,
    })
}

/// An extension's items: its queue memberships, its call.
fn extension(items: &mut Items<'_>, p: &Pbx, device: &str) -> String {
    let mut queues: Vec<(&Queue, &QueueMember)> = p
        .state
        .queues
        .values()
        .filter_map(|q| {
            q.members
                .values()
                .find(|m| is_device(m, device))
                .map(|m| (q, m))
        })
        .collect();
    queues.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    if let Some((_, first)) = queues.first() {
        let interface = first.interface.clone();
        if queues.len() > 1 {
            if queues.iter().any(|(_, m)| !m.paused) {
                items.pause(&interface, None, false, "");
            }
            if queues.iter().any(|(_, m)| m.paused) {
                items.pause(&interface, None, true, "");
            }
        }
        for (q, m) in &queues {
            items.member(q, m, None);
        }
        let act = Act::Logoff {
            interface: interface.clone(),
        };
        let question = format!("Log {interface} off from every queue?");
        let then = items.ask(act, question);
        items.push(
            ActKind::Logoff,
            None,
            "Log off from every queue".into(),
            then,
        );
    }
    let then = items.typed(format!("add {device} to "));
    items.push(ActKind::Members, None, "Add to a queue…".into(), then);
    let prefix = format!("{device}-");
    if let Some(c) = p
        .state
        .channels
        .values()
        .find(|c| c.name.starts_with(&prefix))
    {
        let name = c.name.clone();
        items.call(&name, &format!("{device}'s call"));
        items.spy(device, "");
    }
    device.to_string()
}

/// A queue's items: each member's, and adding one.
fn queue(items: &mut Items<'_>, p: &Pbx, name: &str) -> String {
    let Some(q) = p.state.queues.get(name) else {
        return name.to_string();
    };
    for m in q.members.values() {
        let who = if m.name.is_empty() {
            &m.interface
        } else {
            &m.name
        };
        items.member(q, m, Some(who));
        if m.in_call {
            items.spy(&m.interface, &format!(" {who}"));
        }
    }
    // The interface is typed last, where the cursor is.
    let then = items.typed(format!("add to {name} "));
    items.push(ActKind::Members, Some(name), "Add a member…".into(), then);
    format!("queue {name}")
}

/// `m` is the extension on `device` (its interface, less a Local's `/n`,
/// or its state interface).
fn is_device(m: &QueueMember, device: &str) -> bool {
    m.interface == device
        || m.state_interface == device
        || m.interface.trim_end_matches("/n") == device
}
