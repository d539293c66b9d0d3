//! `symbolon inspect`

use super::io;
use anyhow::Result;
use symbolon::inspection::{self, Description, Inspection};
use symbolon::sanitize;

#[derive(clap::Args)]
pub struct Args {
    /// Shares: files or key text, as for combine.
    #[arg(value_name = "SHARE", required_unless_present_any = ["from_images", "from_texts"])]
    shares: Vec<String>,
    /// Shares in photographs or scans of their QR codes (PNG, JPEG).
    #[arg(long = "from-image", value_name = "IMAGE")]
    from_images: Vec<std::path::PathBuf>,
    /// Shares typed back from their paper sheets (the numbered text lines).
    #[arg(long = "from-text", value_name = "FILE")]
    from_texts: Vec<std::path::PathBuf>,
    /// The set's manifest.json: names the set, index and custodian of encrypted shares (by the keys
    /// they are encrypted to).
    #[arg(long, value_name = "FILE")]
    manifest: Option<std::path::PathBuf>,
    /// Print JSON (with a schema_version) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let mut parsed = io::read_shares(&args.shares, false)?;
    parsed.extend(io::read_images(&args.from_images)?);
    parsed.extend(io::read_typed(&args.from_texts)?);
    let manifest = args.manifest.as_deref().map(io::read_manifest).transpose()?;
    let shares: Vec<Description> =
        parsed.into_iter().flat_map(|p| p.candidates).map(|c| inspection::describe(c, manifest.as_ref())).collect();
    if args.json {
        let doc = Inspection { schema_version: inspection::SCHEMA_VERSION, shares };
        show!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    for item in &shares {
        render(item);
    }
    Ok(())
}

/// The text form, from the same description as the JSON. Origins and labels come from outside:
/// escaped.
fn render(item: &Description) {
    let opt = |v: Option<u8>| v.map_or("unknown".to_string(), |v| v.to_string());
    match item {
        Description::Encrypted { origin, recipients, manifest, .. } => {
            show!("{}:", sanitize(origin));
            show!("  OpenPGP-encrypted share, for: {}", recipients.join(", "));
            match manifest {
                Some(m) => show!(
                    "  per the manifest: share {} of {} (any {} recover the secret) of set {}, custodian {}; decrypt it to check it against its commitment",
                    m.index,
                    m.share_count,
                    m.threshold,
                    m.set_id_short,
                    m.custodian.as_deref().map_or("unnamed".into(), sanitize)
                ),
                None => show!(
                    "  Decrypt it with `symbolon decrypt` (or give the set's manifest with --manifest) to see which set and share it is."
                ),
            }
        }
        Description::VaultKey { origin, length, x_if_share, target } => {
            show!("{}:", sanitize(origin));
            show!(
                "  Vault key, {length} bytes (if it is one share of a larger set: x = {}, secret of {} bytes; if the set is 1-of-1: the secret itself)",
                opt(*x_if_share),
                length.saturating_sub(1)
            );
            if let Some(t) = target {
                show!("  target: {t}");
            }
            show!("  A bare Vault key carries no set id, threshold or label.");
        }
        Description::Share {
            origin,
            set_id,
            set_id_short,
            scheme,
            index,
            x,
            threshold,
            share_count,
            target,
            label,
            created,
            secret_length,
            share_commitment,
            ..
        } => {
            show!("{}:", sanitize(origin));
            show!("  set {set_id_short}  ({set_id})");
            show!("  share {index} of {share_count}, any {threshold} recover the secret");
            show!("  scheme {scheme}, x = {}", opt(*x));
            show!("  target {target}, label \"{}\"", sanitize(label));
            show!("  created {created}, secret length {secret_length} bytes");
            show!("  share commitment {share_commitment}");
        }
    }
}
