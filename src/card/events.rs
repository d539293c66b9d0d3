//! Waiting for a card: blocks in pcscd (`SCardGetStatusChange`) until a card is inserted or
//! pulled, a reader is plugged in (a YubiKey is its own reader: pcscd's PnP notification), or a
//! card held exclusively by another program is released. No polling: the process sleeps in
//! pcscd until something changes, or until [`Events::canceller`] is called from another thread
//! (the person chose to skip).
//!
//! A change that does not matter (a card reset by the program that just used it, a reader's
//! in-use flag) is waited through: only presence, exclusivity and the set of readers count.

use super::{CardError, context};
use pcsc::{ReaderState, State};

/// What ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A card was inserted or pulled, a reader plugged in or out, or a card released.
    Changed,
    /// [`Events::canceller`] was called.
    Cancelled,
}

/// A PC/SC context to wait on.
pub struct Events {
    ctx: pcsc::Context,
}

/// The states that matter: whether a card is in the reader, and whether another program holds
/// it exclusively.
const MATTERS: State = State::PRESENT.union(State::EMPTY).union(State::EXCLUSIVE);

impl Events {
    pub fn new() -> Result<Events, CardError> {
        Ok(Events { ctx: context()? })
    }

    /// A function that ends a [`wait`](Events::wait) running in another thread.
    pub fn canceller(&self) -> impl Fn() + Send + Sync + 'static {
        let ctx = self.ctx.clone();
        move || {
            let _ = ctx.cancel();
        }
    }

    /// Blocks until a card or reader changes (see the module), or the wait is cancelled.
    pub fn wait(&self) -> Result<Change, CardError> {
        let failed = |e: pcsc::Error| CardError::Pcsc { what: "waiting for a card", why: e.to_string() };
        let mut states = self.states().map_err(failed)?;
        // The state as it is now: the first call returns at once with it.
        match self.ctx.get_status_change(std::time::Duration::ZERO, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(pcsc::Error::Cancelled) => return Ok(Change::Cancelled),
            Err(e) => return Err(failed(e)),
        }
        for s in &mut states {
            s.sync_current_state();
        }
        loop {
            match self.ctx.get_status_change(None, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(pcsc::Error::Cancelled) => return Ok(Change::Cancelled),
                Err(e) => return Err(failed(e)),
            }
            let matters = states.iter().any(|s| {
                let pnp = s.name() == pcsc::PNP_NOTIFICATION();
                s.event_state().contains(State::CHANGED)
                    && (pnp || (s.event_state() & MATTERS) != (s.current_state() & MATTERS))
            });
            if matters {
                return Ok(Change::Changed);
            }
            for s in &mut states {
                s.sync_current_state();
            }
        }
    }

    /// Every reader, and pcscd's notification of readers coming and going.
    fn states(&self) -> Result<Vec<ReaderState>, pcsc::Error> {
        let readers = match self.ctx.list_readers_owned() {
            Ok(readers) => readers,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut states: Vec<ReaderState> =
            readers.into_iter().map(|name| ReaderState::new(name, State::UNAWARE)).collect();
        states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
        Ok(states)
    }
}

impl crate::prompt::Waiter for Events {
    fn wait(&self) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Events::wait(self)? == Change::Changed)
    }

    fn canceller(&self) -> Box<dyn Fn() + Send + Sync> {
        Box::new(Events::canceller(self))
    }
}
