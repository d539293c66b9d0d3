//! Reconstruction that tells the truth: the secret is recovered only when it can be checked, and
//! a bad input is named by where it came from.
//!
//! - The shares of a set are decoded as a Reed–Solomon codeword ([`crate::shamir::decode`]):
//!   among n shares of a k-of-m set, up to ⌊(n - k)/2⌋ wrong ones are located, named and left
//!   out, whether wrong in every byte or in one.
//! - Shares in format v1 carry the set commitment: a reconstruction is accepted only if it
//!   matches. When more shares are wrong than decoding can locate, and the set is small enough,
//!   the k-subsets are searched for one that matches the commitment (up to n - k wrong shares);
//!   otherwise nothing is recovered and the error says how many wrong shares these inputs can
//!   tolerate.
//! - Bare Vault keys carry no commitment. With the set's manifest they are checked one by one
//!   against its bare commitments; with a known threshold and more keys than it, they are decoded
//!   and the keys left must agree (at least k + 1 on one polynomial); exactly k keys of a known
//!   threshold are returned as unverified, as Vault itself would use them; with no known
//!   threshold, keys are refused (any number of keys combines to some value).

use crate::candidate::{Candidate, Piece};
use crate::manifest::Manifest;
use crate::secret::SecretBytes;
use crate::shamir::decode::{Decoder, TooManyWrong};
use crate::shamir::{self, Point, Scheme, ShamirError};
use crate::share::{SetInfo, Share, Target};

/// What is known about the set beyond the shares themselves.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The threshold, for bare keys (from the user or from Vault's output).
    pub threshold: Option<usize>,
    /// The set's public manifest.
    pub manifest: Option<&'a Manifest>,
}

/// How the recovered secret was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Matches the set commitment carried by the shares (and the manifest, if given).
    SetCommitment,
    /// Every key used matches its bare commitment in the manifest.
    Manifest,
    /// `agreeing` keys lie on one polynomial of degree threshold - 1.
    Consistency { agreeing: usize },
    /// Nothing to check against.
    Unverified,
}

/// How the shares were checked against each other: what the redundancy beyond the threshold
/// found, and what it could still have found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossCheck {
    /// Shares checked against the recovered polynomials (the wrong ones included).
    pub shares: usize,
    /// The threshold.
    pub needed: usize,
    /// Of them, found wrong.
    pub wrong: usize,
    /// How many more wrong shares these would still have revealed (as "some share is wrong").
    pub detect_more: usize,
    /// How many more wrong shares these would still have located and named.
    pub locate_more: usize,
}

/// The result of a successful reconstruction.
#[derive(Debug)]
pub struct Recovered {
    pub secret: SecretBytes,
    /// The set, when the shares (or the manifest) describe it.
    pub set: Option<SetInfo>,
    pub target: Option<Target>,
    pub verification: Verification,
    /// Origins of the shares the secret was computed from.
    pub used: Vec<String>,
    /// Origins of further shares that agree with it.
    pub agreeing: Vec<String>,
    /// Origins of shares found to be wrong.
    pub bad: Vec<String>,
    /// Origins of shares that disagree with the secret's polynomials when the evidence could not
    /// decide which shares are wrong (two equally supported reconstructions).
    pub unattributed: Vec<String>,
    /// Origins of exact repeats of another input, ignored.
    pub repeated: Vec<String>,
    /// Origins of shares whose entry in the manifest does not match them although they lie on the
    /// verified secret's polynomials: the manifest's entry is wrong, not the share.
    pub manifest_wrong: Vec<String>,
    /// How the shares were checked against each other, when they were (more than the threshold,
    /// and not each vouched for by the manifest).
    pub cross_check: Option<CrossCheck>,
    /// Inputs that could not be opened (origin, why): counted as missing.
    pub not_opened: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CombineError {
    #[error("no shares were given")]
    NoShares,
    #[error("{origin} is encrypted: give the key to decrypt it with")]
    StillEncrypted { origin: String },
    #[error("{share} is a symbolon share but {key} is a bare Vault key: combine one kind at a time")]
    MixedKinds { share: String, key: String },
    #[error("the shares come from {} different sets: {}; combine shares of one set only", .0.len(), describe_sets(.0))]
    MixedSets(Vec<(String, Vec<String>)>),
    #[error(
        "{origin} claims to be from set {set} but disagrees with the other shares about the set ({what}): it is corrupt or was altered"
    )]
    HeaderDisagrees { origin: String, set: String, what: String },
    #[error(
        "{first} and {second} disagree about set {set} and there is no majority to tell which is right: add another share of the set"
    )]
    HeaderTie { first: String, second: String, set: String },
    #[error(
        "the manifest describes set {manifest_set}, but the shares are from set {share_set}: give the manifest of the shares' own set"
    )]
    ManifestOtherSet { manifest_set: String, share_set: String },
    #[error("too few shares: {} of set {set} given ({present}), {need} needed; add {} more", crate::wording::counted(*.have, "distinct share", "distinct shares"), .need - .have)]
    TooFewShares { have: usize, need: usize, set: String, present: String },
    #[error(
        "too few good shares: of the {given} given, {bad} ({bad_list}) do not match the manifest, and {have} good ones are fewer than the {need} needed"
    )]
    TooFewGood { given: usize, bad: usize, bad_list: String, have: usize, need: usize },
    #[error(
        "the {given} shares of set {set} do not reconstruct the secret the set committed to: at least one of them is wrong. \
             With the set's manifest or one more share, symbolon can tell which"
    )]
    CommitmentMismatch { given: usize, set: String },
    #[error("no {need} of the {given} shares of set {set} reconstruct the committed secret: more than {} of them are wrong. Nothing was recovered: add more shares of the set", .given.saturating_sub(*.need))]
    NoConsistentSubset { given: usize, need: usize, set: String },
    #[error(
        "the {given} shares of set {set} do not reconstruct the committed secret: more than {correctable} of them are wrong, and {given} shares of a set with threshold {need} can locate at most {correctable} (half of the {} beyond the threshold). Nothing was recovered: add more shares of the set (every two more let symbolon locate one more wrong share), or give the set's manifest, which checks each share on its own",
        .given.saturating_sub(*.need)
    )]
    TooManyWrong { given: usize, need: usize, correctable: usize, set: String },
    #[error("{origin}: {source}")]
    Shamir { origin: String, source: ShamirError },
    #[error(
        "{first} and {second} are different keys with the same x coordinate: at most one of them belongs to the set"
    )]
    SameXDifferent { first: String, second: String },
    #[error("{origin} is {len} bytes but {first} is {first_len} bytes: the keys cannot be from one set")]
    LengthMismatch { origin: String, len: usize, first: String, first_len: usize },
    #[error(
        "unseal keys and recovery keys are mixed ({unseal} and {recovery}): they protect different secrets; combine one kind at a time"
    )]
    TargetsMixed { unseal: String, recovery: String },
    #[error(
        "only one key was given: if the set is 1-of-1 (Vault with -key-shares=1) that key is the secret itself; say so by giving the threshold 1. Otherwise give more keys"
    )]
    SingleKeyAmbiguous,
    #[error(
        "the threshold of these {given} Vault keys is not known (bare keys do not carry it, and no input states it): any {given} keys combine to some value, so without it symbolon cannot tell a secret from a wrong one. Nothing was recovered: give the set's threshold, or its manifest"
    )]
    ThresholdUnknown { given: usize },
    #[error("the threshold given ({given}) differs from the one the input states ({stated}): check which is right")]
    ThresholdConflict { given: usize, stated: usize },
    #[error("too few keys: {have} given, the threshold is {need}; add {} more", .need - .have)]
    TooFewKeys { have: usize, need: usize },
    #[error(
        "the {given} keys do not all lie on one polynomial of degree {degree}: more than {correctable} of them are wrong, and {given} keys with threshold {need} can locate at most {correctable} (half of the {} beyond the threshold). Nothing was recovered: give the set's manifest, or more keys (every two more let symbolon locate one more wrong key)",
        .given.saturating_sub(*.need)
    )]
    KeysDisagree { given: usize, degree: usize, need: usize, correctable: usize },
    #[error("the manifest's set is {manifest_scheme}-scheme, but bare keys are Vault keys")]
    ManifestScheme { manifest_scheme: String },
    #[error(
        "the manifest and every share given disagree about set {set}: the manifest says {}. The shares agree with each other, so the manifest was likely altered or damaged, unless all the shares were: recover without the manifest (the set's commitment then decides), or use the set's original manifest",
        differences.join(", ")
    )]
    ManifestDiffers { set: String, differences: Vec<String> },
}

fn describe_sets(sets: &[(String, Vec<String>)]) -> String {
    sets.iter().map(|(set, origins)| format!("set {set} ({})", origins.join(", "))).collect::<Vec<_>>().join("; ")
}

/// The subset search (beyond what decoding locates, with the set commitment) runs only when it
/// can try every k-subset: at most this many of them...
const MAX_TRIES: usize = 20_000;
/// ...and at most this much work (subsets times secret bytes).
const MAX_WORK: usize = 1 << 30;

/// Why a decrypted share is not one of a manifest's shares.
#[derive(Debug, thiserror::Error)]
pub enum NotInManifest {
    #[error("it belongs to set {share_set}, not to the manifest's set {manifest_set}")]
    OtherSet { share_set: String, manifest_set: String },
    #[error("it does NOT match share {index} in the manifest: it is corrupt or was altered")]
    Mismatch { index: u8 },
    #[error(
        "the share and the manifest disagree about set {set}: the manifest says {}. One of them was altered or damaged: check the share with its set's other shares (combine, whose set commitment decides), or use the set's original manifest",
        differences.join(", ")
    )]
    ManifestDiffers { set: String, differences: Vec<String> },
    #[error("it matches no share in the manifest: it is corrupt or from another set")]
    NoBareMatch,
    #[error("the manifest has no commitments for bare keys ({0}): it cannot be checked alone")]
    NoBareCommitments(String),
    #[error("it holds another encrypted message")]
    Encrypted,
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
}

/// Which share of `manifest` this (decrypted) piece is, checked against its commitment.
pub fn locate(piece: &Piece, manifest: &Manifest) -> Result<u8, NotInManifest> {
    match piece {
        Piece::Share(share) => {
            if manifest.set.id != share.set.id {
                return Err(NotInManifest::OtherSet {
                    share_set: share.set.id.short(),
                    manifest_set: manifest.set.id.short(),
                });
            }
            if manifest.set != share.set {
                return Err(NotInManifest::ManifestDiffers {
                    set: share.set.id.short(),
                    differences: share.set.differences(&manifest.set),
                });
            }
            match manifest.check_share(share) {
                Some(true) => Ok(share.index),
                _ => Err(NotInManifest::Mismatch { index: share.index }),
            }
        }
        Piece::VaultKey { bytes, .. } => {
            if !manifest.has_bare_commitments() {
                let why = manifest.bare_commitments_omitted.clone().unwrap_or_else(|| "none recorded".into());
                return Err(NotInManifest::NoBareCommitments(why));
            }
            manifest.find_bare(bytes.expose()).ok_or(NotInManifest::NoBareMatch)
        }
        Piece::Encrypted { .. } => Err(NotInManifest::Encrypted),
    }
}

/// Recovers the secret from `candidates`.
pub fn combine(candidates: Vec<Candidate>, ctx: &Context<'_>) -> Result<Recovered, CombineError> {
    if candidates.is_empty() {
        return Err(CombineError::NoShares);
    }
    let mut shares = Vec::new();
    let mut keys = Vec::new();
    for c in candidates {
        match c.piece {
            Piece::Share(s) => shares.push((c.origin, s)),
            Piece::VaultKey { bytes, target } => keys.push((c.origin, bytes, target)),
            Piece::Encrypted { .. } => return Err(CombineError::StillEncrypted { origin: c.origin }),
        }
    }
    if let (Some((share, _)), Some((key, _, _))) = (shares.first(), keys.first()) {
        return Err(CombineError::MixedKinds { share: share.clone(), key: key.clone() });
    }
    if shares.is_empty() { combine_keys(keys, ctx) } else { combine_shares(shares, ctx) }
}

/// Drops exact repeats (same bytes), keeping the first. Returns the origins dropped.
fn drop_repeats<T>(items: &mut Vec<T>, origin: impl Fn(&T) -> &String, same: impl Fn(&T, &T) -> bool) -> Vec<String> {
    let mut repeated = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if items[..i].iter().any(|earlier| same(earlier, &items[i])) {
            repeated.push(origin(&items[i]).clone());
            items.remove(i);
        } else {
            i += 1;
        }
    }
    repeated
}

fn combine_shares(mut shares: Vec<(String, Share)>, ctx: &Context<'_>) -> Result<Recovered, CombineError> {
    // 1. One set only.
    // In the order the inputs name them.
    let mut by_set: Vec<(String, Vec<String>)> = Vec::new();
    for (origin, s) in &shares {
        let id = s.set.id.short();
        match by_set.iter_mut().find(|(set, _)| *set == id) {
            Some((_, origins)) => origins.push(origin.clone()),
            None => by_set.push((id, vec![origin.clone()])),
        }
    }
    if by_set.len() > 1 {
        return Err(CombineError::MixedSets(by_set));
    }

    // 2. Everyone agrees on the set's header; a minority that does not is bad.
    let mut bad = Vec::new();
    let info = majority_info(&shares)?;
    shares.retain(|(origin, s)| {
        let agrees = s.set == info;
        if !agrees {
            bad.push(origin.clone());
        }
        agrees
    });

    // 3. The manifest, when given, vouches for each share on its own. A share it disputes is
    //    left out, and looked at again once the secret is verified (step 6).
    let mut disputed: Vec<(String, Share)> = Vec::new();
    let mut readded = 0;
    if let Some(manifest) = ctx.manifest {
        let manifest_info = &manifest.set;
        if manifest_info.id != info.id {
            return Err(CombineError::ManifestOtherSet {
                manifest_set: manifest_info.id.short(),
                share_set: info.id.short(),
            });
        }
        if *manifest_info != info {
            return Err(CombineError::ManifestDiffers {
                set: info.id.short(),
                differences: info.differences(manifest_info),
            });
        }
        let given = shares.len() + bad.len();
        shares.retain(|(origin, s)| {
            let ok = manifest.check_share(s) == Some(true);
            if !ok {
                disputed.push((origin.clone(), s.clone()));
            }
            ok
        });
        let need = usize::from(info.threshold);
        // Too few undisputed: the disputed ones go back into the search, whose result the set's
        // commitment verifies, and each is judged by that result (step 6).
        if distinct_indexes(&shares).len() < need {
            shares.extend(disputed.iter().cloned());
            readded = disputed.len();
        } else {
            bad.extend(disputed.iter().map(|(o, _)| o.clone()));
        }
        let distinct = distinct_indexes(&shares).len();
        if !bad.is_empty() && distinct < need {
            return Err(CombineError::TooFewGood {
                given,
                bad: bad.len(),
                bad_list: bad.join(", "),
                have: distinct,
                need,
            });
        }
    }

    // 4. Exact repeats are harmless; enough distinct shares must remain.
    let repeated = drop_repeats(
        &mut shares,
        |(o, _)| o,
        |(_, a), (_, b)| a.index == b.index && a.payload == b.payload && a.blind == b.blind,
    );
    let need = usize::from(info.threshold);
    let present = distinct_indexes(&shares);
    if present.len() < need {
        let listed = present.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ");
        return Err(CombineError::TooFewShares { have: present.len(), need, set: info.id.short(), present: listed });
    }

    let points: Vec<(Point, Point)> = shares
        .iter()
        .map(|(origin, s)| {
            let err = |source| CombineError::Shamir { origin: origin.clone(), source };
            Ok((s.point().map_err(err)?, s.blind_point().map_err(err)?))
        })
        .collect::<Result<_, CombineError>>()?;
    let scheme = info.scheme;
    let header = info.header_bytes();
    let matches_commitment = |secret: &SecretBytes, rho: &SecretBytes| {
        let got = crate::commitment::set_commitment(&header, secret.expose(), rho.expose());
        crate::secret::ct_eq(&got, &info.commitment)
    };

    // 5. Decode the shares as a codeword; the set commitment decides. Shares that share an x
    //    coordinate with a different share are left out of it and judged by its result.
    let xs: Vec<u8> = points.iter().map(|(p, _)| p.x).collect();
    let clear: Vec<usize> = (0..points.len()).filter(|&i| xs.iter().filter(|&&x| x == xs[i]).count() == 1).collect();
    let decoded = if clear.len() >= need {
        decode_pairs(scheme, &clear.iter().map(|&i| &points[i]).collect::<Vec<_>>(), need)
            .ok()
            .filter(|d| matches_commitment(&d.secret, &d.rho))
    } else {
        None
    };
    let best = match decoded {
        Some(d) => {
            let wrong: Vec<usize> = d.wrong.iter().map(|&w| clear[w]).collect();
            let good: Vec<usize> = clear.iter().copied().filter(|i| !wrong.contains(i)).collect();
            let subset = good[..need].to_vec();
            let basis: Vec<Point> = subset.iter().map(|&i| points[i].0.clone()).collect();
            let blind_basis: Vec<Point> = subset.iter().map(|&i| points[i].1.clone()).collect();
            let on: Vec<usize> = (0..points.len())
                .filter(|i| {
                    good.contains(i)
                        || (!clear.contains(i)
                            && shamir::lies_on(scheme, &basis, &points[*i].0)
                            && shamir::lies_on(scheme, &blind_basis, &points[*i].1))
                })
                .collect();
            let cross_check = (clear.len() > need).then(|| CrossCheck {
                shares: clear.len(),
                needed: need,
                wrong: wrong.len(),
                detect_more: clear.len() - need - wrong.len(),
                locate_more: d.correctable - wrong.len(),
            });
            Best { subset, value: d.secret, on, tie: false, cross_check }
        }
        None => {
            // Beyond what decoding locates: with the commitment, a search of every k-subset finds
            // the secret while at least k shares are right, where the search is small enough.
            let too_many = || CombineError::TooManyWrong {
                given: clear.len(),
                need,
                correctable: (clear.len().max(need) - need) / 2,
                set: info.id.short(),
            };
            if !searchable(points.len(), need, info.secret_len as usize) {
                if readded > 0 {
                    return Err(too_few_good(&disputed, &bad, shares.len(), readded, need));
                }
                // Too many shares clash on x to decode without them.
                if clear.len() < need
                    && let Some((j, i)) = (0..xs.len()).find_map(|i| (0..i).find(|&j| xs[j] == xs[i]).map(|j| (j, i)))
                {
                    return Err(CombineError::SameXDifferent {
                        first: shares[j].0.clone(),
                        second: shares[i].0.clone(),
                    });
                }
                return Err(too_many());
            }
            let accept = |subset: &[usize]| -> Option<(SecretBytes, Vec<usize>)> {
                let basis: Vec<Point> = subset.iter().map(|&i| points[i].0.clone()).collect();
                let blind_basis: Vec<Point> = subset.iter().map(|&i| points[i].1.clone()).collect();
                let secret = shamir::combine(scheme, &basis).ok()?;
                let rho = shamir::combine(scheme, &blind_basis).ok()?;
                if !matches_commitment(&secret, &rho) {
                    return None;
                }
                let on = (0..points.len())
                    .filter(|&i| {
                        subset.contains(&i)
                            || (shamir::lies_on(scheme, &basis, &points[i].0)
                                && shamir::lies_on(scheme, &blind_basis, &points[i].1))
                    })
                    .collect();
                Some((secret, on))
            };
            match best_agreement(&xs, need, accept) {
                Some(mut best) => {
                    // Counted by x coordinate (a share relabelled with another index is the same
                    // point); nothing is claimed when the evidence was tied.
                    let distinct = |of: &mut dyn Iterator<Item = u8>| {
                        let mut v: Vec<u8> = of.collect();
                        v.sort_unstable();
                        v.dedup();
                        v.len()
                    };
                    let all = distinct(&mut xs.iter().copied());
                    let on = distinct(&mut best.on.iter().map(|&i| xs[i]));
                    best.cross_check = (all > need && !best.tie).then(|| CrossCheck {
                        shares: all,
                        needed: need,
                        wrong: all - on,
                        detect_more: on - need,
                        locate_more: on - need,
                    });
                    best
                }
                // The shares the manifest disputed could not make up the threshold: they are the bad ones.
                None if readded > 0 => return Err(too_few_good(&disputed, &bad, shares.len(), readded, need)),
                None if shares.len() == need => {
                    return Err(CombineError::CommitmentMismatch { given: need, set: info.id.short() });
                }
                None => {
                    return Err(CombineError::NoConsistentSubset { given: shares.len(), need, set: info.id.short() });
                }
            }
        }
    };

    // 6. Classify the rest: on the polynomials, or bad (unless the evidence is tied).
    let origin = |i: &usize| shares[*i].0.clone();
    let off: Vec<String> = (0..shares.len()).filter(|i| !best.on.contains(i)).map(|i| origin(&i)).collect();
    let (bad_found, unattributed) = if best.tie { (vec![], off) } else { (off, vec![]) };
    bad.extend(bad_found);
    // A share the manifest disputed that lies on the polynomials of the verified secret is good:
    // its entry in the manifest is what is wrong.
    let basis: Vec<Point> = best.subset.iter().map(|&i| points[i].0.clone()).collect();
    let blind_basis: Vec<Point> = best.subset.iter().map(|&i| points[i].1.clone()).collect();
    let mut manifest_wrong = Vec::new();
    for (origin, share) in &disputed {
        // Only where the index fixes x (the native scheme: x = index) does lying on the
        // polynomials show the share is the one its index says; a Vault-scheme share relabelled
        // with another index would lie on them too.
        let on = scheme == Scheme::Native
            && matches!((share.point(), share.blind_point()), (Ok(p), Ok(b))
                if p.x == share.index && shamir::lies_on(scheme, &basis, &p) && shamir::lies_on(scheme, &blind_basis, &b));
        if on {
            bad.retain(|o| o != origin);
            manifest_wrong.push(origin.clone());
        } else if !bad.contains(origin) {
            bad.push(origin.clone());
        }
    }
    Ok(Recovered {
        secret: best.value,
        target: Some(info.target),
        set: Some(info),
        verification: Verification::SetCommitment,
        used: best.subset.iter().map(origin).collect(),
        agreeing: best.on.iter().filter(|i| !best.subset.contains(i)).map(origin).collect(),
        bad,
        unattributed,
        repeated,
        manifest_wrong,
        cross_check: best.cross_check,
        not_opened: Vec::new(),
    })
}

/// The error for shares the manifest disputed that were needed to make up the threshold.
fn too_few_good(
    disputed: &[(String, Share)],
    bad: &[String],
    given: usize,
    readded: usize,
    need: usize,
) -> CombineError {
    CombineError::TooFewGood {
        given: given + bad.len(),
        bad: readded + bad.len(),
        bad_list: disputed.iter().map(|(o, _)| o.clone()).chain(bad.iter().cloned()).collect::<Vec<_>>().join(", "),
        have: given.saturating_sub(readded),
        need,
    }
}

/// What decoding a set's shares gave.
struct DecodedPairs {
    secret: SecretBytes,
    rho: SecretBytes,
    /// Indexes of the shares found wrong.
    wrong: Vec<usize>,
    /// How many wrong shares these shares can locate.
    correctable: usize,
}

/// Decodes the secret's and the blinding value's polynomials together (a share wrong in either
/// is wrong). The x coordinates are distinct.
fn decode_pairs(scheme: Scheme, points: &[&(Point, Point)], k: usize) -> Result<DecodedPairs, TooManyWrong> {
    let xs: Vec<u8> = points.iter().map(|(p, _)| p.x).collect();
    let decoder =
        Decoder::new(scheme, &xs, k).map_err(|_| TooManyWrong { given: xs.len(), threshold: k, correctable: 0 })?;
    let rho = decoder.decode(&points.iter().map(|(_, b)| b.y.expose()).collect::<Vec<_>>())?;
    let secret = decoder.decode(&points.iter().map(|(p, _)| p.y.expose()).collect::<Vec<_>>())?;
    Ok(DecodedPairs { secret, rho, wrong: decoder.wrong(), correctable: decoder.correctable() })
}

/// Whether every k-subset of n shares of `len` bytes can be tried.
fn searchable(n: usize, k: usize, len: usize) -> bool {
    // C(n, k), saturating above the limit.
    let mut subsets: usize = 1;
    for i in 0..k.min(n - k) {
        subsets = subsets.saturating_mul(n - i) / (i + 1);
        if subsets > MAX_TRIES {
            return false;
        }
    }
    subsets.saturating_mul(len.max(1)) <= MAX_WORK
}

fn distinct_indexes(shares: &[(String, Share)]) -> Vec<u8> {
    let mut v: Vec<u8> = shares.iter().map(|(_, s)| s.index).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The set information most shares agree on. A tie between different headers cannot be decided.
fn majority_info(shares: &[(String, Share)]) -> Result<SetInfo, CombineError> {
    let mut counts: Vec<(&SetInfo, usize, &String)> = Vec::new();
    for (origin, s) in shares {
        match counts.iter_mut().find(|(info, _, _)| **info == s.set) {
            Some(entry) => entry.1 += 1,
            None => counts.push((&s.set, 1, origin)),
        }
    }
    counts.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    match counts.as_slice() {
        [(info, _, _)] => Ok((*info).clone()),
        [(a, na, oa), (_, nb, ob), ..] if na == nb => {
            Err(CombineError::HeaderTie { first: (*oa).clone(), second: (*ob).clone(), set: a.id.short() })
        }
        [(info, _, _), ..] => Ok((*info).clone()),
        [] => Err(CombineError::NoShares),
    }
}

/// The best reconstruction found by [`best_agreement`].
struct Best<T> {
    subset: Vec<usize>,
    value: T,
    /// Every candidate on the subset's polynomials (the subset included).
    on: Vec<usize>,
    /// Another accepted subset reached as many candidates, with a different set of them.
    tie: bool,
    cross_check: Option<CrossCheck>,
}

/// Tries every k-subset of the candidates (with distinct x) in lexicographic order; the caller
/// has checked there are few enough ([`searchable`]). `accept` returns the reconstruction of an
/// acceptable subset and the candidates on its polynomials. The subset that most candidates
/// agree with wins: an accepted subset can hold bad shares whose errors cancel at x = 0, but then
/// fewer candidates lie on its polynomials. The search stops early when every candidate agrees.
fn best_agreement<T>(
    xs: &[u8],
    k: usize,
    mut accept: impl FnMut(&[usize]) -> Option<(T, Vec<usize>)>,
) -> Option<Best<T>> {
    let n = xs.len();
    let mut best: Option<Best<T>> = None;
    let mut subset: Vec<usize> = (0..k).collect();
    loop {
        let distinct = subset.iter().enumerate().all(|(a, &i)| subset[..a].iter().all(|&j| xs[j] != xs[i]));
        if distinct && let Some((value, on)) = accept(&subset) {
            match &mut best {
                Some(b) if on.len() < b.on.len() => {}
                Some(b) if on.len() == b.on.len() => b.tie |= b.on != on,
                _ => best = Some(Best { subset: subset.clone(), value, on, tie: false, cross_check: None }),
            }
            if best.as_ref().is_some_and(|b| b.on.len() == n) {
                break;
            }
        }
        // Next combination.
        let Some(pos) = (0..k).rev().find(|&p| subset[p] < n - k + p) else {
            break;
        };
        subset[pos] += 1;
        for p in pos + 1..k {
            subset[p] = subset[p - 1] + 1;
        }
    }
    best
}

fn combine_keys(
    mut keys: Vec<(String, SecretBytes, Option<Target>)>,
    ctx: &Context<'_>,
) -> Result<Recovered, CombineError> {
    let unseal = keys.iter().find(|k| k.2 == Some(Target::Unseal));
    let recovery = keys.iter().find(|k| k.2 == Some(Target::Recovery));
    if let (Some(u), Some(r)) = (unseal, recovery) {
        return Err(CombineError::TargetsMixed { unseal: u.0.clone(), recovery: r.0.clone() });
    }
    let mut target = keys.iter().find_map(|k| k.2);
    let repeated = drop_repeats(&mut keys, |k| &k.0, |a, b| a.1 == b.1);

    let manifest_info = match ctx.manifest {
        Some(m) => {
            let info = m.set.clone();
            if info.scheme != Scheme::Vault {
                return Err(CombineError::ManifestScheme { manifest_scheme: info.scheme.to_string() });
            }
            target = target.or(Some(info.target));
            Some(info)
        }
        None => None,
    };
    let threshold = match (ctx.threshold, manifest_info.as_ref().map(|i| usize::from(i.threshold))) {
        (Some(given), Some(stated)) if given != stated => {
            return Err(CombineError::ThresholdConflict { given, stated });
        }
        (given, stated) => given.or(stated),
    };
    let outcome = |secret, verification, used, agreeing, bad| Recovered {
        manifest_wrong: vec![],
        cross_check: None,
        not_opened: Vec::new(),
        secret,
        set: manifest_info.clone(),
        target,
        verification,
        used,
        agreeing,
        bad,
        unattributed: vec![],
        repeated: repeated.clone(),
    };

    // With a manifest that has bare commitments, each key is checked on its own first: a key of
    // another set is simply bad, whatever its length or x coordinate.
    let mut bad = Vec::new();
    let manifest_checked = match (ctx.manifest, manifest_info.as_ref()) {
        (Some(m), Some(info)) if m.has_bare_commitments() => {
            keys.retain(|(origin, bytes, _)| {
                let known = m.find_bare(bytes.expose()).is_some();
                if !known {
                    bad.push(origin.clone());
                }
                known
            });
            let need = usize::from(info.threshold);
            if keys.len() < need {
                let given = keys.len() + bad.len();
                return Err(CombineError::TooFewGood {
                    given,
                    bad: bad.len(),
                    bad_list: bad.join(", "),
                    have: keys.len(),
                    need,
                });
            }
            true
        }
        _ => false,
    };

    // A single key of a 1-of-1 set is the secret itself.
    if keys.len() == 1 {
        if threshold != Some(1) {
            return Err(CombineError::SingleKeyAmbiguous);
        }
        let (origin, bytes, _) = keys.remove(0);
        let verification = if manifest_checked { Verification::Manifest } else { Verification::Unverified };
        return Ok(outcome(bytes, verification, vec![origin], vec![], bad));
    }

    let mut points: Vec<Point> = Vec::with_capacity(keys.len());
    for (origin, bytes, _) in &keys {
        let point = Scheme::Vault
            .parse_share_bytes(bytes.expose(), false)
            .map_err(|source| CombineError::Shamir { origin: origin.clone(), source })?;
        if let Some(first) = points.first()
            && point.y.len() != first.y.len()
        {
            return Err(CombineError::LengthMismatch {
                origin: origin.clone(),
                len: bytes.len(),
                first: keys[0].0.clone(),
                first_len: first.y.len() + 1,
            });
        }
        points.push(point);
    }
    let origins: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let shamir_err = |source| CombineError::Shamir { origin: origins[0].clone(), source };
    let same_x = (0..points.len()).find_map(|i| (0..i).find(|&j| points[j].x == points[i].x).map(|j| (j, i)));

    if manifest_checked {
        // Every key is vouched for by the manifest, so any k of them give the secret.
        let need = threshold.unwrap_or(points.len()).min(points.len());
        let secret = shamir::combine(Scheme::Vault, &points[..need]).map_err(shamir_err)?;
        // The keys beyond the first k are checked against those k's polynomial too, not only
        // against the manifest: one off it is not counted as agreeing (which key is wrong cannot
        // be told: each matched its commitment).
        let (agreeing, off): (Vec<usize>, Vec<usize>) =
            (need..points.len()).partition(|&i| shamir::lies_on(Scheme::Vault, &points[..need], &points[i]));
        let mut r = outcome(
            secret,
            Verification::Manifest,
            origins[..need].to_vec(),
            agreeing.iter().map(|&i| origins[i].clone()).collect(),
            bad,
        );
        r.unattributed = off.iter().map(|&i| origins[i].clone()).collect();
        return Ok(r);
    }
    match threshold {
        Some(k) if points.len() < k => Err(CombineError::TooFewKeys { have: points.len(), need: k }),
        Some(k) if points.len() > k => {
            // More keys than needed: decode them. Keys that share an x coordinate with a different
            // key are left out and judged by the result (at most one of them is right).
            let clear: Vec<usize> =
                (0..points.len()).filter(|&i| points.iter().filter(|p| p.x == points[i].x).count() == 1).collect();
            let disagree =
                |correctable| CombineError::KeysDisagree { given: points.len(), degree: k - 1, need: k, correctable };
            if clear.len() < k {
                let (j, i) = same_x.unwrap_or((0, 1));
                return Err(CombineError::SameXDifferent { first: origins[j].clone(), second: origins[i].clone() });
            }
            let xs: Vec<u8> = clear.iter().map(|&i| points[i].x).collect();
            let decoder = Decoder::new(Scheme::Vault, &xs, k).map_err(shamir_err)?;
            let secret = decoder
                .decode(&clear.iter().map(|&i| points[i].y.expose()).collect::<Vec<_>>())
                .map_err(|e| disagree(e.correctable))?;
            let wrong: Vec<usize> = decoder.wrong().iter().map(|&w| clear[w]).collect();
            let good: Vec<usize> = clear.iter().copied().filter(|i| !wrong.contains(i)).collect();
            let basis: Vec<Point> = good[..k].iter().map(|&i| points[i].clone()).collect();
            let on: Vec<usize> = (0..points.len())
                .filter(|i| {
                    good.contains(i) || (!clear.contains(i) && shamir::lies_on(Scheme::Vault, &basis, &points[*i]))
                })
                .collect();
            // Without a commitment, only keys beyond the k confirm the polynomial.
            if on.len() <= k {
                return Err(disagree(decoder.correctable()));
            }
            bad.extend((0..points.len()).filter(|i| !on.contains(i)).map(|i| origins[i].clone()));
            let used = good[..k].iter().map(|&i| origins[i].clone()).collect();
            let agreeing = on.iter().filter(|i| !good[..k].contains(i)).map(|&i| origins[i].clone()).collect();
            let mut r = outcome(secret, Verification::Consistency { agreeing: on.len() }, used, agreeing, bad);
            // Without a commitment to refute a wrong decoding, wrong keys are certain to be seen
            // only up to n - k - t of them: more could be within t of another polynomial.
            r.cross_check = (clear.len() > k).then(|| CrossCheck {
                shares: clear.len(),
                needed: k,
                wrong: wrong.len(),
                detect_more: (clear.len() - k - decoder.correctable()).saturating_sub(wrong.len()),
                locate_more: decoder.correctable() - wrong.len(),
            });
            Ok(r)
        }
        None => Err(CombineError::ThresholdUnknown { given: points.len() }),
        Some(_) => {
            // Exactly k keys.
            if let Some((j, i)) = same_x {
                return Err(CombineError::SameXDifferent { first: origins[j].clone(), second: origins[i].clone() });
            }
            let secret = shamir::combine(Scheme::Vault, &points).map_err(shamir_err)?;
            Ok(outcome(secret, Verification::Unverified, origins, vec![], bad))
        }
    }
}
