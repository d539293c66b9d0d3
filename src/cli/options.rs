//! Options shared by the commands that handle secrets: the air-gap check and card use.

use anyhow::{Result, bail};
use symbolon::card::decrypt::{Cards, Options};
use symbolon::hygiene::{self, AirGap, AirGapPolicy, AirGapRefused};
use symbolon::manifest::Manifest;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Airgap {
    /// Refuse to run unless no network interface (other than loopback) is up. Where symbolon
    /// cannot look (no /sys), it refuses too.
    #[arg(long)]
    require_airgap: bool,
    /// With --require-airgap, where symbolon cannot tell whether an interface is up: you checked
    /// by hand that none is (`ip link`). An interface symbolon sees up still refuses.
    #[arg(long, requires = "require_airgap")]
    airgap_checked_by_hand: bool,
}

impl Airgap {
    /// Warns, or with --require-airgap refuses, when a network interface is up or when that
    /// cannot be told.
    pub fn check(&self) -> Result<()> {
        let policy = match (self.require_airgap, self.airgap_checked_by_hand) {
            (false, _) => AirGapPolicy::Warn,
            (true, false) => AirGapPolicy::Require,
            (true, true) => AirGapPolicy::RequireCheckedByHand,
        };
        match hygiene::enforce_air_gap(policy) {
            Ok(AirGap::Offline) => {}
            Ok(AirGap::Up(up)) => tell!(
                "warning: network interfaces are up ({}): a ceremony machine should be offline (`symbolon doctor` checks; --require-airgap refuses)",
                up.join(", ")
            ),
            Ok(AirGap::CannotTell(e)) if policy == AirGapPolicy::RequireCheckedByHand => tell!(
                "note: symbolon could not check the air gap ({e}); you said you checked it by hand (--airgap-checked-by-hand)"
            ),
            Ok(AirGap::CannotTell(e)) => tell!(
                "warning: symbolon cannot tell whether a network interface is up: {e}. To check: {} (--require-airgap refuses until it can tell)",
                e.fix
            ),
            Err(AirGapRefused::Up(up)) => bail!(
                "network interfaces are up ({}) and --require-airgap was given: take them down (ip link set DEV down) or disconnect the hardware, then run this again",
                up.join(", ")
            ),
            Err(AirGapRefused::CannotTell(e)) => bail!(
                "--require-airgap was given, but symbolon cannot tell whether a network interface is up: {e}. Mount /sys (mount -t sysfs sysfs /sys) and run this again, or check by hand that every interface but loopback is down (ip link) and add --airgap-checked-by-hand"
            ),
        }
        Ok(())
    }
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct CardArgs {
    /// Allow spending a card's LAST PIN try (a wrong PIN then blocks the card).
    #[arg(long)]
    allow_last_pin_try: bool,
}

impl CardArgs {
    /// The inserted cards as a key source, with the custodians named by the manifest.
    pub fn cards(&self, manifest: Option<&Manifest>) -> Cards {
        Cards::new(self.options(manifest))
    }

    /// How to use the cards, with the custodians named by the manifest.
    pub fn options(&self, manifest: Option<&Manifest>) -> Options {
        Options::new(self.allow_last_pin_try, manifest)
    }
}
