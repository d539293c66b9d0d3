//! The rekey plan: everything the operator confirms before any PIN is asked, as one typed record.
//!
//! The record holds the parameters of the new set, every new custodian with the fingerprints AND
//! the bytes of their certificates, the old set's manifest as its bytes, and (staged ceremonies)
//! the operator's certificate. Its hash is taken over its canonical serialization (the compact
//! JSON of [`Plan`], fields in declaration order, bytes in standard base64), never over display
//! text; the text the operator reads is rendered from the record ([`Plan::render`]).
//!
//! A staged ceremony stores the record itself: `submit` rebuilds the new set from it (no recorded
//! arguments parsed again, no files read again, no working directory needed), and checks every
//! part against the digests taken at `init`, so that an edit is refused with the part named.

use crate::manifest::{Manifest, ManifestError, ShareFormat};
use crate::new_set::{NewSet, QrImages};
use crate::openpgp::Custodian;
use crate::openpgp::certs::CertError;
use crate::shamir::Scheme;
use crate::share::{Label, Target};
use crate::split::SplitPlan;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sequoia_openpgp::serialize::SerializeInto;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// One custodian as the plan fixes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodianRecord {
    pub name: String,
    /// Primary fingerprints, upper-case hex, one per certificate.
    pub fingerprints: Vec<String>,
    /// Each certificate, binary OpenPGP (public parts only), base64.
    pub certs: Vec<String>,
}

/// The new set's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSetRecord {
    pub scheme: String,
    pub threshold: usize,
    pub shares: usize,
    /// `None`: as the old set (known once its shares are read).
    pub target: Option<String>,
    /// `None`: as the old set.
    pub label: Option<String>,
    pub format: ShareFormat,
    pub binary: bool,
    /// Whether the shares are encrypted to the custodians listed (else written in the clear): an
    /// emptied list of custodians cannot turn an encrypted set into plaintext shares.
    pub encrypted: bool,
    pub qr_png: bool,
    pub qr_svg: bool,
    /// QR images were asked for: a share too large for them is refused, not skipped.
    pub qr_asked: bool,
    /// "a4" or "letter" when sheets are made.
    pub paper: Option<String>,
    /// Absolute: the plan does not depend on where a later step runs.
    pub out_dir: PathBuf,
}

/// The plan of a rekey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The staged ceremony's nonce (`None` for a one-shot rekey): the hash covers it, so an older
    /// ceremony's plan given a new nonce has a new hash.
    pub nonce: Option<String>,
    /// When the plan was made (UTC): the hash covers it too.
    pub created: String,
    /// The old set's manifest.json, its bytes in base64, if one was given.
    pub old_manifest: Option<String>,
    /// Where the old shares offered come from (one-shot rekey; empty for a staged one).
    pub old_shares_offered: Vec<String>,
    pub new_set: NewSetRecord,
    /// One per new share, in share order.
    pub custodians: Vec<CustodianRecord>,
    /// The staged ceremony's operator: recorded old shares are encrypted to them.
    pub operator: Option<CustodianRecord>,
    /// The operator accepted, in advance, to re-split an old secret that cannot be verified
    /// (its new manifest then says so). Off unless asked for.
    #[serde(default)]
    pub accept_unverified: bool,
    /// The operator vouched that the secret is uniformly random (`--secret-is-random`): the new
    /// set's manifest commits to bare keys.
    #[serde(default)]
    pub secret_vouched_random: bool,
}

/// One part of a plan and the SHA-256 of its canonical serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDigest {
    pub part: String,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the plan's {part} is not what was confirmed (it was changed after the plan was fixed): nothing was done. Cancel the ceremony and start a new one"
    )]
    Changed { part: String },
    #[error("the plan's {part} cannot be read ({why}): cancel the ceremony and start a new one")]
    Unreadable { part: String, why: String },
    #[error("the plan's old manifest: {0}")]
    Manifest(#[from] ManifestError),
    #[error("the plan's custodian {name}: {source}")]
    Cert { name: String, source: CertError },
    #[error(
        "the plan's new set is encrypted but lists {custodians} custodians for {shares} shares: the plan was changed after it was fixed. Nothing was done: cancel the ceremony and start a new one"
    )]
    CustodianCount { custodians: usize, shares: usize },
}

/// The plan hash as people read and type it: 128 bits, 32 hex digits in groups of four.
#[derive(Clone, PartialEq, Eq)]
pub struct PlanHash([u8; PlanHash::LEN]);

impl PlanHash {
    pub const LEN: usize = 16;

    /// A hash as typed: hex digits, any case, with or without spaces; `None` when it is not one.
    pub fn parse(typed: &str) -> Option<PlanHash> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        let bytes = hex::decode(digits).ok()?;
        Some(PlanHash(bytes.try_into().ok()?))
    }

    /// Compares in constant time with a hash typed by a person: `false` for anything that is not
    /// this hash (what is not a hash at all is refused on its form, which is no secret).
    pub fn matches(&self, typed: &str) -> bool {
        PlanHash::parse(typed).is_some_and(|h| crate::secret::ct_eq(&self.0, &h.0))
    }
}

impl std::fmt::Display for PlanHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = hex::encode(self.0);
        let groups: Vec<&str> = (0..hex.len()).step_by(4).map(|i| &hex[i..i + 4]).collect();
        f.write_str(&groups.join(" "))
    }
}

impl std::fmt::Debug for PlanHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlanHash({self})")
    }
}

impl CustodianRecord {
    /// The record of a validated custodian.
    pub fn of(custodian: &Custodian) -> Result<CustodianRecord, PlanError> {
        let certs = custodian
            .certs()
            .iter()
            .map(|c| c.to_vec().map(|b| STANDARD.encode(b)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PlanError::Unreadable { part: format!("custodian {}", custodian.name), why: e.to_string() })?;
        Ok(CustodianRecord { name: custodian.name.clone(), fingerprints: hex(custodian), certs })
    }

    /// The custodian again, its certificates parsed and validated for encryption now.
    pub fn custodian(&self) -> Result<Custodian, PlanError> {
        let cert_err = |source| PlanError::Cert { name: self.name.clone(), source };
        let mut certs = Vec::new();
        for (i, b64) in self.certs.iter().enumerate() {
            let origin = format!("the plan's certificate {} of {}", i + 1, self.name);
            let bytes = STANDARD
                .decode(b64)
                .map_err(|e| PlanError::Unreadable { part: format!("custodian {}", self.name), why: e.to_string() })?;
            for cert in crate::openpgp::certs::read_certs(&origin, &bytes).map_err(cert_err)? {
                certs.push((origin.clone(), cert));
            }
        }
        let custodian = Custodian::new(&self.name, certs).map_err(cert_err)?;
        if hex(&custodian) != self.fingerprints {
            return Err(PlanError::Changed { part: format!("custodian {} (fingerprints)", self.name) });
        }
        Ok(custodian)
    }
}

fn hex(custodian: &Custodian) -> Vec<String> {
    crate::openpgp::certs::hex_all(custodian.fingerprints())
}

fn sha256_of<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail; an error would leave an empty digest, which
    // matches nothing.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

impl Plan {
    /// The record of a new set as prepared (custodians validated), with the old manifest's bytes.
    /// `nonce`: the staged ceremony's (the hash covers it, and the time the plan is made).
    pub fn new(
        new: &NewSet,
        target: Option<Target>,
        label: Option<&str>,
        old_manifest: Option<&[u8]>,
        old_shares_offered: Vec<String>,
        operator: Option<&Custodian>,
        nonce: Option<String>,
    ) -> Result<Plan, PlanError> {
        let out_dir = std::path::absolute(&new.out_dir)
            .map_err(|e| PlanError::Unreadable { part: "new directory".into(), why: e.to_string() })?;
        // The record is JSON, which holds only UTF-8 paths: a plan that cannot be serialized
        // would hash as nothing.
        if out_dir.to_str().is_none() {
            return Err(PlanError::Unreadable {
                part: "new directory".into(),
                why: format!("{} is not valid UTF-8: choose a directory name that is", out_dir.display()),
            });
        }
        Ok(Plan {
            nonce,
            created: crate::time::utc_timestamp(crate::time::now()),
            old_manifest: old_manifest.map(|b| STANDARD.encode(b)),
            old_shares_offered,
            new_set: NewSetRecord {
                scheme: new.plan.scheme.to_string(),
                threshold: new.plan.threshold,
                shares: new.plan.shares,
                target: target.map(|t| t.to_string()),
                label: label.map(str::to_string),
                format: new.format,
                binary: new.binary,
                encrypted: new.encrypted(),
                qr_png: new.qr.png,
                qr_svg: new.qr.svg,
                qr_asked: new.qr.asked,
                paper: new.paper.map(|p| p.to_string()),
                out_dir,
            },
            custodians: new.custodians.iter().map(CustodianRecord::of).collect::<Result<_, _>>()?,
            operator: operator.map(CustodianRecord::of).transpose()?,
            accept_unverified: false,
            secret_vouched_random: false,
        })
    }

    /// The plan's hash: the first 128 bits of SHA-256 over its canonical serialization (nonce and
    /// creation time included). The operator types it to confirm; in a staged ceremony, every
    /// custodian types the one the operator gave them, which anchors the stored plan.
    pub fn hash(&self) -> PlanHash {
        // Serializing these plain structs cannot fail; an error would hash the empty string,
        // which no confirmed plan has.
        let digest = Sha256::digest(serde_json::to_vec(self).unwrap_or_default());
        let mut out = [0u8; PlanHash::LEN];
        out.copy_from_slice(&digest[..PlanHash::LEN]);
        PlanHash(out)
    }

    /// The digest of each part, as `init` records them.
    pub fn digests(&self) -> Vec<PartDigest> {
        let mut parts = vec![
            ("nonce and creation time".to_string(), sha256_of(&(&self.nonce, &self.created))),
            ("old manifest".to_string(), sha256_of(&self.old_manifest)),
            ("old shares offered".to_string(), sha256_of(&self.old_shares_offered)),
            ("new set parameters".to_string(), sha256_of(&self.new_set)),
        ];
        for (i, c) in self.custodians.iter().enumerate() {
            parts.push((format!("certificate of new custodian {} ({})", i + 1, c.name), sha256_of(c)));
        }
        parts.push(("operator certificate".to_string(), sha256_of(&self.operator)));
        parts.push(("consent to an unverified secret".to_string(), sha256_of(&self.accept_unverified)));
        parts.push(("secret vouched for as random".to_string(), sha256_of(&self.secret_vouched_random)));
        parts.into_iter().map(|(part, sha256)| PartDigest { part, sha256 }).collect()
    }

    /// Checks the plan against the digests and hash stored beside it; the first part that differs
    /// is named. This finds damage, not an attacker (who can rewrite all three): what anchors a
    /// stored plan is the hash a person was given ([`PlanHash::matches`]).
    pub fn check(&self, digests: &[PartDigest], hash: &str) -> Result<(), PlanError> {
        let now = self.digests();
        if now.len() != digests.len() {
            return Err(PlanError::Changed { part: "list of new custodians".into() });
        }
        // Named by the part's own name, not by the stored text (which an edit may have changed).
        if let Some(changed) = now.iter().zip(digests).find(|(a, b)| a != b) {
            return Err(PlanError::Changed { part: changed.0.part.clone() });
        }
        if self.hash().to_string() != hash {
            return Err(PlanError::Changed { part: "hash".into() });
        }
        Ok(())
    }

    /// The old manifest the plan holds, parsed.
    pub fn old_manifest(&self) -> Result<Option<Manifest>, PlanError> {
        let Some(b64) = &self.old_manifest else { return Ok(None) };
        let unreadable = |why: String| PlanError::Unreadable { part: "old manifest".into(), why };
        let bytes = STANDARD.decode(b64).map_err(|e| unreadable(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))?;
        Ok(Some(Manifest::from_json(&text)?))
    }

    /// The operator the recorded shares are encrypted to.
    pub fn operator(&self) -> Result<Option<Custodian>, PlanError> {
        self.operator.as_ref().map(CustodianRecord::custodian).transpose()
    }

    /// The new set to write, rebuilt from the record (certificates validated again). `inherited`
    /// is the old set's target and label, for the parts the plan leaves as the old set's.
    pub fn new_set(&self, inherited: Option<(Target, &str)>) -> Result<NewSet, PlanError> {
        let n = &self.new_set;
        let bad = |part: &str, why: String| PlanError::Unreadable { part: part.into(), why };
        let scheme: Scheme = n.scheme.parse().map_err(|e: crate::names::UnknownName| bad("scheme", e.to_string()))?;
        let target = match &n.target {
            Some(t) => t.parse::<Target>().map_err(|e| bad("target", e.to_string()))?,
            None => inherited.map_or(Target::Generic, |(t, _)| t),
        };
        let label = n.label.as_deref().or(inherited.map(|(_, l)| l)).unwrap_or("");
        let label = Label::new(label).map_err(|e| bad("label", e.to_string()))?;
        let paper = n
            .paper
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::names::UnknownName| bad("paper size", e.to_string()))?;
        // Encrypted: one custodian per share; plaintext: none. Anything else was edited.
        let custodians = if n.encrypted { n.shares } else { 0 };
        if self.custodians.len() != custodians {
            return Err(PlanError::CustodianCount { custodians: self.custodians.len(), shares: n.shares });
        }
        Ok(NewSet {
            plan: SplitPlan { scheme, threshold: n.threshold, shares: n.shares, target, label, created: None },
            format: n.format,
            custodians: self.custodians.iter().map(CustodianRecord::custodian).collect::<Result<_, _>>()?,
            binary: n.binary,
            qr: QrImages { png: n.qr_png, svg: n.qr_svg, asked: n.qr_asked },
            paper,
            out_dir: n.out_dir.clone(),
        })
    }

    /// The plan as the operator reads it.
    pub fn render(&self) -> String {
        let mut t = String::from("Rekey plan (the secret stays the same; only the shares change):\n");
        match self.old_manifest() {
            Ok(Some(m)) => t.push_str(&format!(
                "  old set   {} ({}-of-{}, {} scheme, target {}, label \"{}\")\n",
                m.set.id.short(),
                m.set.threshold,
                m.set.count,
                m.set.scheme,
                m.set.target,
                crate::sanitize(m.set.label.as_str())
            )),
            Ok(None) => t.push_str("  old set   (as the old shares describe it; no old manifest given)\n"),
            Err(e) => t.push_str(&format!("  old set   (the manifest cannot be read: {e})\n")),
        }
        if !self.old_shares_offered.is_empty() {
            t.push_str(&format!("  old shares offered ({}):\n", self.old_shares_offered.len()));
            for origin in &self.old_shares_offered {
                t.push_str(&format!("    {}\n", crate::sanitize(origin)));
            }
        }
        let n = &self.new_set;
        let label = n
            .label
            .as_deref()
            .map_or(", label as the old set".into(), |l| format!(", label \"{}\"", crate::sanitize(l)));
        t.push_str(&format!(
            "  new set   {}-of-{}, {} scheme, target {}{label}\n",
            n.threshold,
            n.shares,
            n.scheme,
            n.target.as_deref().unwrap_or("as the old set"),
        ));
        if n.encrypted {
            t.push_str("  new custodians:\n");
        } else {
            t.push_str("  new shares are written UNENCRYPTED (no custodians)\n");
        }
        for (i, c) in self.custodians.iter().enumerate() {
            t.push_str(&format!("    {:>3}  {:<12} {}\n", i + 1, crate::sanitize(&c.name), c.fingerprints.join(", ")));
        }
        t.push_str(&format!("  new directory {}\n", n.out_dir.display()));
        if self.secret_vouched_random {
            t.push_str(
                "  the operator vouches that the secret is uniformly random (--secret-is-random): bare keys are committed to\n",
            );
        }
        if self.accept_unverified {
            t.push_str(
                "  WARNING   an old secret that cannot be verified is re-split all the same (--accept-unverified-secret)\n",
            );
        }
        if let Some(op) = &self.operator {
            t.push_str(&format!(
                "  recorded old shares are encrypted to the operator key {}\n",
                op.fingerprints.join(", ")
            ));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sequoia_openpgp::cert::prelude::*;

    fn custodian(name: &str) -> Custodian {
        let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .unwrap();
        Custodian::new(name, vec![(format!("{name}.asc"), cert)]).unwrap()
    }

    fn plan() -> Plan {
        let new = NewSet {
            plan: SplitPlan {
                scheme: Scheme::Native,
                threshold: 2,
                shares: 2,
                target: Target::Unseal,
                label: Label::new("prod").unwrap(),
                created: None,
            },
            format: ShareFormat::SymbolonV1,
            custodians: vec![custodian("alice"), custodian("bob")],
            binary: false,
            qr: QrImages { png: true, svg: false, asked: true },
            paper: None,
            out_dir: "/tmp/new-set".into(),
        };
        let operator = custodian("operator");
        Plan::new(
            &new,
            Some(Target::Unseal),
            None,
            None,
            vec!["old/01.asc".into()],
            Some(&operator),
            Some("00ff".into()),
        )
        .unwrap()
    }

    #[test]
    fn the_record_round_trips_and_rebuilds_the_new_set() {
        let plan = plan();
        let json = serde_json::to_string(&plan).unwrap();
        let again: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(again, plan);
        assert_eq!(again.hash(), plan.hash());
        let hash = plan.hash().to_string();
        assert_eq!((hash.len(), hash.matches(' ').count()), (39, 7), "{hash}");
        again.check(&plan.digests(), &hash).unwrap();
        let new = again.new_set(Some((Target::Recovery, "old label"))).unwrap();
        // Given parts stay; the label, left as the old set's, is inherited.
        assert_eq!((new.plan.target, new.plan.label.as_str()), (Target::Unseal, "old label"));
        let names: Vec<&str> = new.custodians.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(crate::openpgp::certs::hex_all(new.custodians[1].fingerprints()), plan.custodians[1].fingerprints);
        assert_eq!(again.operator().unwrap().unwrap().name, "operator");
    }

    #[test]
    fn an_edit_of_any_part_is_named() {
        let plan = plan();
        let (digests, hash) = (plan.digests(), plan.hash().to_string());
        let mut edited = plan.clone();
        let cert = &mut edited.custodians[1].certs[0];
        cert.replace_range(60..61, if &cert[60..61] == "A" { "B" } else { "A" });
        let err = edited.check(&digests, &hash).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan's certificate of new custodian 2 (bob) is not what was confirmed (it was changed after the plan was fixed): nothing was done. Cancel the ceremony and start a new one"
        );
        let mut edited = plan.clone();
        edited.new_set.threshold = 1;
        assert!(
            edited.check(&digests, &hash).unwrap_err().to_string().starts_with("the plan's new set parameters is not")
        );
        // Digests rewritten to match the edit: the hash the operator confirmed still differs.
        assert!(edited.check(&edited.digests(), &hash).unwrap_err().to_string().starts_with("the plan's hash is not"));
        let mut edited = plan.clone();
        edited.custodians[0].fingerprints[0] = plan.custodians[1].fingerprints[0].clone();
        let err = edited.new_set(None).unwrap_err();
        assert!(err.to_string().contains("custodian alice (fingerprints)"), "{err}");
    }

    /// What an attacker who can write the state may rewrite, digests recomputed each time: the
    /// hash a person was given no longer matches.
    #[test]
    fn the_hash_covers_the_nonce_the_operator_and_the_custodians() {
        let plan = plan();
        let given = plan.hash().to_string();
        assert!(plan.hash().matches(&given));
        assert!(plan.hash().matches(&given.replace(' ', "").to_uppercase()));
        assert!(!plan.hash().matches(&given[..given.len() - 1]));
        assert!(!plan.hash().matches("not a hash"));
        let mut nonce = plan.clone();
        nonce.nonce = Some("11ee".into());
        let mut operator = plan.clone();
        operator.operator = Some(CustodianRecord::of(&custodian("mallory")).unwrap());
        let mut emptied = plan.clone();
        emptied.custodians.clear();
        let mut created = plan.clone();
        created.created = "2020-01-01T00:00:00Z".into();
        for edited in [&nonce, &operator, &emptied, &created] {
            assert!(!edited.hash().matches(&given), "{edited:?}");
            // Its own digests and hash agree with it: only the anchor finds the edit.
            edited.check(&edited.digests(), &edited.hash().to_string()).unwrap();
        }
        // An encrypted set with no custodians is never written in the clear.
        let err = emptied.new_set(None).unwrap_err();
        assert!(matches!(err, PlanError::CustodianCount { custodians: 0, shares: 2 }), "{err}");
    }

    #[test]
    fn the_text_is_rendered_from_the_record() {
        let plan = plan();
        let text = plan.render();
        let expected = format!(
            "Rekey plan (the secret stays the same; only the shares change):\n  old set   (as the old shares describe it; no old manifest given)\n  old shares offered (1):\n    old/01.asc\n  new set   2-of-2, native scheme, target unseal, label as the old set\n  new custodians:\n      1  alice        {}\n      2  bob          {}\n  new directory /tmp/new-set\n  recorded old shares are encrypted to the operator key {}\n",
            plan.custodians[0].fingerprints[0],
            plan.custodians[1].fingerprints[0],
            plan.operator.as_ref().unwrap().fingerprints[0]
        );
        assert_eq!(text, expected);
    }
}
