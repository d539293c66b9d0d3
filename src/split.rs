//! Making a share set: the secret is split into shares of format v1, with a fresh set id, a
//! blinding value split alongside it, and the commitments that let the set be verified later.

use crate::commitment::{self, BLIND_LEN};
use crate::secret::SecretBytes;
use crate::shamir::{self, Scheme, ShamirError, Warning};
use crate::share::{Label, SET_ID_LEN, SetId, SetInfo, Share, Target};
use rand::CryptoRng;

/// What the operator asked for.
#[derive(Clone, Debug)]
pub struct SplitPlan {
    pub scheme: Scheme,
    pub threshold: usize,
    pub shares: usize,
    pub target: Target,
    pub label: Label,
    /// Seconds since the Unix epoch; the current time when `None`.
    pub created: Option<u64>,
}

impl SplitPlan {
    /// Checks the plan alone, before any secret is read. Returns what the user should be warned of.
    pub fn check(&self) -> Result<Option<Warning>, ShamirError> {
        self.scheme.check_parameters(self.threshold, self.shares)
    }
}

/// A freshly made set: the common information and every share, in order.
#[derive(Debug)]
pub struct ShareSet {
    pub info: SetInfo,
    pub shares: Vec<Share>,
}

/// Why a secret could not be split.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("{0}")]
    Parameters(#[from] ShamirError),
    #[error("the secret is {len} bytes; secrets of at most 4 GiB - 1 byte can be split")]
    TooLarge { len: usize },
    #[error(transparent)]
    Rng(#[from] crate::rng::RngError),
}

/// Splits `secret` according to `plan`.
pub fn split_secret<R: CryptoRng + ?Sized>(
    secret: &SecretBytes,
    plan: &SplitPlan,
    rng: &mut R,
) -> Result<ShareSet, SplitError> {
    plan.check()?;
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret.into());
    }
    let secret_len = u32::try_from(secret.len()).map_err(|_| SplitError::TooLarge { len: secret.len() })?;
    let mut id = [0u8; SET_ID_LEN];
    rng.fill_bytes(&mut id);
    let mut rho = SecretBytes::zeroed(BLIND_LEN);
    rng.fill_bytes(rho.expose_mut());

    // Both counts were checked against the scheme's limits (<= 255) above.
    let mut info = SetInfo {
        id: SetId(id),
        scheme: plan.scheme,
        threshold: plan.threshold as u8,
        count: plan.shares as u8,
        target: plan.target,
        created: plan.created.unwrap_or_else(crate::time::now),
        label: plan.label.clone(),
        secret_len,
        commitment: [0; 32],
    };
    info.commitment = commitment::set_commitment(&info.header_bytes(), secret.expose(), rho.expose());

    let bare_single = info.is_bare_single();
    let xs = if bare_single { vec![1] } else { shamir::choose_x(plan.scheme, plan.shares, rng) };
    let points = shamir::split_at(plan.scheme, secret.expose(), plan.threshold, &xs, rng)?;
    let blinds = shamir::split_at(plan.scheme, rho.expose(), plan.threshold, &xs, rng)?;

    let shares = points
        .iter()
        .zip(blinds)
        .enumerate()
        .map(|(i, (point, blind))| Share {
            set: info.clone(),
            index: (i + 1) as u8,
            payload: plan.scheme.share_bytes(point, bare_single),
            blind: blind.y,
        })
        .collect();
    Ok(ShareSet { info, shares })
}
