//! The `symbolon` command: parses arguments, prompts and prints. All logic is in the library.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
