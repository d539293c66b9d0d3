//! Encrypting a share to its custodian: one message, readable by every certificate the custodian
//! has (e.g. a main token and a backup token), unsigned.

use super::{Custodian, policy};
use sequoia_openpgp::crypto::SessionKey;
use sequoia_openpgp::packet::{Key, key};
use sequoia_openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient};
use sequoia_openpgp::types::Features;
use sequoia_openpgp::types::SymmetricAlgorithm;
use sequoia_openpgp::{KeyHandle, armor};
use std::io::Write;
use zeroize::Zeroizing;

/// How the message is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// ASCII armor (`-----BEGIN PGP MESSAGE-----`).
    Armored,
    /// Binary OpenPGP packets.
    Binary,
}

#[derive(Debug, thiserror::Error)]
#[error("could not encrypt the share for {custodian}: {why}")]
pub struct EncryptError {
    pub custodian: String,
    pub why: String,
}

/// ASCII armor around a binary message (the same ciphertext, as text).
pub fn armor(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() * 4 / 3 + 128);
    {
        // Writing into a Vec cannot fail.
        let Ok(mut writer) = armor::Writer::new(&mut out, armor::Kind::Message) else { return out };
        let _ = writer.write_all(message);
        let _ = writer.finalize();
    }
    out
}

/// A recipient for a SEIPDv1 message (v3 PKESK, MDC), whatever the certificate advertises: what
/// GnuPG 2.2/2.4, Vault's Go OpenPGP and older cards' software read. RFC 9580's SEIPDv2 would make
/// the share unreadable to them, and a share must stay readable for years.
fn v1_recipient<'a, P: key::KeyParts, R: key::KeyRole>(key: &'a Key<P, R>) -> Recipient<'a> {
    Recipient::new(Features::empty().set_seipdv1(), KeyHandle::from(key.keyid()), key)
}

/// Encrypts `plaintext` to every valid encryption key of every certificate of `custodian`.
pub fn encrypt(custodian: &Custodian, plaintext: &[u8], output: Output) -> Result<Vec<u8>, EncryptError> {
    let fail = |e: anyhow::Error| EncryptError { custodian: custodian.name.clone(), why: e.to_string() };
    let p = policy();
    let mut recipients: Vec<Recipient> = Vec::new();
    for cert in custodian.certs() {
        let vc = cert.with_policy(&p, None).map_err(fail)?;
        let before = recipients.len();
        for key in vc.keys().supported().alive().revoked(false).for_transport_encryption() {
            recipients.push(v1_recipient(key.key()));
        }
        if recipients.len() == before {
            for key in vc.keys().supported().alive().revoked(false).for_storage_encryption() {
                recipients.push(v1_recipient(key.key()));
            }
        }
        if recipients.len() == before {
            return Err(fail(anyhow::anyhow!("certificate {} has no usable encryption key", cert.fingerprint())));
        }
    }
    let mut sink = Vec::with_capacity(plaintext.len() + 1024);
    {
        let mut message = Message::new(&mut sink);
        if output == Output::Armored {
            message = Armorer::new(message).kind(armor::Kind::Message).build().map_err(fail)?;
        }
        // The session key comes straight from the OS CSPRNG (AES-256, understood by gpg and by
        // Vault's Go OpenPGP). Sequoia's nettle backend would otherwise seed a fresh Yarrow
        // generator for it, which dominates the cost of encrypting many shares.
        let mut key = Zeroizing::new([0u8; 32]);
        crate::rng::fill_from_os(key.as_mut()).map_err(|e| fail(e.into()))?;
        let session_key = SessionKey::from(&key[..]);
        let message = Encryptor::with_session_key(message, SymmetricAlgorithm::AES256, session_key)
            .map_err(fail)?
            .add_recipients(recipients)
            .build()
            .map_err(fail)?;
        let mut literal = LiteralWriter::new(message).build().map_err(fail)?;
        literal.write_all(plaintext).map_err(|e| fail(e.into()))?;
        literal.finalize().map_err(fail)?;
    }
    Ok(sink)
}
