//! Waiting for a card: blocks in pcscd (`SCardGetStatusChange`) until a card is inserted or
//! pulled, a reader is plugged in or out (a YubiKey is its own reader: pcscd's PnP
//! notification), or a card held exclusively by another program is released.
//!
//! The readers are looked at ([`Watch::look`]) BEFORE the attempt that found the card missing,
//! and the wait ends on any change since that look: a card inserted while the attempt ran, or
//! while the person was being told, is not missed.
//!
//! A change that does not matter (a card reset by the program that just used it, a reader's
//! in-use flag) is waited through: only presence, exclusivity and the set of readers count. Two
//! things pcscd does not announce are looked at on a clock: the end of an exclusive hold (once a
//! second, only while a reader is held), and pcscd coming back after it went away (every 100 ms,
//! only while it is gone; once it is back the wait ends, for the cards may have changed).
//!
//! A wait is cancelled from another thread ([`Waiter::canceller`]: the person chose to skip). A
//! cancel is a flag checked before every blocking call, and also interrupts the one in progress
//! (`SCardCancel`, which reaches only a call already blocking: the flag covers the rest).

use super::{CardError, context};
use crate::prompt::Waiter;
use pcsc::{ReaderState, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The states that matter: whether a card is in the reader, and whether another program holds
/// it exclusively.
const MATTERS: State = State::PRESENT.union(State::EMPTY).union(State::EXCLUSIVE);

/// How often pcscd is looked for while it is gone.
const DAEMON_RETRY: Duration = Duration::from_millis(100);

/// How often a reader held exclusively is looked at again.
const HELD_RETRY: Duration = Duration::from_secs(1);

/// The readers as they were at a look: a context and every reader's state, PnP included.
struct Baseline {
    ctx: pcsc::Context,
    states: Vec<ReaderState>,
}

impl Baseline {
    fn now() -> Result<Baseline, CardError> {
        let ctx = context()?;
        let readers = match ctx.list_readers_owned() {
            Ok(readers) => readers,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(pcsc_error(e)),
        };
        let mut states: Vec<ReaderState> =
            readers.into_iter().map(|name| ReaderState::new(name, State::UNAWARE)).collect();
        states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
        // The state as it is now: this first call returns at once with it.
        match ctx.get_status_change(Duration::ZERO, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(pcsc_error(e)),
        }
        for s in &mut states {
            s.sync_current_state();
        }
        Ok(Baseline { ctx, states })
    }
}

/// pcscd gone is `NoService`, whatever PC/SC calls it; the rest says what failed.
fn pcsc_error(e: pcsc::Error) -> CardError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => {
            CardError::NoService { detail: e.to_string() }
        }
        e => CardError::Pcsc { what: "waiting for a card", why: e.to_string() },
    }
}

/// Whether `e` means pcscd is (for now) out of reach: waited through.
fn daemon_gone(e: &CardError) -> bool {
    matches!(e, CardError::NoService { .. } | CardError::ClientFailed { .. })
}

/// How a wait on one baseline ended.
enum Ended {
    Changed,
    Cancelled,
    DaemonGone,
}

/// A wait for the cards to change since [`Watch::look`].
pub struct Watch {
    cancelled: Arc<AtomicBool>,
    /// The context being waited on, so that a cancel reaches it.
    current: Arc<Mutex<Option<pcsc::Context>>>,
    /// The look; `None` when pcscd could not be reached then.
    baseline: Mutex<Option<Baseline>>,
}

impl Watch {
    /// Looks at the readers now (before an attempt): a later wait ends on any change since.
    pub fn look() -> Watch {
        Watch {
            cancelled: Arc::new(AtomicBool::new(false)),
            current: Arc::new(Mutex::new(None)),
            baseline: Mutex::new(Baseline::now().ok()),
        }
    }

    /// Blocks until the cards changed since the look, or the wait is cancelled.
    pub fn wait(&self) -> Result<bool, CardError> {
        let mut base = self.baseline.lock().map_or(None, |mut b| b.take());
        loop {
            if self.cancelled.load(Ordering::SeqCst) {
                return Ok(false);
            }
            let Some(b) = base.take() else {
                // pcscd was out of reach at the look, or went away since: it is waited for, and
                // once it is back the cards are looked at again by the caller.
                match Baseline::now() {
                    Ok(_) => return Ok(true),
                    Err(e) if daemon_gone(&e) => {
                        std::thread::sleep(DAEMON_RETRY);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            };
            match self.wait_on(b)? {
                Ended::Changed => return Ok(true),
                Ended::Cancelled => return Ok(false),
                Ended::DaemonGone => std::thread::sleep(DAEMON_RETRY),
            }
        }
    }

    fn wait_on(&self, mut b: Baseline) -> Result<Ended, CardError> {
        if let Ok(mut current) = self.current.lock() {
            *current = Some(b.ctx.clone());
        }
        let ended = loop {
            // Checked before every call: a cancel that came between two calls is not lost.
            if self.cancelled.load(Ordering::SeqCst) {
                break Ok(Ended::Cancelled);
            }
            let held = b.states.iter().any(|s| s.current_state().contains(State::EXCLUSIVE));
            match b.ctx.get_status_change(held.then_some(HELD_RETRY), &mut b.states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(pcsc::Error::Cancelled) => break Ok(Ended::Cancelled),
                // A reader went away (a token pulled out: it is its own reader).
                Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => break Ok(Ended::Changed),
                Err(e) => match pcsc_error(e) {
                    e if daemon_gone(&e) => break Ok(Ended::DaemonGone),
                    e => break Err(e),
                },
            }
            let matters = b.states.iter().any(|s| {
                let pnp = s.name() == pcsc::PNP_NOTIFICATION();
                s.event_state().contains(State::CHANGED)
                    && (pnp || (s.event_state() & MATTERS) != (s.current_state() & MATTERS))
            });
            if matters {
                break Ok(Ended::Changed);
            }
            for s in &mut b.states {
                s.sync_current_state();
            }
        };
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
        ended
    }
}

impl Waiter for Watch {
    fn wait(&self) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Watch::wait(self)?)
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
