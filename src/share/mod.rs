//! Share format v1: one custodian's share with everything needed to recognise, check and combine
//! it. Specified byte by byte in `docs/FORMAT.md`; this module and that document change together.

mod text;

pub use text::{ARMOR_BEGIN, ARMOR_END};

use crate::checked_lines::LinesError;
use crate::commitment::{self, BLIND_LEN, COMMITMENT_LEN, Commitment};
use crate::secret::SecretBytes;
use crate::shamir::{Point, Scheme, ShamirError};
use std::fmt;

/// The version byte that starts every v1 share.
pub const FORMAT_VERSION: u8 = 1;
pub const SET_ID_LEN: usize = 16;
/// Labels are at most this many bytes of UTF-8.
pub const MAX_LABEL_LEN: usize = 64;
const CHECK_LEN: usize = 4;

/// The random identifier of a share set. Shown short (first 4 bytes in hex) to people.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetId(pub [u8; SET_ID_LEN]);

impl SetId {
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Display for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetId({self})")
    }
}

/// What the secret unlocks, in Vault's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Generic,
    Unseal,
    Recovery,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Unseal => "unseal",
            Target::Recovery => "recovery",
        }
    }

    fn code(self) -> u8 {
        match self {
            Target::Generic => 0,
            Target::Unseal => 1,
            Target::Recovery => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        [Target::Generic, Target::Unseal, Target::Recovery].into_iter().find(|t| t.code() == code)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Target {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "generic" => Ok(Target::Generic),
            "unseal" => Ok(Target::Unseal),
            "recovery" => Ok(Target::Recovery),
            other => Err(crate::names::UnknownName {
                what: "target",
                given: other.into(),
                choices: "'unseal', 'recovery' or 'generic'",
            }),
        }
    }
}

/// A human label for a set, e.g. "vault-prod unseal": at most 64 bytes, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Label(String);

impl Label {
    pub fn new(text: &str) -> Result<Self, FormatError> {
        if text.len() > MAX_LABEL_LEN {
            return Err(FormatError::LabelTooLong { len: text.len() });
        }
        if text.chars().any(char::is_control) {
            return Err(FormatError::LabelControl);
        }
        Ok(Label(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every share of a set holds in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetInfo {
    pub id: SetId,
    pub scheme: Scheme,
    pub threshold: u8,
    pub count: u8,
    pub target: Target,
    /// Seconds since the Unix epoch, UTC.
    pub created: u64,
    pub label: Label,
    pub secret_len: u32,
    /// The set commitment (see [`crate::commitment`]).
    pub commitment: Commitment,
}

impl SetInfo {
    /// What `other` says differently about the set, field by field: "threshold (3, not 2)".
    pub fn differences(&self, other: &SetInfo) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, mine: String, theirs: String| {
            if mine != theirs {
                out.push(format!("{name} ({theirs}, not {mine})"));
            }
        };
        field("set id", self.id.short(), other.id.short());
        field("scheme", self.scheme.to_string(), other.scheme.to_string());
        field("threshold", self.threshold.to_string(), other.threshold.to_string());
        field("share count", self.count.to_string(), other.count.to_string());
        field("target", self.target.to_string(), other.target.to_string());
        field("creation time", self.created.to_string(), other.created.to_string());
        field("label", crate::sanitize(self.label.as_str()), crate::sanitize(other.label.as_str()));
        field("secret length", self.secret_len.to_string(), other.secret_len.to_string());
        field("set commitment", hex::encode(self.commitment), hex::encode(other.commitment));
        out
    }

    /// The header bytes as they start a v1 share, and as the set commitment covers them.
    pub fn header_bytes(&self) -> Vec<u8> {
        let label = self.label.as_str().as_bytes();
        let mut out = Vec::with_capacity(34 + label.len());
        out.push(FORMAT_VERSION);
        out.push(scheme_code(self.scheme));
        out.push(self.target.code());
        out.push(self.threshold);
        out.push(self.count);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&self.created.to_be_bytes());
        out.push(label.len() as u8); // invariant: Label is at most 64 bytes
        out.extend_from_slice(label);
        out.extend_from_slice(&self.secret_len.to_be_bytes());
        out
    }

    /// Whether shares of this set carry the secret itself with no x byte (Vault's 1-of-1).
    pub fn is_bare_single(&self) -> bool {
        self.scheme.is_bare_single(self.threshold.into(), self.count.into())
    }

    /// Length of each share's payload in bytes.
    pub fn payload_len(&self) -> usize {
        self.secret_len as usize + usize::from(!self.is_bare_single())
    }

    /// "2 of 5, any 3 recover the secret"-style description of a share's place in the set.
    pub fn describe_threshold(&self) -> String {
        format!("any {} of {} recover the secret", self.threshold, self.count)
    }
}

/// One share in format v1.
#[derive(Clone, Debug)]
pub struct Share {
    pub set: SetInfo,
    /// 1..=count, the share's position in the set (not its x coordinate).
    pub index: u8,
    /// The share in its scheme's own byte layout (Vault's `y || x`, or `x || y` for native).
    pub payload: SecretBytes,
    /// This share's piece of the blinding value rho: the y bytes at the same x.
    pub blind: SecretBytes,
}

impl Share {
    /// The point of the secret's polynomials that this share carries.
    pub fn point(&self) -> Result<Point, ShamirError> {
        self.set.scheme.parse_share_bytes(self.payload.expose(), self.set.is_bare_single())
    }

    /// The point of the blinding value's polynomials (same x as [`Share::point`]).
    pub fn blind_point(&self) -> Result<Point, ShamirError> {
        Ok(Point { x: self.point()?.x, y: self.blind.clone() })
    }

    /// This share's commitment, as the manifest lists it.
    pub fn commitment(&self) -> Commitment {
        commitment::share_commitment(&self.set.id.0, self.index, self.payload.expose(), self.blind.expose())
    }

    /// The binary encoding (see `docs/FORMAT.md`).
    pub fn to_bytes(&self) -> SecretBytes {
        let header = self.set.header_bytes();
        let len = header.len() + 1 + COMMITMENT_LEN + self.payload.len() + BLIND_LEN + CHECK_LEN;
        let mut out = SecretBytes::zeroed(len);
        let buf = out.expose_mut();
        let mut at = 0;
        for piece in [&header[..], &[self.index], &self.set.commitment, self.payload.expose(), self.blind.expose()] {
            buf[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        let check = crate::commitment::sha256_wiped(&[&buf[..at]]);
        buf[at..].copy_from_slice(&check[..CHECK_LEN]);
        out
    }

    /// Reads the binary encoding, checking everything that can be checked in one share.
    pub fn from_bytes(bytes: &[u8]) -> Result<Share, FormatError> {
        if bytes.len() < CHECK_LEN + 1 {
            return Err(FormatError::Truncated);
        }
        if bytes[0] != FORMAT_VERSION {
            return Err(FormatError::UnknownVersion { version: bytes[0] });
        }
        let (body, check) = bytes.split_at(bytes.len() - CHECK_LEN);
        if crate::commitment::sha256_wiped(&[body])[..CHECK_LEN] != *check {
            return Err(FormatError::Checksum);
        }
        let mut r = Reader(body);
        r.take(1)?; // version, checked above
        let scheme = scheme_from_code(r.byte()?)?;
        let target_code = r.byte()?;
        let target = Target::from_code(target_code).ok_or(FormatError::UnknownTarget { code: target_code })?;
        let threshold = r.byte()?;
        let count = r.byte()?;
        scheme.check_parameters(threshold.into(), count.into()).map_err(FormatError::Parameters)?;
        let mut id = [0u8; SET_ID_LEN];
        id.copy_from_slice(r.take(SET_ID_LEN)?);
        let created = u64::from_be_bytes(r.array()?);
        let label_len = r.byte()? as usize;
        let label = std::str::from_utf8(r.take(label_len)?).map_err(|_| FormatError::LabelNotUtf8)?;
        let label = Label::new(label)?;
        let secret_len = u32::from_be_bytes(r.array()?);
        if secret_len == 0 {
            return Err(FormatError::EmptySecret);
        }
        let index = r.byte()?;
        if index == 0 || index > count {
            return Err(FormatError::IndexOutOfRange { index, count });
        }
        let commitment: Commitment = r.array()?;
        let set = SetInfo { id: SetId(id), scheme, threshold, count, target, created, label, secret_len, commitment };
        let payload_len = set.payload_len();
        if r.0.len() != payload_len + BLIND_LEN {
            return Err(FormatError::PayloadLength { expected: payload_len + BLIND_LEN, found: r.0.len() });
        }
        let payload = SecretBytes::copy_from(r.take(payload_len)?);
        let blind = SecretBytes::copy_from(r.take(BLIND_LEN)?);
        let share = Share { set, index, payload, blind };
        let x = share.point().map_err(FormatError::Parameters)?.x;
        if scheme == Scheme::Native && x != index {
            return Err(FormatError::IndexMismatch { index, x });
        }
        Ok(share)
    }

    /// The text form: armored, with readable headers and checked lines.
    pub fn to_text(&self) -> zeroize::Zeroizing<String> {
        text::encode(self)
    }

    /// Reads one share from its text form.
    pub fn from_text(input: &str) -> Result<Share, FormatError> {
        let mut shares = text::decode_all(input)?;
        match shares.len() {
            1 => Ok(shares.remove(0)),
            found => Err(FormatError::NotOneShare { found }),
        }
    }

    /// Reads every armored share in `input`, in order.
    pub fn all_from_text(input: &str) -> Result<Vec<Share>, FormatError> {
        text::decode_all(input)
    }
}

pub fn scheme_code(scheme: Scheme) -> u8 {
    match scheme {
        Scheme::Native => 1,
        Scheme::Vault => 2,
    }
}

fn scheme_from_code(code: u8) -> Result<Scheme, FormatError> {
    match code {
        1 => Ok(Scheme::Native),
        2 => Ok(Scheme::Vault),
        _ => Err(FormatError::UnknownScheme { code }),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.0.len() < n {
            return Err(FormatError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// Why a share could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the share data ends early: part of it is missing")]
    Truncated,
    #[error("the share's checksum does not match: the share is corrupt or was changed")]
    Checksum,
    #[error("the share is in format version {version}, which this symbolon does not know: use a newer symbolon")]
    UnknownVersion { version: u8 },
    #[error("the share names an unknown scheme (code {code}): the share is corrupt or from a newer symbolon")]
    UnknownScheme { code: u8 },
    #[error("the share names an unknown target (code {code}): the share is corrupt or from a newer symbolon")]
    UnknownTarget { code: u8 },
    #[error("the share's parameters are impossible: {0}")]
    Parameters(ShamirError),
    #[error("the share says its secret is empty: the share is corrupt")]
    EmptySecret,
    #[error("the share claims to be number {index} of {count}: the share is corrupt")]
    IndexOutOfRange { index: u8, count: u8 },
    #[error(
        "the share is number {index} but its x coordinate is {x}; in the native scheme they are equal: the share is corrupt"
    )]
    IndexMismatch { index: u8, x: u8 },
    #[error("the share holds {found} bytes of share data where its header promises {expected}: the share is corrupt")]
    PayloadLength { expected: usize, found: usize },
    #[error("the label is {len} bytes long; labels hold at most 64 bytes: shorten it")]
    LabelTooLong { len: usize },
    #[error("the label contains a control character (such as a newline or tab): use plain text")]
    LabelControl,
    #[error("the share's label is not valid UTF-8: the share is corrupt")]
    LabelNotUtf8,
    #[error("no '{}' line was found: this is not a symbolon share in text form", ARMOR_BEGIN)]
    NoArmor,
    #[error("the share text has no '{}' line: it was cut off; copy the whole share", ARMOR_END)]
    NoArmorEnd,
    #[error("the share text has no data lines between its BEGIN and END lines")]
    NoData,
    #[error(
        "the share's '{key}' line says '{found}' but its data says '{expected}': the header was edited or belongs to another share"
    )]
    HeaderMismatch { key: String, found: String, expected: String },
    #[error("the share has an unknown header line '{key}': remove it")]
    UnknownHeader { key: String },
    #[error("{0}")]
    Lines(#[from] LinesError),
    #[error("expected one share but found {found}")]
    NotOneShare { found: usize },
}
