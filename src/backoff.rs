//! Reconnect delays, one type for every link (AMI, the ARI event socket):
//! doubled per failure from `min` up to `max`, each delay ±20 % so a fleet
//! of consoles or engines does not reconnect in lockstep, and back to `min`
//! once a connection has worked.

use std::time::Duration;

/// Capped exponential backoff with jitter.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `min`, never above `max` (before jitter).
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// The delay before the next attempt (with jitter), doubling the one
    /// after it.
    pub fn next_delay(&mut self) -> Duration {
        let d = jitter(self.next);
        self.next = self.next.saturating_mul(2).min(self.max);
        d
    }

    /// The link worked: the next failure waits `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// `d` ± 20 %.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.8 + rand::random::<f64>() * 0.4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(4));
        let within = |d: Duration, s: f64| {
            d.as_secs_f64() >= s * 0.8 - 1e-9 && d.as_secs_f64() <= s * 1.2 + 1e-9
        };
        for s in [1.0, 2.0, 4.0, 4.0] {
            let d = b.next_delay();
            assert!(within(d, s), "{d:?} not within 20 % of {s} s");
        }
        b.reset();
        assert!(within(b.next_delay(), 1.0));
    }
}
