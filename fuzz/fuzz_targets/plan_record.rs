//! The staged ceremony's plan record (plan.json): what is read is this nonce's record in this
//! version's schema, is written back to the same record, and its check against the digests taken
//! at `init` never panics (an edited part is refused with its name).
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
    if record.plan.check(&record.digests, &record.plan_hash).is_ok() {
        assert_eq!(record.plan.hash(), record.plan_hash, "a record that checks has the hash confirmed");
    }
    let _ = record.plan.old_manifest();
    let _ = record.plan.render();
    for custodian in &record.plan.custodians {
        let _ = custodian.custodian();
    }
});
