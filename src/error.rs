//! The library's error type: one variant per stage of a share's way through the code. Every
//! message says what happened and what to do about it.

use crate::combine::CombineError;
use crate::input::InputError;
use crate::manifest::ManifestError;
use crate::output::OutputError;
use crate::rng::RngError;
use crate::share::FormatError;
use crate::split::SplitError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Combine(#[from] CombineError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Rng(#[from] RngError),
}
