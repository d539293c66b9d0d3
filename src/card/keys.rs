//! A card's public keys as OpenPGP keys: the card stores the key material, its creation time and
//! its fingerprint, but not everything a v4 key packet holds (ECDH's KDF parameters). The packet
//! is rebuilt and must hash to the fingerprint the card records; for ECDH the usual KDF
//! parameters are tried until it does.

use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::algorithm::{AlgorithmAttributes, Curve as CardCurve};
use openpgp_card::ocard::crypto::PublicKeyMaterial;
use openpgp_card::state::Transaction;
use sequoia_openpgp::crypto::mpi::{MPI, PublicKey as PublicMpis};
use sequoia_openpgp::packet::Key;
use sequoia_openpgp::packet::key::{Key4, PublicParts, UnspecifiedRole};
use sequoia_openpgp::types::{Curve, HashAlgorithm, PublicKeyAlgorithm, SymmetricAlgorithm};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// ECDH KDF parameters in the order implementations pick them (RFC 6637 defaults by curve size,
/// then the pairs GnuPG and others also use).
const KDF_CANDIDATES: &[(HashAlgorithm, SymmetricAlgorithm)] = &[
    (HashAlgorithm::SHA256, SymmetricAlgorithm::AES128),
    (HashAlgorithm::SHA384, SymmetricAlgorithm::AES192),
    (HashAlgorithm::SHA512, SymmetricAlgorithm::AES256),
    (HashAlgorithm::SHA256, SymmetricAlgorithm::AES256),
    (HashAlgorithm::SHA512, SymmetricAlgorithm::AES128),
    (HashAlgorithm::SHA384, SymmetricAlgorithm::AES256),
    (HashAlgorithm::SHA256, SymmetricAlgorithm::AES192),
];

/// A Curve25519/Ed25519 point as 32 bytes. Some cards send OpenPGP's 0x40-prefixed form (33
/// bytes); a bare point may itself begin with 0x40, so only the 33-byte form is stripped.
fn bare_25519(data: &[u8]) -> &[u8] {
    match data {
        [0x40, rest @ ..] if rest.len() == 32 => rest,
        _ => data,
    }
}

fn sequoia_curve(curve: &CardCurve) -> Option<Curve> {
    Some(match curve {
        CardCurve::NistP256r1 => Curve::NistP256,
        CardCurve::NistP384r1 => Curve::NistP384,
        CardCurve::NistP521r1 => Curve::NistP521,
        CardCurve::BrainpoolP256r1 => Curve::BrainpoolP256,
        CardCurve::BrainpoolP384r1 => Curve::BrainpoolP384,
        CardCurve::BrainpoolP512r1 => Curve::BrainpoolP512,
        CardCurve::Ed25519 => Curve::Ed25519,
        CardCurve::Curve25519 => Curve::Cv25519,
        _ => return None,
    })
}

/// The OpenPGP key in slot `kt` of the card, checked against the card's recorded fingerprint.
/// `Err` says why it cannot be rebuilt.
pub(crate) fn public_key(
    tx: &mut openpgp_card::Card<Transaction<'_>>,
    kt: KeyType,
) -> Result<Key<PublicParts, UnspecifiedRole>, String> {
    let fingerprint = tx
        .fingerprint(kt)
        .map_err(|e| e.to_string())?
        .map(|f| f.to_hex().to_ascii_uppercase())
        .ok_or("the slot holds no key")?;
    let ctime = tx
        .key_generation_time(kt)
        .map_err(|e| e.to_string())?
        .map(|t| UNIX_EPOCH + Duration::from_secs(u64::from(t.get())))
        .ok_or("the card records no creation time for the key")?;
    let material = tx.public_key_material(kt).map_err(|e| format!("reading the public key: {e}"))?;
    let candidates = candidates(&material, kt, ctime)?;
    candidates
        .into_iter()
        .find(|k| k.fingerprint().to_hex() == fingerprint)
        .ok_or_else(|| format!("the key material on the card does not match the fingerprint {fingerprint} it records"))
}

/// The key packet symbolon makes for a key the card generated: for ECDH, RFC 6637's KDF
/// parameters for the curve (SHA-256/AES-128 for Cv25519 and P-256, SHA-384/AES-192 for P-384).
pub(crate) fn preferred(
    keys: Vec<Key<PublicParts, UnspecifiedRole>>,
    material: &PublicKeyMaterial,
) -> Option<Key<PublicParts, UnspecifiedRole>> {
    let p384 = matches!(material, PublicKeyMaterial::E(ecc)
        if matches!(ecc.algo(), AlgorithmAttributes::Ecc(a) if *a.curve() == CardCurve::NistP384r1));
    let index = usize::from(p384 && keys.len() > 1);
    keys.into_iter().nth(index)
}

pub(crate) fn candidates(
    material: &PublicKeyMaterial,
    kt: KeyType,
    ctime: SystemTime,
) -> Result<Vec<Key<PublicParts, UnspecifiedRole>>, String> {
    let err = |e: anyhow::Error| e.to_string();
    match material {
        PublicKeyMaterial::R(rsa) => {
            let key = Key4::<PublicParts, UnspecifiedRole>::import_public_rsa(rsa.v(), rsa.n(), ctime).map_err(err)?;
            Ok(vec![key.into()])
        }
        PublicKeyMaterial::E(ecc) => {
            let AlgorithmAttributes::Ecc(attrs) = ecc.algo() else {
                return Err("unexpected algorithm attributes".into());
            };
            let curve = sequoia_curve(attrs.curve()).ok_or_else(|| format!("unsupported curve {:?}", attrs.curve()))?;
            let data = ecc.data();
            if kt == KeyType::Decryption {
                let mut out = Vec::new();
                for &(hash, sym) in KDF_CANDIDATES {
                    let key = if curve == Curve::Cv25519 {
                        Key4::import_public_cv25519(bare_25519(data), hash, sym, ctime)
                    } else {
                        Key4::new(
                            ctime,
                            PublicKeyAlgorithm::ECDH,
                            PublicMpis::ECDH { curve: curve.clone(), q: MPI::new(data), hash, sym },
                        )
                    };
                    out.push(key.map_err(err)?.into());
                }
                Ok(out)
            } else if curve == Curve::Ed25519 {
                Ok(vec![Key4::import_public_ed25519(bare_25519(data), ctime).map_err(err)?.into()])
            } else {
                let key = Key4::new(ctime, PublicKeyAlgorithm::ECDSA, PublicMpis::ECDSA { curve, q: MPI::new(data) })
                    .map_err(err)?;
                Ok(vec![key.into()])
            }
        }
    }
}
