//! Several AMI links' messages taken as one feed, each tagged with its
//! link's index, the links taken in turn: a link in an event storm yields
//! one message, then every other link with one waiting yields one, so a
//! flooding PBX never holds back another's figures (the daemon's hub and
//! the direct console read their PBXs through this).

use super::AmiMsg;
use super::connection::{self, AMI_QUEUE, LinkHealth, Settings};
use std::task::{Context, Poll};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Live links, one per PBX, started: their messages, their freshness by
/// PBX index, and the tasks to abort when done.
pub struct Links {
    /// Each link's messages.
    pub ami: FanIn,
    /// `(pbx index, freshness)` each time a link's freshness changes.
    pub health: mpsc::Receiver<(usize, LinkHealth)>,
    /// The links' actors and their freshness forwarders.
    pub tasks: Vec<JoinHandle<()>>,
    /// Each link's handle, to send actions on (PBX order; none for a
    /// replay).
    pub handles: Vec<connection::Handle>,
}

/// Starts one AMI link per entry of `settings` (PBX order).
pub fn spawn_links(settings: Vec<Settings>) -> Links {
    let (health_tx, health) = mpsc::channel(16);
    let mut receivers = Vec::new();
    let mut tasks = Vec::new();
    let mut handles = Vec::new();
    for (i, s) in settings.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(AMI_QUEUE);
        let (handle, task) = connection::spawn(s, tx, None);
        receivers.push(rx);
        tasks.push(task);
        tasks.push(tokio::spawn(forward_health(
            i,
            handle.health(),
            health_tx.clone(),
        )));
        handles.push(handle);
    }
    Links {
        ami: FanIn::new(receivers),
        health,
        tasks,
        handles,
    }
}

/// Sends link `i`'s freshness into `tx` each time it changes.
async fn forward_health(
    i: usize,
    mut health: watch::Receiver<LinkHealth>,
    tx: mpsc::Sender<(usize, LinkHealth)>,
) {
    while health.changed().await.is_ok() {
        let h = *health.borrow_and_update();
        if tx.send((i, h)).await.is_err() {
            return;
        }
    }
}

/// The links' receivers, read in turn.
#[derive(Debug)]
pub struct FanIn {
    /// One per link, in PBX order; `None` once that link ended.
    links: Vec<Option<mpsc::Receiver<AmiMsg>>>,
    /// Where the next turn starts.
    next: usize,
}

impl FanIn {
    /// The links in PBX order (index `i` is PBX `i`).
    pub fn new(links: Vec<mpsc::Receiver<AmiMsg>>) -> Self {
        FanIn {
            links: links.into_iter().map(Some).collect(),
            next: 0,
        }
    }

    /// The next message `(pbx index, message)`, or `None` when every link
    /// has ended.
    pub async fn recv(&mut self) -> Option<(usize, AmiMsg)> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// A message already waiting, if any (the next link in turn first).
    pub fn try_recv(&mut self) -> Option<(usize, AmiMsg)> {
        let n = self.links.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(Ok(msg)) = self.links[i].as_mut().map(mpsc::Receiver::try_recv) {
                self.next = (i + 1) % n;
                return Some((i, msg));
            }
        }
        None
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, AmiMsg)>> {
        let n = self.links.len();
        let mut open = false;
        for k in 0..n {
            let i = (self.next + k) % n;
            let Some(rx) = self.links[i].as_mut() else {
                continue;
            };
            match rx.poll_recv(cx) {
                Poll::Ready(Some(msg)) => {
                    self.next = (i + 1) % n;
                    return Poll::Ready(Some((i, msg)));
                }
                Poll::Ready(None) => self.links[i] = None,
                Poll::Pending => open = true,
            }
        }
        if open {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ami::ConnectionState;

    fn msg() -> AmiMsg {
        AmiMsg::State(ConnectionState::Ready)
    }

    #[tokio::test]
    async fn a_flooding_link_takes_turns_with_a_quiet_one() {
        let (flood_tx, flood) = mpsc::channel(64);
        let (quiet_tx, quiet) = mpsc::channel(4);
        for _ in 0..50 {
            flood_tx.try_send(msg()).unwrap_or_default();
        }
        quiet_tx.try_send(msg()).unwrap_or_default();
        let mut fan = FanIn::new(vec![flood, quiet]);
        let first: Vec<usize> = [fan.try_recv(), fan.try_recv()]
            .into_iter()
            .flatten()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            first,
            [0, 1],
            "the quiet link's message comes second, not 51st"
        );
        drop((flood_tx, quiet_tx));
        let mut rest = 0;
        while fan.recv().await.is_some() {
            rest += 1;
        }
        assert_eq!(rest, 49, "every message arrives, then the feed ends");
    }
}
