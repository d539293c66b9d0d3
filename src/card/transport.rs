//! A thin layer between `openpgp-card` and PC/SC that drops one redundant APDU.
//!
//! `openpgp-card` reads the card's Application Related Data (GET DATA 6E, which holds the key
//! fingerprints, algorithms and PIN counters) when it opens a card, and again at the start of
//! every transaction. When nothing was sent in between, the second read is answered here from the
//! first one: the card's state cannot have changed. Any other command clears the copy, so PIN
//! counters are always read fresh after a VERIFY.

use card_backend::{CardBackend, CardCaps, CardTransaction, PinType, SmartcardError};
use std::sync::{Arc, Mutex};

/// GET DATA for the Application Related Data (short and extended Le forms start alike).
const GET_ARD: [u8; 4] = [0x00, 0xca, 0x00, 0x6e];

pub(crate) struct Deduplicating<B> {
    inner: B,
    last_ard: Arc<Mutex<Option<Vec<u8>>>>,
}

impl<B> Deduplicating<B> {
    pub fn new(inner: B) -> Self {
        Deduplicating { inner, last_ard: Arc::new(Mutex::new(None)) }
    }
}

impl<B: CardBackend + Send + Sync + 'static> From<Deduplicating<B>> for Box<dyn CardBackend + Send + Sync> {
    fn from(d: Deduplicating<B>) -> Self {
        Box::new(d)
    }
}

impl<B: CardBackend + Send + Sync> CardBackend for Deduplicating<B> {
    fn limit_card_caps(&self, card_caps: CardCaps) -> CardCaps {
        self.inner.limit_card_caps(card_caps)
    }

    fn transaction(
        &mut self,
        reselect_application: Option<&[u8]>,
    ) -> Result<Box<dyn CardTransaction + Send + Sync + '_>, SmartcardError> {
        let last_ard = self.last_ard.clone();
        let inner = self.inner.transaction(reselect_application)?;
        if inner.was_reset()
            && let Ok(mut last) = last_ard.lock()
        {
            // The card was reset (or reselected) since the copy was taken.
            *last = None;
        }
        Ok(Box::new(Tx { inner, last_ard }))
    }
}

struct Tx<'a> {
    inner: Box<dyn CardTransaction + Send + Sync + 'a>,
    last_ard: Arc<Mutex<Option<Vec<u8>>>>,
}

impl CardTransaction for Tx<'_> {
    fn transmit(&mut self, cmd: &[u8], buf_size: usize) -> Result<Vec<u8>, SmartcardError> {
        let is_ard = cmd.starts_with(&GET_ARD);
        if is_ard
            && let Ok(last) = self.last_ard.lock()
            && let Some(copy) = last.as_ref()
        {
            return Ok(copy.clone());
        }
        let response = self.inner.transmit(cmd, buf_size);
        if let Ok(mut last) = self.last_ard.lock() {
            // Keep only a complete answer (status 90 00); anything else invalidates the copy.
            *last = match &response {
                Ok(r) if is_ard && r.ends_with(&[0x90, 0x00]) => Some(r.clone()),
                _ => None,
            };
        }
        response
    }

    fn select(&mut self, application: &[u8]) -> Result<Vec<u8>, SmartcardError> {
        if let Ok(mut last) = self.last_ard.lock() {
            *last = None;
        }
        self.inner.select(application)
    }

    fn max_cmd_len(&self) -> Option<usize> {
        self.inner.max_cmd_len()
    }

    fn feature_pinpad_verify(&self) -> bool {
        self.inner.feature_pinpad_verify()
    }

    fn feature_pinpad_modify(&self) -> bool {
        self.inner.feature_pinpad_modify()
    }

    fn pinpad_verify(&mut self, pin: PinType, card_caps: &Option<CardCaps>) -> Result<Vec<u8>, SmartcardError> {
        if let Ok(mut last) = self.last_ard.lock() {
            *last = None;
        }
        self.inner.pinpad_verify(pin, card_caps)
    }

    fn pinpad_modify(&mut self, pin: PinType, card_caps: &Option<CardCaps>) -> Result<Vec<u8>, SmartcardError> {
        if let Ok(mut last) = self.last_ard.lock() {
            *last = None;
        }
        self.inner.pinpad_modify(pin, card_caps)
    }

    fn was_reset(&self) -> bool {
        self.inner.was_reset()
    }
}
