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
    #[error("the prompt failed: {0}")]
    Failed(String),
}

/// Asks a person.
pub trait Prompt {
    /// Asks for a secret (a passphrase or a PIN). `description` says what it unlocks, e.g.
    /// "the secret key 0123...ABCD (Alice <alice@example.org>)".
    fn secret(&mut self, description: &str) -> Result<Zeroizing<String>, PromptError>;

    /// Tells the person something that needs no answer (e.g. "touch your token").
    fn notice(&mut self, message: &str);

    /// Asks for one line of text, shown as it is typed (e.g. a line of a share typed from paper).
    /// An empty line ends a list.
    fn line(&mut self, prompt: &str) -> Result<Zeroizing<String>, PromptError>;
}

/// A prompt that answers from a fixed list, for tests and for `--batch` (an empty list: every
/// question is an error). Its `Debug` shows how many answers are left, never the answers.
#[derive(Default)]
pub struct Scripted {
    answers: std::collections::VecDeque<Zeroizing<String>>,
    /// Every description asked, in order.
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
    fn secret(&mut self, description: &str) -> Result<Zeroizing<String>, PromptError> {
        self.asked.push(description.to_string());
        self.answers.pop_front().ok_or(PromptError::NoTerminal)
    }

    fn notice(&mut self, message: &str) {
        self.notices.push(message.to_string());
    }

    fn line(&mut self, prompt: &str) -> Result<Zeroizing<String>, PromptError> {
        self.asked.push(prompt.to_string());
        self.answers.pop_front().ok_or(PromptError::NoTerminal)
    }
}
