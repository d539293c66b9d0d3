//! The staged ceremony's plan record (plan.json): what is read is this nonce's record in this
//! version's schema, is written back to the same record, always agrees with its own digests,
//! an edited part is refused with symbolon's own name for it, and the plan's hash (what a
//! custodian types back) covers this nonce.
#![no_main]
use libfuzzer_sys::fuzz_target;
use symbolon::ceremony;

const NONCE: &str = "00112233445566778899aabbccddeeff";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(record) = ceremony::parse_plan(NONCE, text) else { return };
    assert_eq!(record.nonce, NONCE);
    let json = serde_json::to_string_pretty(&record).expect("a record serializes");
    assert_eq!(ceremony::parse_plan(NONCE, &json).expect("a written record parses"), record);
    // A plan always agrees with its own digests and hash (its serialization is canonical).
    let hash = record.plan.hash();
    assert!(record.plan.check(&record.plan.digests(), &hash.to_string()).is_ok());
    // The hash as shown is the hash a person types back, and it names this nonce's plan only.
    assert!(hash.matches(&hash.to_string()));
    assert_eq!(record.plan.nonce.as_deref(), Some(NONCE));
    // An edited part is named by symbolon's own name for it, never by text from the file.
    if let Err(symbolon::rekey_plan::PlanError::Changed { part }) =
        record.plan.check(&record.digests, &record.plan_hash)
    {
        let ours = record.plan.digests();
        assert!(
            part == "list of new custodians" || part == "hash" || ours.iter().any(|d| d.part == part),
            "the part named, {part:?}, is not one of the plan's"
        );
    }
    let _ = record.plan.old_manifest();
    let _ = record.plan.render();
    for custodian in &record.plan.custodians {
        let _ = custodian.custodian();
    }
});
