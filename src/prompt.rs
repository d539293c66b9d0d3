//! The one way the library asks a person for something: a trait the caller implements. The CLI
//! answers from the terminal (or pinentry); tests answer from a script. The library never reads
//! a terminal, and secrets are never read from the data stdin.

use zeroize::Zeroizing;

/// Why a prompt got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("no terminal to ask on, and no pinentry: run symbolon from a terminal (secrets are never read from stdin)")]
    NoTerminal,
    #[error("cancelled")]
    Cancelled,
    #[error("the terminal could not be used: {0}")]
    Terminal(#[source] std::io::Error),
    #[error(
        "the pinentry program {program} (SYMBOLON_PINENTRY) could not be started: {source} (secrets are never read from stdin)"
    )]
    PinentryNotStarted {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("pinentry failed: {0}")]
    Pinentry(#[source] std::io::Error),
    #[error("waiting for a card failed: {0}")]
    Waiting(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("pinentry closed the connection")]
    PinentryClosed,
}

/// What a secret prompt asks for: the prompt shows it as it should (a PIN pad-style "PIN:" or a
/// "Passphrase:"), without reading it out of a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRequest {
    /// A card's user PIN (PW1). `purpose` says what for, e.g. "to sign the certificate".
    UserPin { card: String, tries_left: u8, purpose: Option<&'static str> },
    /// A card's admin PIN (PW3).
    AdminPin { card: String, tries_left: u8 },
    /// The passphrase of a secret key in a file, e.g. "the secret key 0123...ABCD (Alice)".
    Passphrase { key: String },
    /// A card's reset code (it unblocks the user PIN).
    ResetCode { card: String, tries_left: u8 },
    /// A new PIN (or reset code) for a card; `again`: the second entry, to confirm it.
    New { card: String, what: NewPin, again: bool },
}

/// Which secret of a card is being set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPin {
    User,
    Admin,
    ResetCode,
}

impl NewPin {
    pub fn name(self) -> &'static str {
        match self {
            NewPin::User => "user PIN",
            NewPin::Admin => "admin PIN",
            NewPin::ResetCode => "reset code",
        }
    }
}

impl SecretRequest {
    pub fn is_pin(&self) -> bool {
        !matches!(self, SecretRequest::Passphrase { .. })
    }

    /// "the user PIN of card X (3 tries left)", as a person reads it.
    pub fn describe(&self) -> String {
        let tries = |left: u8| {
            if left == 1 {
                "1 try left: a wrong PIN now BLOCKS the card".to_string()
            } else {
                crate::wording::tries_left(left)
            }
        };
        match self {
            SecretRequest::UserPin { card, tries_left, purpose } => format!(
                "the user PIN of {card} ({}){}",
                tries(*tries_left),
                purpose.map_or(String::new(), |p| format!(", {p}"))
            ),
            SecretRequest::AdminPin { card, tries_left } => format!("the admin PIN of {card} ({})", tries(*tries_left)),
            SecretRequest::Passphrase { key } => key.clone(),
            SecretRequest::ResetCode { card, tries_left } => {
                format!("the reset code of {card} ({})", tries(*tries_left))
            }
            SecretRequest::New { card, what, again } => format!(
                "the new {} for {card}{}",
                what.name(),
                if *again { ", again to confirm it" } else { " (not the factory default)" }
            ),
        }
    }
}

/// A question with a yes or no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// The operator confirms a plan by typing its hash back; `action` is what follows, e.g.
    /// "start the ceremony".
    PlanHash { hash: crate::rekey_plan::PlanHash, action: String },
    /// A card was not the right one, or not there: retry once it is inserted (yes) or skip (no).
    RetryOrSkip { what: String },
    /// Before a card is reset: its ident typed back; `action` says what follows.
    TypeIdent { ident: String, action: String },
}

/// Something that blocks until the cards change (a card inserted or pulled, a reader plugged
/// in); the prompt runs it while a person is asked to insert a card.
pub trait Waiter {
    /// Blocks until the cards change (`Ok(true)`) or the wait is cancelled (`Ok(false)`).
    fn wait(&self) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>;

    /// A function that cancels a [`wait`](Waiter::wait) running in another thread.
    fn canceller(&self) -> Box<dyn Fn() + Send + Sync>;
}

/// A card to be inserted: `card` says whose (e.g. "the card for share 2, custodian bob (per the
/// manifest)"), `ask` what the person is to do ("insert it"), `skip` what going on without it
/// means, where that is possible ("go on without it (another share stands in for it)").
/// `again`: this very wait was announced before (the cards changed, but not to this one).
pub struct CardWait<'a> {
    pub card: String,
    pub ask: &'static str,
    pub skip: Option<&'static str>,
    pub again: bool,
    pub waiter: &'a dyn Waiter,
}

/// How a wait for a card ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The cards changed: look again.
    Changed,
    /// The person chose to go on without this card.
    Skip,
}

/// Asks a person.
pub trait Prompt {
    /// Asks for a secret (a passphrase or a PIN).
    fn secret(&mut self, request: &SecretRequest) -> Result<Zeroizing<String>, PromptError>;

    /// Asks a question; `Ok(true)` is the answer that goes on (the hash typed right, retry).
    fn confirm(&mut self, question: &Question) -> Result<bool, PromptError>;

    /// Tells the person something that needs no answer (e.g. "touch your token").
    fn notice(&mut self, message: &str);

    /// Asks for one line of text, shown as it is typed (e.g. a line of a share typed from paper).
    /// An empty line ends a list.
    fn line(&mut self, prompt: &str) -> Result<Zeroizing<String>, PromptError>;

    /// Asks for a card to be inserted and waits for the cards to change, or for the person to
    /// skip it. Where nobody can be asked, a card that can be skipped is skipped at once, and
    /// one that cannot is waited for.
    fn wait_for_card(&mut self, wait: &CardWait<'_>) -> Result<Waited, PromptError> {
        wait_unattended(self, wait)
    }
}

/// [`Prompt::wait_for_card`] where nobody can answer: a card that can be skipped is skipped at
/// once; one that cannot is waited for (`--no-wait` is how a script says not to).
pub fn wait_unattended<P: Prompt + ?Sized>(prompt: &mut P, wait: &CardWait<'_>) -> Result<Waited, PromptError> {
    if wait.skip.is_some() {
        return Ok(Waited::Skip);
    }
    if !wait.again {
        prompt.notice(&format!("Waiting for {}: {}.", wait.card, wait.ask));
    }
    match wait.waiter.wait().map_err(PromptError::Waiting)? {
        true => Ok(Waited::Changed),
        false => Err(PromptError::Cancelled),
    }
}

/// A prompt that answers from a fixed list, for tests and for `--batch` (an empty list: every
/// question is an error). Its `Debug` shows how many answers are left, never the answers.
#[derive(Default)]
pub struct Scripted {
    answers: std::collections::VecDeque<Zeroizing<String>>,
    /// Every secret request and question asked (as described), and every line prompt, in order.
    pub asked: Vec<String>,
    /// Every notice shown, in order.
    pub notices: Vec<String>,
}

impl Scripted {
    pub fn new<S: Into<String>>(answers: impl IntoIterator<Item = S>) -> Self {
        Scripted { answers: answers.into_iter().map(|a| Zeroizing::new(a.into())).collect(), ..Scripted::default() }
    }
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted")
            .field("answers_left", &self.answers.len())
            .field("asked", &self.asked)
            .field("notices", &self.notices)
            .finish()
    }
}

impl Prompt for Scripted {
    fn secret(&mut self, request: &SecretRequest) -> Result<Zeroizing<String>, PromptError> {
        self.asked.push(request.describe());
        self.answers.pop_front().ok_or(PromptError::NoTerminal)
    }

    /// A plan is confirmed by an answer equal to its hash; a retry by an empty answer.
    fn confirm(&mut self, question: &Question) -> Result<bool, PromptError> {
        self.asked.push(format!("{question:?}"));
        let answer = self.answers.pop_front().ok_or(PromptError::NoTerminal)?;
        Ok(match question {
            Question::PlanHash { hash, .. } => hash.matches(&answer),
            Question::RetryOrSkip { .. } => answer.trim().is_empty(),
            Question::TypeIdent { ident, .. } => answer.trim().eq_ignore_ascii_case(ident),
        })
    }

    fn notice(&mut self, message: &str) {
        self.notices.push(message.to_string());
    }

    fn line(&mut self, prompt: &str) -> Result<Zeroizing<String>, PromptError> {
        self.asked.push(prompt.to_string());
        self.answers.pop_front().ok_or(PromptError::NoTerminal)
    }

    /// "skip" skips the card; any other answer says it was inserted (no card is waited for).
    fn wait_for_card(&mut self, wait: &CardWait<'_>) -> Result<Waited, PromptError> {
        self.asked.push(format!("WaitForCard {}", wait.card));
        let answer = self.answers.pop_front().ok_or(PromptError::NoTerminal)?;
        Ok(if answer.trim() == "skip" { Waited::Skip } else { Waited::Changed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_described_by_their_kind() {
        let pin = |left| SecretRequest::UserPin { card: "card 0000:1234ABCD".into(), tries_left: left, purpose: None };
        assert_eq!(pin(3).describe(), "the user PIN of card 0000:1234ABCD (3 tries left)");
        assert_eq!(
            pin(1).describe(),
            "the user PIN of card 0000:1234ABCD (1 try left: a wrong PIN now BLOCKS the card)"
        );
        let signing =
            SecretRequest::UserPin { card: "c".into(), tries_left: 2, purpose: Some("to sign the certificate") };
        assert_eq!(signing.describe(), "the user PIN of c (2 tries left), to sign the certificate");
        assert_eq!(
            SecretRequest::AdminPin { card: "c".into(), tries_left: 3 }.describe(),
            "the admin PIN of c (3 tries left)"
        );
        let passphrase = SecretRequest::Passphrase { key: "the secret key ABCD (Alice)".into() };
        assert!(pin(3).is_pin() && !passphrase.is_pin());
    }

    #[test]
    fn the_scripted_prompt_answers_questions() {
        let hash = crate::rekey_plan::PlanHash::parse("0123456789abcdef0123456789abcdef").unwrap();
        let plan = Question::PlanHash { hash, action: "proceed".into() };
        let retry = Question::RetryOrSkip { what: "Insert the right card".into() };
        let mut p = Scripted::new(["0123 4567 89ab cdef 0123 4567 89ab cdef", "0123456789abcdef", "", "skip"]);
        assert_eq!(
            [
                p.confirm(&plan).unwrap(),
                p.confirm(&plan).unwrap(),
                p.confirm(&retry).unwrap(),
                p.confirm(&retry).unwrap()
            ],
            [true, false, true, false]
        );
        assert!(matches!(p.confirm(&retry), Err(PromptError::NoTerminal)));
        assert_eq!(p.asked.len(), 5);
    }
}
