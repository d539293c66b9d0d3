//! The `symbolon` command: parses arguments, prompts and prints. All logic is in the library.

#![forbid(unsafe_code)]

mod cli;

/// Every block freed is wiped first: secrets also pass through other crates' buffers.
#[global_allocator]
static ALLOCATOR: symbolon::wipe::WipeOnFree = symbolon::wipe::WipeOnFree;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
