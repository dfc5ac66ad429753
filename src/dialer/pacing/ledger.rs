//! The abandon ledger: live answers and drops per hour, and the rate over
//! the regulator's window (30 days in the US, 24 hours in the UK). Live
//! answers only: calls a machine answered are left out of both counts.

use std::collections::VecDeque;

/// Answers and drops of one hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Hour {
    /// Hours since the Unix epoch (UTC).
    hour: i64,
    answers: u64,
    drops: u64,
}

/// Per-hour counts over the last `window_s` seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    window_s: i64,
    hours: VecDeque<Hour>,
    answers: u64,
    drops: u64,
}

/// Fewer live answers than this in the window: the rate says too little to
/// steer by ([`Ledger::rate`] is `None`).
pub const MIN_ANSWERS: u64 = 100;

impl Ledger {
    /// An empty ledger over `window_s` seconds.
    pub fn new(window_s: i64) -> Self {
        Ledger {
            window_s,
            hours: VecDeque::new(),
            answers: 0,
            drops: 0,
        }
    }

    /// A live answer at `at_s` (seconds since epoch); `dropped` when no
    /// agent took it within the drop timer.
    pub fn answer(&mut self, at_s: i64, dropped: bool) {
        let hour = at_s.div_euclid(3600);
        match self.hours.back_mut() {
            Some(h) if h.hour == hour => {
                h.answers += 1;
                h.drops += u64::from(dropped);
            }
            _ => self.hours.push_back(Hour {
                hour,
                answers: 1,
                drops: u64::from(dropped),
            }),
        }
        self.answers += 1;
        self.drops += u64::from(dropped);
        self.expire(at_s);
    }

    /// Forgets the hours that left the window at `now_s`.
    pub fn expire(&mut self, now_s: i64) {
        let first = (now_s - self.window_s).div_euclid(3600);
        while let Some(h) = self.hours.front().copied()
            && h.hour < first
        {
            self.hours.pop_front();
            self.answers -= h.answers;
            self.drops -= h.drops;
        }
    }

    /// Drops per live answer in the window, 0 to 1; `None` below
    /// [`MIN_ANSWERS`].
    pub fn rate(&self) -> Option<f64> {
        (self.answers >= MIN_ANSWERS).then(|| self.drops as f64 / self.answers as f64)
    }

    /// Live answers and drops in the window.
    pub fn counts(&self) -> (u64, u64) {
        (self.answers, self.drops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_window_only() {
        let mut l = Ledger::new(24 * 3600);
        for i in 0..150 {
            l.answer(i * 60, i % 50 == 0);
        }
        assert_eq!(l.counts(), (150, 3));
        assert_eq!(l.rate(), Some(0.02));
        // A day and more later the old hours are gone.
        l.answer(2 * 24 * 3600, true);
        assert_eq!(l.counts(), (1, 1));
        assert_eq!(l.rate(), None);
    }
}
