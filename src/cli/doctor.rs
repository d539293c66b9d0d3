//! `symbolon doctor`: prints the library's findings ([`symbolon::doctor`]), with the CLI's own
//! flags added to the air-gap advice.

use anyhow::{Result, bail};
use symbolon::doctor::{self, Finding, Level, Topic};
use symbolon::hygiene::Hardening;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, hardening: &Hardening) -> Result<()> {
    let findings = doctor::examine(hardening);
    for finding in &findings.0 {
        print(finding);
    }
    match findings.problems() {
        0 => Ok(()),
        n => bail!("{n} problem(s) found: fix each PROBLEM above before the ceremony"),
    }
}

fn print(f: &Finding) {
    let level = match f.level {
        Level::Ok => "ok",
        Level::Info => "info",
        Level::Warning => "WARNING",
        Level::Problem => "PROBLEM",
    };
    show!("{level:<8} {}: {}", f.topic.name(), f.detail);
    let Some(fix) = &f.fix else { return };
    let flags = match (f.topic, f.level) {
        (Topic::AirGap, Level::Warning) => "; ceremony commands refuse with --require-airgap",
        (Topic::AirGap, Level::Problem) => {
            "; until then --require-airgap refuses (after a check by hand, add --airgap-checked-by-hand)"
        }
        _ => "",
    };
    show!("         -> {fix}{flags}");
}
