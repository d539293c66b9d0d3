//! A custodian's token set up and looked after without gpg: keys generated on the card,
//! cardholder data, new PINs, the touch policy; PIN changes, unblocking, the reset code, and a
//! factory reset. The rules, once:
//!
//! - a card that already holds keys is not set up again unless asked to reset it, and any reset
//!   needs the card's ident typed back (never a bare "yes");
//! - the algorithm (and the touch policy) is checked against what the card says it supports
//!   before anything is written to it;
//! - everything a person types is asked before the card is written: a new PIN typed twice
//!   differently, or one that is the factory default, is asked again and the card is unchanged;
//! - no card transaction is held while a person types;
//! - the last try of a PIN (user PIN, admin PIN, reset code) is never spent unless allowed, and
//!   a blocked one is not tried.
//!
//! Progress goes through the [`Prompt`]'s notices; nothing here prints.

use super::{CardError, CardInfo, cert, pick};
use crate::prompt::{NewPin, Prompt, Question, SecretRequest};
use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::algorithm::AlgoSimple;
use openpgp_card::ocard::crypto::PublicKeyMaterial;
use openpgp_card::ocard::data::{Fingerprint, KeyGenerationTime, TouchPolicy};
use openpgp_card::state::Transaction;
use secrecy::SecretString;
use sequoia_openpgp::Cert;
use zeroize::Zeroizing;

/// The factory defaults (OpenPGP card specification 3.4, section 4.3), refused as new PINs.
const DEFAULT_USER_PIN: &str = "123456";
const DEFAULT_ADMIN_PIN: &str = "12345678";
/// The specification's minimum lengths: user PIN 6, admin PIN and reset code 8.
const MIN_ADMIN: usize = 8;

/// How often a new PIN is asked for again (typed twice differently, or refused) before giving up.
const ATTEMPTS: usize = 3;

/// The key algorithms a token can be set up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519 for signing and authentication, X25519 (Cv25519) for decryption.
    Cv25519,
    Rsa4096,
    NistP256,
    NistP384,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Cv25519 => "cv25519",
            Algorithm::Rsa4096 => "rsa4096",
            Algorithm::NistP256 => "nistp256",
            Algorithm::NistP384 => "nistp384",
        }
    }

    fn simple(self) -> AlgoSimple {
        match self {
            Algorithm::Cv25519 => AlgoSimple::Curve25519,
            Algorithm::Rsa4096 => AlgoSimple::RSA4k,
            Algorithm::NistP256 => AlgoSimple::NIST256,
            Algorithm::NistP384 => AlgoSimple::NIST384,
        }
    }

    const ALL: [Algorithm; 4] = [Algorithm::Cv25519, Algorithm::Rsa4096, Algorithm::NistP256, Algorithm::NistP384];
}

impl std::str::FromStr for Algorithm {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| crate::names::UnknownName {
            what: "key algorithm",
            given: s.into(),
            choices: "'cv25519', 'rsa4096', 'nistp256' or 'nistp384'",
        })
    }
}

/// The touch policy to set on every key (where the card has user interaction flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    Off,
    On,
    Cached,
}

impl std::str::FromStr for Touch {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(Touch::Off),
            "on" => Ok(Touch::On),
            "cached" => Ok(Touch::Cached),
            other => Err(crate::names::UnknownName {
                what: "touch policy",
                given: other.into(),
                choices: "'off', 'on' or 'cached'",
            }),
        }
    }
}

/// Which card: its ident (`MMMM:SSSSSSSS`), or the only one inserted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Which<'a> {
    pub ident: Option<&'a str>,
    /// Spend a PIN's last try if it comes to that.
    pub allow_last_try: bool,
}

/// What `card setup` is to do.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub which: Which<'a>,
    pub algorithm: Algorithm,
    /// The custodian's name ("Given Names Surname"): the cardholder name and the user ID.
    pub name: String,
    pub email: Option<String>,
    pub url: Option<String>,
    pub login: Option<String>,
    pub touch: Option<Touch>,
    /// Reset the card first (it holds keys): the ident typed back, or `None` to ask for it.
    pub reset: Option<Option<String>>,
}

/// A token that was set up.
#[derive(Debug)]
pub struct Provisioned {
    /// The certificate of the card's keys, signed by the card.
    pub cert: Cert,
    /// "card 000F:12345678 (Manufacturer)".
    pub card: String,
    pub ident: String,
    /// The user ID of the certificate.
    pub user_id: String,
    /// What was set, for the report ("keys generated on the card: cv25519", ...).
    pub done: Vec<String>,
}

/// The user PIN or the admin PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    User,
    Admin,
}

/// How a blocked user PIN is unblocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    AdminPin,
    ResetCode,
}

fn failed<'c>(card: &'c str, what: &'static str) -> impl Fn(openpgp_card::Error) -> CardError + 'c {
    move |e| CardError::Card { card: card.to_string(), what, why: e.to_string() }
}

/// Refuses a PIN that is blocked or at its last try (unless allowed), before it is asked.
fn guard(card: &str, which: &'static str, left: u8, allow_last_try: bool) -> Result<(), CardError> {
    match left {
        0 => Err(CardError::SecretBlocked { card: card.to_string(), which }),
        1 if !allow_last_try => Err(CardError::SecretLastTry { card: card.to_string(), which }),
        _ => Ok(()),
    }
}

/// The current admin PIN, asked after its counter was checked.
fn ask_admin(prompt: &mut dyn Prompt, card: &str, left: u8, which: Which<'_>) -> Result<Zeroizing<String>, CardError> {
    guard(card, "admin PIN", left, which.allow_last_try)?;
    let request = SecretRequest::AdminPin { card: card.to_string(), tries_left: left };
    ask_checked(prompt, &request, card, "admin PIN", |pin| min_len(pin, MIN_ADMIN, "admin PIN"))
}

fn min_len(pin: &str, min: usize, what: &str) -> Result<(), String> {
    match pin.len() {
        0 => Err("nothing was typed".into()),
        n if n < min => Err(format!("it is {n} bytes long, and an OpenPGP card's {what} has at least {min}")),
        _ => Ok(()),
    }
}

/// Asks for an existing PIN until one is given that could be right (at most three times).
fn ask_checked(
    prompt: &mut dyn Prompt,
    request: &SecretRequest,
    card: &str,
    which: &'static str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Zeroizing<String>, CardError> {
    let mut why = String::new();
    for _ in 0..ATTEMPTS {
        let pin =
            prompt.secret(request).map_err(|e| CardError::NoPin { card: card.to_string(), why: e.to_string() })?;
        match check(&pin) {
            Ok(()) => return Ok(pin),
            Err(reason) => {
                prompt.notice(&format!(
                    "That cannot be right for {card}: {reason}. It was not sent to the card: no try was spent."
                ));
                why = reason;
            }
        }
    }
    Err(CardError::ImpossibleSecret { card: card.to_string(), which, why })
}

/// A new PIN (or reset code), typed twice: not the factory default, within the card's lengths.
/// Asked again (at most three times) when the two differ or it is refused; nothing is written.
fn ask_new(
    prompt: &mut dyn Prompt,
    card: &str,
    what: NewPin,
    max: Option<usize>,
) -> Result<Zeroizing<String>, CardError> {
    let (min, default) = match what {
        NewPin::User => (super::pin::MIN_LEN, Some(DEFAULT_USER_PIN)),
        NewPin::Admin => (MIN_ADMIN, Some(DEFAULT_ADMIN_PIN)),
        NewPin::ResetCode => (MIN_ADMIN, None),
    };
    let mut why = String::new();
    for _ in 0..ATTEMPTS {
        let first = prompt
            .secret(&SecretRequest::New { card: card.to_string(), what, again: false })
            .map_err(|e| CardError::NoPin { card: card.to_string(), why: e.to_string() })?;
        let refused = match () {
            _ if first.is_empty() => Some("nothing was typed".to_string()),
            _ if first.len() < min => Some(format!("it is {} bytes long, and must be at least {min}", first.len())),
            _ if max.is_some_and(|m| first.len() > m) => {
                Some(format!("it is {} bytes long, and this card takes at most {}", first.len(), max.unwrap_or(0)))
            }
            _ if default.is_some_and(|d| *first == *d) => {
                Some("it is the factory default, which everyone knows".to_string())
            }
            _ => None,
        };
        if let Some(reason) = refused {
            prompt.notice(&format!("That {} is refused: {reason}. Nothing was written to the card.", what.name()));
            why = reason;
            continue;
        }
        let second = prompt
            .secret(&SecretRequest::New { card: card.to_string(), what, again: true })
            .map_err(|e| CardError::NoPin { card: card.to_string(), why: e.to_string() })?;
        if first == second {
            return Ok(first);
        }
        why = "the two entries differ".into();
        prompt.notice(&format!(
            "The two entries of the new {} differ. Nothing was written to the card: type it again.",
            what.name()
        ));
    }
    Err(CardError::NewPinNotGiven { card: card.to_string(), what: what.name(), why })
}

/// Asks for the card's ident typed back before a factory reset (unless it was given).
fn confirm_reset(prompt: &mut dyn Prompt, info: &CardInfo, typed: Option<&str>) -> Result<(), CardError> {
    let card = info.describe();
    let confirmed = match typed {
        Some(t) => t.trim().eq_ignore_ascii_case(&info.ident),
        None => prompt
            .confirm(&Question::TypeIdent {
                ident: info.ident.clone(),
                action: format!("reset {card} to its factory state, erasing its keys"),
            })
            // Nobody to type it (no terminal): not confirmed.
            .unwrap_or(false),
    };
    if !confirmed {
        return Err(CardError::ResetNotConfirmed { card, ident: info.ident.clone() });
    }
    Ok(())
}

/// The fingerprint the card records for a key it generated: that of the v4 key packet symbolon
/// rebuilds from it (for ECDH, with RFC 6637's KDF parameters for the curve).
fn fingerprint_of(
    material: &PublicKeyMaterial,
    time: KeyGenerationTime,
    kt: KeyType,
) -> Result<Fingerprint, openpgp_card::Error> {
    let ctime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(time.get()));
    let keys = super::keys::candidates(material, kt, ctime).map_err(openpgp_card::Error::InternalError)?;
    let key =
        super::keys::preferred(keys, material).ok_or_else(|| openpgp_card::Error::InternalError("no key".into()))?;
    let fp = key.fingerprint();
    Fingerprint::try_from(fp.as_bytes()).map_err(|_| openpgp_card::Error::InternalError("not a v4 fingerprint".into()))
}

/// Checks, reading only, that the card can do `algorithm` in every slot and `touch` where asked.
/// `Ok(false)`: the card does not list its algorithms, so that could not be checked.
fn check_support(
    tx: &mut openpgp_card::Card<Transaction<'_>>,
    card: &str,
    algorithm: Algorithm,
    touch: Option<Touch>,
) -> Result<bool, CardError> {
    let listed = matches!(tx.algorithm_information(), Ok(Some(_)));
    let supported = |tx: &mut openpgp_card::Card<Transaction<'_>>, a: Algorithm| {
        SLOTS.iter().all(|&kt| a.simple().matching_algorithm_attributes(tx.card(), kt).is_ok())
    };
    if !supported(tx, algorithm) {
        let can: Vec<&str> = Algorithm::ALL.into_iter().filter(|&a| supported(tx, a)).map(Algorithm::name).collect();
        return Err(CardError::AlgorithmUnsupported {
            card: card.to_string(),
            asked: algorithm.name(),
            can: if can.is_empty() { "none of symbolon's".into() } else { can.join(", ") },
        });
    }
    if touch.is_some() && SLOTS.iter().any(|&kt| !matches!(tx.user_interaction_flag(kt), Ok(Some(_)))) {
        return Err(CardError::TouchUnsupported { card: card.to_string() });
    }
    Ok(listed)
}

const SLOTS: [KeyType; 3] = [KeyType::Signing, KeyType::Decryption, KeyType::Authentication];

/// ISO 7501-1 cardholder name: "Surname<<Given<Names", from "Given Names Surname".
fn cardholder_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        Some((surname, [])) => surname.to_string(),
        Some((surname, given)) => format!("{surname}<<{}", given.join("<")),
        None => String::new(),
    }
}

/// `symbolon card setup`: see the module's rules.
pub fn setup(plan: &Setup<'_>, prompt: &mut dyn Prompt) -> Result<Provisioned, CardError> {
    let (mut open, info) = pick(plan.which.ident)?;
    let card = info.describe();
    let has_keys = [&info.signing, &info.decryption, &info.authentication].iter().any(|k| k.fingerprint.is_some());
    if has_keys && plan.reset.is_none() {
        return Err(CardError::HasKeys { card, ident: info.ident.clone() });
    }
    for (what, value, max) in [("URL", &plan.url, 255), ("login data", &plan.login, 254)] {
        if value.as_ref().is_some_and(|v| !v.is_ascii() || v.len() > max) {
            let why = format!("the {what} must be ASCII, at most {max} characters. Nothing was written to the card");
            return Err(CardError::BadCardholder { card, why });
        }
    }
    let holder = cardholder_name(&plan.name);
    if holder.is_empty() || holder.len() > 39 || !holder.is_ascii() {
        return Err(CardError::BadCardholder {
            card,
            why: "give the custodian's name in ASCII letters, at most 39 of them with the spaces".into(),
        });
    }
    // Read only: what the card can do, and the PIN lengths it takes.
    let (max_user, max_admin) = {
        let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
        if !check_support(&mut tx, &card, plan.algorithm, plan.touch)? {
            prompt.notice(&format!(
                "{card} does not list the algorithms it supports: whether it can make {} keys is known only when it is asked",
                plan.algorithm.name()
            ));
        }
        let pw = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?;
        // Where the card hashes PINs (its KDF-DO), the typed length is not what it limits.
        let hashed = tx.kdf_do().is_ok_and(|kdf| kdf.kdf_algo() != 0);
        let limit = |m: u8| if hashed { 255 } else { usize::from(m) };
        (limit(pw.pw1_max_len()), limit(pw.pw3_max_len()))
    };
    let max = |m: usize, min: usize| Some(m).filter(|&m| m >= min);
    // Everything typed is asked before anything is written.
    let reset = plan.reset.is_some();
    if let Some(typed) = &plan.reset {
        confirm_reset(prompt, &info, typed.as_deref())?;
    }
    let admin = if reset {
        Zeroizing::new(DEFAULT_ADMIN_PIN.to_string())
    } else {
        ask_admin(prompt, &card, info.pin_retries.admin, plan.which)?
    };
    let new_user = ask_new(prompt, &card, NewPin::User, max(max_user, super::pin::MIN_LEN))?;
    let new_admin = ask_new(prompt, &card, NewPin::Admin, max(max_admin, MIN_ADMIN))?;
    open.forget.now();

    let mut done = Vec::new();
    {
        let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
        let _ = tx.invalidate_cache();
        let changed = |done: &Vec<String>, what: &'static str| {
            let card = card.clone();
            let done = done.clone();
            move |e: openpgp_card::Error| CardError::SetupFailed {
                card: card.clone(),
                what,
                why: e.to_string(),
                done: done.clone(),
            }
        };
        if reset {
            // A reset spends the PINs' tries on purpose: one that fails midway may leave them blocked.
            let begun = vec!["a factory reset was begun: its PINs may be blocked and its keys erased".to_string()];
            tx.factory_reset().map_err(changed(&begun, "resetting the card"))?;
            done.push("reset to its factory state".to_string());
        } else {
            // Another program may have spent tries while the PINs were typed.
            let left = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?.err_count_pw3();
            guard(&card, "admin PIN", left, plan.which.allow_last_try)?;
        }
        if let Err(e) = tx.verify_admin_pin(SecretString::from(admin.as_str())) {
            if !done.is_empty() {
                return Err(changed(&done, "verifying the factory admin PIN")(e));
            }
            return Err(wrong_or_failed(e, &mut tx, &card, "admin PIN", "verifying the admin PIN"));
        }
        let mut admin_card = tx.as_admin_card(None).map_err(changed(&done, "opening the card for administration"))?;
        let before_keys = done.len();
        for (kt, slot) in SLOTS.into_iter().zip(["signing", "decryption", "authentication"]) {
            admin_card
                .set_algorithm(kt, plan.algorithm.simple())
                .map_err(changed(&done, "setting the key algorithm"))?;
            admin_card.generate_key(fingerprint_of, kt).map_err(changed(&done, "generating a key"))?;
            done.push(format!("{} {slot} key generated on the card", plan.algorithm.name()));
        }
        done.truncate(before_keys);
        done.push(format!(
            "{} keys generated on the card (signing, decryption, authentication)",
            plan.algorithm.name()
        ));
        admin_card.set_cardholder_name(&holder).map_err(changed(&done, "setting the cardholder name"))?;
        done.push(format!("cardholder name {holder}"));
        if let Some(url) = &plan.url {
            admin_card.set_url(url).map_err(changed(&done, "setting the URL"))?;
            done.push(format!("URL {url}"));
        }
        if let Some(login) = &plan.login {
            admin_card.set_login_data(login.as_bytes()).map_err(changed(&done, "setting the login data"))?;
            done.push(format!("login data {login}"));
        }
        if let Some(touch) = plan.touch {
            let policy = match touch {
                Touch::Off => TouchPolicy::Off,
                Touch::On => TouchPolicy::On,
                Touch::Cached => TouchPolicy::Cached,
            };
            for kt in SLOTS {
                admin_card.set_touch_policy(kt, policy).map_err(changed(&done, "setting the touch policy"))?;
            }
            done.push(format!("touch policy {} on every key", super::touch_name(policy)));
        }
        admin_card
            .reset_user_pin(SecretString::from(new_user.as_str()))
            .map_err(changed(&done, "setting the new user PIN"))?;
        done.push("new user PIN".to_string());
        tx.change_admin_pin(SecretString::from(admin.as_str()), SecretString::from(new_admin.as_str()))
            .map_err(changed(&done, "setting the new admin PIN"))?;
        done.push("new admin PIN".to_string());
    }
    let user_id = match &plan.email {
        Some(email) => format!("{} <{email}>", plan.name.trim()),
        None => plan.name.trim().to_string(),
    };
    let cert = cert::sign_on(&mut open, &card, &user_id, new_user, prompt).map_err(|e| CardError::SetupFailed {
        card: card.clone(),
        what: "making the certificate",
        why: e.to_string(),
        done: done.clone(),
    })?;
    Ok(Provisioned { cert, card, ident: info.ident, user_id, done })
}

/// `symbolon card pin change`: the current PIN (guarded), the new one twice.
pub fn change_pin(which: Which<'_>, pin: Pin, prompt: &mut dyn Prompt) -> Result<String, CardError> {
    let (mut open, info) = pick(which.ident)?;
    let card = info.describe();
    let (max_user, max_admin) = {
        let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
        let pw = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?;
        (usize::from(pw.pw1_max_len()), usize::from(pw.pw3_max_len()))
    };
    let (old, new) = match pin {
        Pin::User => {
            guard(&card, "user PIN", info.pin_retries.user, which.allow_last_try)?;
            let request = SecretRequest::UserPin {
                card: card.clone(),
                tries_left: info.pin_retries.user,
                purpose: Some("to change it"),
            };
            let old =
                ask_checked(prompt, &request, &card, "user PIN", |p| min_len(p, super::pin::MIN_LEN, "user PIN"))?;
            (old, ask_new(prompt, &card, NewPin::User, Some(max_user).filter(|&m| m >= super::pin::MIN_LEN))?)
        }
        Pin::Admin => {
            let old = ask_admin(prompt, &card, info.pin_retries.admin, which)?;
            (old, ask_new(prompt, &card, NewPin::Admin, Some(max_admin).filter(|&m| m >= MIN_ADMIN))?)
        }
    };
    open.forget.now();
    let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
    let _ = tx.invalidate_cache();
    let pw = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?;
    let (name, left) = match pin {
        Pin::User => ("user PIN", pw.err_count_pw1()),
        Pin::Admin => ("admin PIN", pw.err_count_pw3()),
    };
    guard(&card, name, left, which.allow_last_try)?;
    let (old, new) = (SecretString::from(old.as_str()), SecretString::from(new.as_str()));
    let result = match pin {
        Pin::User => tx.change_user_pin(old, new),
        Pin::Admin => tx.change_admin_pin(old, new),
    };
    if let Err(e) = result {
        return Err(wrong_or_failed(e, &mut tx, &card, name, "changing the PIN"));
    }
    Ok(card)
}

/// What a failed PIN operation means: a wrong PIN (with the tries left, read again where the
/// card does not say them: opcard answers 63 00), a blocked one, or another failure.
fn wrong_or_failed(
    e: openpgp_card::Error,
    tx: &mut openpgp_card::Card<Transaction<'_>>,
    card: &str,
    which: &'static str,
    what: &'static str,
) -> CardError {
    use openpgp_card::ocard::StatusBytes;
    let left = |tx: &mut openpgp_card::Card<Transaction<'_>>| {
        let _ = tx.invalidate_cache();
        tx.pw_status_bytes().ok().map(|pw| match which {
            "user PIN" => pw.err_count_pw1(),
            "reset code" => pw.err_count_rc(),
            _ => pw.err_count_pw3(),
        })
    };
    match e {
        openpgp_card::Error::CardStatus(StatusBytes::PasswordNotChecked(left)) => {
            CardError::WrongSecret { card: card.to_string(), which, left }
        }
        openpgp_card::Error::CardStatus(StatusBytes::AuthenticationMethodBlocked) => {
            CardError::SecretBlocked { card: card.to_string(), which }
        }
        openpgp_card::Error::CardStatus(
            StatusBytes::UnknownStatus(0x63, _) | StatusBytes::SecurityStatusNotSatisfied,
        ) => match left(tx) {
            Some(0) => CardError::SecretBlocked { card: card.to_string(), which },
            Some(left) => CardError::WrongSecret { card: card.to_string(), which, left },
            None => CardError::Card { card: card.to_string(), what, why: e.to_string() },
        },
        e => CardError::Card { card: card.to_string(), what, why: e.to_string() },
    }
}

/// `symbolon card pin unblock`: a new user PIN (twice), authorised by the admin PIN or the
/// reset code (guarded).
pub fn unblock(which: Which<'_>, with: Unblock, prompt: &mut dyn Prompt) -> Result<String, CardError> {
    let (mut open, info) = pick(which.ident)?;
    let card = info.describe();
    let max_user = {
        let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
        usize::from(tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?.pw1_max_len())
    };
    let (secret, name) = match with {
        Unblock::AdminPin => (ask_admin(prompt, &card, info.pin_retries.admin, which)?, "admin PIN"),
        Unblock::ResetCode => {
            if info.pin_retries.reset == 0 {
                return Err(CardError::SecretBlocked { card, which: "reset code (not set, or blocked)" });
            }
            guard(&card, "reset code", info.pin_retries.reset, which.allow_last_try)?;
            let request = SecretRequest::ResetCode { card: card.clone(), tries_left: info.pin_retries.reset };
            (ask_checked(prompt, &request, &card, "reset code", |p| min_len(p, MIN_ADMIN, "reset code"))?, "reset code")
        }
    };
    let new = ask_new(prompt, &card, NewPin::User, Some(max_user).filter(|&m| m >= super::pin::MIN_LEN))?;
    open.forget.now();
    let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
    let _ = tx.invalidate_cache();
    let pw = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?;
    let left = if with == Unblock::AdminPin { pw.err_count_pw3() } else { pw.err_count_rc() };
    guard(&card, name, left, which.allow_last_try)?;
    let new = SecretString::from(new.as_str());
    let result = match with {
        Unblock::AdminPin => match tx.verify_admin_pin(SecretString::from(secret.as_str())) {
            Ok(()) => tx
                .as_admin_card(None)
                .and_then(|mut admin| admin.reset_user_pin(new))
                .map_err(|e| CardError::Card { card: card.clone(), what: "setting the user PIN", why: e.to_string() }),
            Err(e) => Err(wrong_or_failed(e, &mut tx, &card, name, "verifying the admin PIN")),
        },
        Unblock::ResetCode => match tx.reset_user_pin(SecretString::from(secret.as_str()), new) {
            Ok(()) => Ok(()),
            Err(e) => Err(wrong_or_failed(e, &mut tx, &card, name, "setting the user PIN")),
        },
    };
    result.map(|()| card)
}

/// `symbolon card pin reset-code`: sets the reset code (twice), authorised by the admin PIN.
pub fn set_reset_code(which: Which<'_>, prompt: &mut dyn Prompt) -> Result<String, CardError> {
    let (mut open, info) = pick(which.ident)?;
    let card = info.describe();
    let max_rc = {
        let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
        usize::from(tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?.rc_max_len())
    };
    let admin = ask_admin(prompt, &card, info.pin_retries.admin, which)?;
    let code = ask_new(prompt, &card, NewPin::ResetCode, Some(max_rc).filter(|&m| m >= MIN_ADMIN))?;
    open.forget.now();
    let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
    let _ = tx.invalidate_cache();
    let left = tx.pw_status_bytes().map_err(failed(&card, "reading the PIN status"))?.err_count_pw3();
    guard(&card, "admin PIN", left, which.allow_last_try)?;
    if let Err(e) = tx.verify_admin_pin(SecretString::from(admin.as_str())) {
        return Err(wrong_or_failed(e, &mut tx, &card, "admin PIN", "verifying the admin PIN"));
    }
    tx.as_admin_card(None)
        .and_then(|mut admin_card| admin_card.set_resetting_code(SecretString::from(code.as_str())))
        .map_err(|e| CardError::Card { card: card.clone(), what: "setting the reset code", why: e.to_string() })?;
    Ok(card)
}

/// `symbolon card reset`: a factory reset, after the ident was typed back.
pub fn reset(which: Which<'_>, typed: Option<&str>, prompt: &mut dyn Prompt) -> Result<String, CardError> {
    let (mut open, info) = pick(which.ident)?;
    let card = info.describe();
    confirm_reset(prompt, &info, typed)?;
    open.forget.now();
    let mut tx = open.card.transaction().map_err(failed(&card, "opening a transaction"))?;
    let begun = || vec!["a factory reset was begun: its PINs may be blocked and its keys erased".to_string()];
    tx.factory_reset().map_err(|e| CardError::SetupFailed {
        card: card.clone(),
        what: "resetting the card",
        why: e.to_string(),
        done: begun(),
    })?;
    // Read back: the reset is reported only once the card shows no keys and full counters.
    let _ = tx.invalidate_cache();
    let erased = tx.fingerprints().map(|f| {
        [f.signature(), f.decryption(), f.authentication()].iter().all(|k| super::fingerprint_hex(*k).is_none())
    });
    let counters = tx.pw_status_bytes().map(|pw| (pw.err_count_pw1(), pw.err_count_pw3()));
    match (erased, counters) {
        (Ok(true), Ok((user, admin))) if user > 0 && admin > 0 => Ok(card),
        (erased, counters) => Err(CardError::SetupFailed {
            card: card.clone(),
            what: "reading the card back after the reset",
            why: format!("keys erased: {erased:?}, PIN tries (user, admin): {counters:?}"),
            done: vec!["reset to its factory state, as the card answered".to_string()],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardholder_names_are_iso_7501() {
        assert_eq!(cardholder_name("Bob Example"), "Example<<Bob");
        assert_eq!(cardholder_name("Mary Ann  Smith"), "Smith<<Mary<Ann");
        assert_eq!(cardholder_name("Cher"), "Cher");
        assert_eq!(cardholder_name("  "), "");
    }

    #[test]
    fn algorithm_and_touch_names() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
        }
        assert!("ed448".parse::<Algorithm>().is_err());
        assert_eq!("cached".parse::<Touch>().unwrap(), Touch::Cached);
    }

    /// New PINs: the default, a short one and two different entries are asked again; three
    /// failures end it with nothing written.
    #[test]
    fn new_pins_are_typed_twice_and_never_the_default() {
        let mut prompt = crate::prompt::Scripted::new(["123456", "654321", "654322", "654321", "654321"]);
        let pin = ask_new(&mut prompt, "card X", NewPin::User, Some(127)).unwrap();
        assert_eq!(pin.as_str(), "654321");
        assert_eq!(prompt.notices.len(), 2, "{prompt:?}");
        assert!(prompt.notices[0].contains("factory default"), "{prompt:?}");
        assert!(prompt.notices[1].contains("differ"), "{prompt:?}");
        let mut prompt = crate::prompt::Scripted::new(["12345", "1234567", "1234567"]);
        assert_eq!(ask_new(&mut prompt, "card X", NewPin::User, Some(127)).unwrap().as_str(), "1234567");
        assert!(prompt.notices[0].contains("at least 6"), "{prompt:?}");
        let mut prompt = crate::prompt::Scripted::new(["12345678", "23456789", "23456789"]);
        assert_eq!(ask_new(&mut prompt, "card X", NewPin::Admin, Some(127)).unwrap().as_str(), "23456789");
        assert!(prompt.notices[0].contains("That admin PIN is refused: it is the factory default"), "{prompt:?}");
        let mut prompt =
            crate::prompt::Scripted::new(["11112222", "11112223", "11112222", "11112223", "11112222", "x"]);
        let err = ask_new(&mut prompt, "card X", NewPin::Admin, None).unwrap_err();
        assert!(matches!(err, CardError::NewPinNotGiven { .. }), "{err}");
    }
}
