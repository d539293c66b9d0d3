//! Waiting for a card: blocks in pcscd (`SCardGetStatusChange`) until a card is inserted or
//! pulled, a reader is plugged in (a YubiKey is its own reader: pcscd's PnP notification), or a
//! card held exclusively by another program is released. The process sleeps in pcscd until
//! something changes, or until [`Events::canceller`] is called from another thread
//! (the person chose to skip).
//!
//! A change that does not matter (a card reset by the program that just used it, a reader's
//! in-use flag) is waited through: only presence, exclusivity and the set of readers count.
//! pcscd does not announce that a card held exclusively was released, so while one is held the
//! state is looked at once a second.

use super::{CardError, context};
use pcsc::{ReaderState, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
        let failed = |e: pcsc::Error| match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => {
                CardError::NoService { detail: e.to_string() }
            }
            e => CardError::Pcsc { what: "waiting for a card", why: e.to_string() },
        };
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
            // pcscd tells its clients of card events, not of a card being released by the
            // program that held it: while a reader is held exclusively, it is looked at again
            // every second (each call compares with the daemon's current state).
            let held = states.iter().any(|s| s.current_state().contains(State::EXCLUSIVE));
            let timeout = held.then_some(std::time::Duration::from_secs(1));
            match self.ctx.get_status_change(timeout, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                // A reader went away (a token pulled out: it is its own reader).
                Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => return Ok(Change::Changed),
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

/// Waits for the cards to change, through pcscd going away and coming back: while pcscd is not
/// running it is looked for every 100 ms (there is nothing to wait on in the meantime); once it
/// is back, the wait ends at once, for the cards may have changed while it was gone.
pub struct Watch {
    cancelled: Arc<AtomicBool>,
    /// The context being waited on, so that a cancel reaches it.
    current: Arc<Mutex<Option<pcsc::Context>>>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch::new()
    }
}

impl Watch {
    pub fn new() -> Watch {
        Watch { cancelled: Arc::new(AtomicBool::new(false)), current: Arc::new(Mutex::new(None)) }
    }

    pub fn wait(&self) -> Result<Change, CardError> {
        let mut daemon_was_gone = false;
        loop {
            if self.cancelled.load(Ordering::SeqCst) {
                return Ok(Change::Cancelled);
            }
            match Events::new() {
                Ok(_) if daemon_was_gone => return Ok(Change::Changed),
                Ok(events) => {
                    if let Ok(mut current) = self.current.lock() {
                        *current = Some(events.ctx.clone());
                    }
                    // A cancel that came before the context was kept is not lost.
                    if self.cancelled.load(Ordering::SeqCst) {
                        return Ok(Change::Cancelled);
                    }
                    let result = events.wait();
                    if let Ok(mut current) = self.current.lock() {
                        *current = None;
                    }
                    match result {
                        Err(CardError::NoService { .. }) => daemon_was_gone = true,
                        other => return other,
                    }
                }
                Err(CardError::NoService { .. }) => {
                    daemon_was_gone = true;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl crate::prompt::Waiter for Watch {
    fn wait(&self) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Watch::wait(self)? == Change::Changed)
    }

    fn canceller(&self) -> Box<dyn Fn() + Send + Sync> {
        let (cancelled, current) = (self.cancelled.clone(), self.current.clone());
        Box::new(move || {
            cancelled.store(true, Ordering::SeqCst);
            if let Ok(current) = current.lock()
                && let Some(ctx) = current.as_ref()
            {
                let _ = ctx.cancel();
            }
        })
    }
}
