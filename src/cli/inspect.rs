//! `symbolon inspect`

use super::io;
use anyhow::Result;
use serde_json::json;
use symbolon::candidate::Piece;
use symbolon::shamir::Scheme;

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
    /// Print JSON (with a schema_version) instead of text.
    #[arg(long)]
    json: bool,
}

/// Version of the JSON printed by `inspect --json`.
const INSPECT_SCHEMA_VERSION: u32 = 1;

pub fn run(args: Args) -> Result<()> {
    let mut parsed = io::read_shares(&args.shares, false)?;
    parsed.extend(io::read_images(&args.from_images)?);
    parsed.extend(io::read_typed(&args.from_texts)?);
    let mut items = Vec::new();
    for candidate in parsed.into_iter().flat_map(|p| p.candidates) {
        let origin = candidate.origin;
        let item = match candidate.piece {
            Piece::Share(s) => {
                let set = &s.set;
                let x = s.point().map(|p| p.x).ok();
                json!({
                    "origin": origin,
                    "kind": "symbolon-share-v1",
                    "set_id": set.id.to_string(),
                    "set_id_short": set.id.short(),
                    "scheme": set.scheme.name(),
                    "index": s.index,
                    "x": x,
                    "threshold": set.threshold,
                    "share_count": set.count,
                    "target": set.target.name(),
                    "label": set.label.as_str(),
                    "created": symbolon::time::utc_timestamp(set.created),
                    "secret_length": set.secret_len,
                    "set_commitment": hex::encode(set.commitment),
                    "share_commitment": hex::encode(s.commitment()),
                })
            }
            Piece::Encrypted { message, target } => {
                let recipients = symbolon::openpgp::decrypt::recipients(&message)
                    .map(|r| r.iter().map(|h| h.to_string()).collect::<Vec<_>>())
                    .unwrap_or_default();
                json!({
                    "origin": origin,
                    "kind": "openpgp-encrypted",
                    "recipients": recipients,
                    "target": target.map(|t| t.name()),
                })
            }
            Piece::VaultKey { bytes, target } => {
                let x = Scheme::Vault.parse_share_bytes(bytes.expose(), false).map(|p| p.x).ok();
                json!({
                    "origin": origin,
                    "kind": "vault-key",
                    "length": bytes.len(),
                    "x_if_share": x,
                    "target": target.map(|t| t.name()),
                })
            }
        };
        items.push(item);
    }
    if args.json {
        let doc = json!({ "schema_version": INSPECT_SCHEMA_VERSION, "shares": items });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    for item in &items {
        let field = |k: &str| item.get(k).map_or(String::new(), |v| v.as_str().map_or(v.to_string(), str::to_string));
        println!("{}:", field("origin"));
        if field("kind") == "openpgp-encrypted" {
            let recipients: Vec<String> = item["recipients"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            println!("  OpenPGP-encrypted share, for: {}", recipients.join(", "));
            println!("  Decrypt it with `symbolon decrypt` to see which set and share it is.");
        } else if field("kind") == "vault-key" {
            println!(
                "  Vault key, {} bytes (if it is one share of a larger set: x = {}, secret of {} bytes; if the set is 1-of-1: the secret itself)",
                field("length"),
                field("x_if_share"),
                item["length"].as_u64().unwrap_or(1).saturating_sub(1)
            );
            if let Some(t) = item["target"].as_str() {
                println!("  target: {t}");
            }
            println!("  A bare Vault key carries no set id, threshold or label.");
        } else {
            println!("  set {}  ({})", field("set_id_short"), field("set_id"));
            println!(
                "  share {} of {}, any {} recover the secret",
                field("index"),
                field("share_count"),
                field("threshold")
            );
            println!("  scheme {}, x = {}", field("scheme"), field("x"));
            println!("  target {}, label \"{}\"", field("target"), field("label"));
            println!("  created {}, secret length {} bytes", field("created"), field("secret_length"));
            println!("  share commitment {}", field("share_commitment"));
        }
    }
    Ok(())
}
