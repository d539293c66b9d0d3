//! A thin layer between `openpgp-card` and PC/SC that drops one redundant APDU.
//!
//! `openpgp-card` reads the card's Application Related Data (GET DATA 6E, which holds the key
//! fingerprints, algorithms and PIN counters) when it opens a card, and again at the start of
//! every transaction. When nothing was sent in between, the second read is answered here from the
//! first one: the card's state cannot have changed. After a pause (a person typing a PIN), the
//! caller drops the copy ([`Forget`]): another program may have used the card meanwhile. A first answer that came in pieces (61xx and
//! GET RESPONSE, when the card does not yet know the reader takes long answers) is put together.
//! Any other command clears the copy, so PIN counters are always read fresh after a VERIFY.

use card_backend::{CardBackend, CardCaps, CardTransaction, PinType, SmartcardError};
use std::sync::{Arc, Mutex};

/// GET DATA for the Application Related Data (short and extended Le forms start alike).
const GET_ARD: [u8; 4] = [0x00, 0xca, 0x00, 0x6e];
/// GET RESPONSE: the next piece of a long answer.
const GET_RESPONSE: [u8; 2] = [0x00, 0xc0];

#[derive(Default)]
struct Copy {
    /// The last complete answer to GET ARD (data and 90 00).
    whole: Option<Vec<u8>>,
    /// An answer to GET ARD still coming in pieces (data so far).
    pieces: Option<Vec<u8>>,
}

impl Copy {
    fn clear(&mut self) {
        *self = Copy::default();
    }

    /// Records what the card answered to `cmd`.
    fn record(&mut self, cmd: &[u8], response: &[u8]) {
        let (data, sw) = response.split_at(response.len().saturating_sub(2));
        let started = if cmd.starts_with(&GET_ARD) {
            Some(Vec::new())
        } else if cmd.starts_with(&GET_RESPONSE) {
            self.pieces.take()
        } else {
            None
        };
        self.whole = None;
        self.pieces = None;
        let Some(mut so_far) = started else { return };
        so_far.extend_from_slice(data);
        match sw {
            [0x90, 0x00] => {
                so_far.extend_from_slice(sw);
                self.whole = Some(so_far);
            }
            [0x61, _] => self.pieces = Some(so_far),
            _ => {}
        }
    }
}

pub(crate) struct Deduplicating<B> {
    inner: B,
    last_ard: Arc<Mutex<Copy>>,
}

impl<B> Deduplicating<B> {
    pub fn new(inner: B) -> Self {
        Deduplicating { inner, last_ard: Arc::new(Mutex::new(Copy::default())) }
    }

    /// A handle that drops the copy: for a transaction after a pause (a person typing), when
    /// another program may have used the card in between.
    pub fn forget(&self) -> Forget {
        Forget(self.last_ard.clone())
    }
}

/// See [`Deduplicating::forget`].
pub(crate) struct Forget(Arc<Mutex<Copy>>);

impl Forget {
    pub fn now(&self) {
        if let Ok(mut last) = self.0.lock() {
            last.clear();
        }
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
            last.clear();
        }
        Ok(Box::new(Tx { inner, last_ard }))
    }
}

struct Tx<'a> {
    inner: Box<dyn CardTransaction + Send + Sync + 'a>,
    last_ard: Arc<Mutex<Copy>>,
}

impl Tx<'_> {
    fn forget(&self) {
        if let Ok(mut last) = self.last_ard.lock() {
            last.clear();
        }
    }
}

impl CardTransaction for Tx<'_> {
    fn transmit(&mut self, cmd: &[u8], buf_size: usize) -> Result<Vec<u8>, SmartcardError> {
        if cmd.starts_with(&GET_ARD)
            && let Ok(last) = self.last_ard.lock()
            && let Some(copy) = last.whole.as_ref()
        {
            return Ok(copy.clone());
        }
        let response = self.inner.transmit(cmd, buf_size);
        if let Ok(mut last) = self.last_ard.lock() {
            match &response {
                Ok(r) => last.record(cmd, r),
                Err(_) => last.clear(),
            }
        }
        response
    }

    fn select(&mut self, application: &[u8]) -> Result<Vec<u8>, SmartcardError> {
        self.forget();
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
        self.forget();
        self.inner.pinpad_verify(pin, card_caps)
    }

    fn pinpad_modify(&mut self, pin: PinType, card_caps: &Option<CardCaps>) -> Result<Vec<u8>, SmartcardError> {
        self.forget();
        self.inner.pinpad_modify(pin, card_caps)
    }

    fn was_reset(&self) -> bool {
        self.inner.was_reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARD_SHORT: [u8; 5] = [0x00, 0xca, 0x00, 0x6e, 0x00];

    #[test]
    fn a_whole_answer_is_kept_and_any_other_command_drops_it() {
        let mut c = Copy::default();
        c.record(&ARD_SHORT, &[1, 2, 3, 0x90, 0x00]);
        assert_eq!(c.whole.as_deref(), Some(&[1, 2, 3, 0x90, 0x00][..]));
        c.record(&[0x00, 0x20, 0x00, 0x82, 0x06], &[0x90, 0x00]);
        assert!(c.whole.is_none() && c.pieces.is_none());
    }

    #[test]
    fn an_answer_in_pieces_is_put_together() {
        let mut c = Copy::default();
        c.record(&ARD_SHORT, &[1, 2, 0x61, 0x03]);
        assert!(c.whole.is_none());
        c.record(&[0x00, 0xc0, 0x00, 0x00, 0x00], &[3, 0x61, 0x01]);
        c.record(&[0x00, 0xc0, 0x00, 0x00, 0x00], &[4, 0x90, 0x00]);
        assert_eq!(c.whole.as_deref(), Some(&[1, 2, 3, 4, 0x90, 0x00][..]));
    }

    #[test]
    fn errors_and_stray_get_responses_keep_nothing() {
        let mut c = Copy::default();
        c.record(&ARD_SHORT, &[0x6a, 0x88]);
        assert!(c.whole.is_none() && c.pieces.is_none());
        c.record(&[0x00, 0xc0, 0x00, 0x00, 0x00], &[9, 0x90, 0x00]);
        assert!(c.whole.is_none(), "a GET RESPONSE not following GET ARD is not an ARD");
        c.record(&ARD_SHORT, &[1, 0x61, 0x01]);
        c.record(&[0x00, 0x47, 0x81, 0x00], &[0x90, 0x00]);
        c.record(&[0x00, 0xc0, 0x00, 0x00, 0x00], &[2, 0x90, 0x00]);
        assert!(c.whole.is_none(), "another command in between breaks the chain");
    }
}
