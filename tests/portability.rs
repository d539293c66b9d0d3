//! The static binary on the systems a ceremony runs on, each with its own pcscd: Debian 12
//! (pcsc-lite 1.9.9, protocol 4:4), Debian 13, the base of Tails 7 (2.3.3, accepts only 4:5) and
//! sid (2.5.x, accepts both). `scripts/test` builds a minimal chroot per suite
//! (`scripts/lib/portability.sh`), starts its pcscd with that suite's vpcd and passes them in
//! `SYMBOLON_CHROOTS`; the binary is `SYMBOLON_BIN`, copied into each.
//!
//! In each system: `card list`, `card cert` of two virtual cards (their keys generated once, on
//! the host's stack, and kept in the cards' state), a split to the two certificates, `decrypt
//! --check` on a card, `combine` on the cards, `doctor`; the air-gap and swap checks where /sys and
//! /proc are missing (the chroot as it is) and where they are mounted (a private mount namespace,
//! with and without a network of its own); and on Debian 13 the same as Tails' user `amnesia`
//! (uid 1000, memory-lock limit 8 MiB).
//!
//! Ignored by plain `cargo test` (it needs the chroots): `scripts/test` runs it with `--ignored`.

#[path = "common/cards.rs"]
mod cards;
mod common;
#[path = "common/gpg.rs"]
mod gpg;

use common::{Run, assert_snapshot, redact_fingerprints};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One chroot and its running pcscd.
struct System {
    suite: String,
    root: PathBuf,
    /// The first of its two vpcd ports.
    port: u16,
}

fn systems() -> Vec<System> {
    let spec = std::env::var("SYMBOLON_CHROOTS").expect(
        "SYMBOLON_CHROOTS is not set: the portability test runs through ./scripts/test, which builds the chroots",
    );
    spec.split_whitespace()
        .map(|item| {
            let mut parts = item.splitn(3, ':');
            let (suite, root, port) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            System { suite: suite.into(), root: root.into(), port: port.parse().unwrap() }
        })
        .collect()
}

/// How a command is run in a system.
#[derive(Clone, Copy, PartialEq)]
enum Mounts {
    /// The chroot as it is: no /proc, no /sys.
    None,
    /// /proc and /sys mounted, in a private mount namespace (gone when the command ends).
    ProcSys,
    /// The same in a network namespace of its own (loopback only, down).
    ProcSysOffline,
}

#[derive(Clone, Copy)]
enum User {
    Root,
    /// Tails' user: uid 1000, memory-lock limit 8 MiB.
    Amnesia,
}

impl System {
    /// Runs the static symbolon in the system, in `cwd` (a path inside it), with the test
    /// pinentry answering the user PIN.
    fn run(&self, user: User, mounts: Mounts, cwd: &str, args: &[&str]) -> Run {
        self.run_env(user, mounts, cwd, &[], args)
    }

    /// [`System::run`] with extra `NAME=value` environment variables.
    fn run_env(&self, user: User, mounts: Mounts, cwd: &str, env: &[&str], args: &[&str]) -> Run {
        let mut cmd = Command::new("unshare");
        cmd.arg("--mount");
        if mounts == Mounts::ProcSysOffline {
            cmd.arg("--net");
        }
        let mount = match mounts {
            Mounts::None => "",
            _ => r#"mount -t proc proc "$ROOT/proc" && mount -t sysfs sysfs "$ROOT/sys" && "#,
        };
        cmd.args(["--", "sh", "-c", &format!("{mount}exec \"$@\""), "sh"]);
        if let User::Amnesia = user {
            cmd.args(["prlimit", "--memlock=8388608:8388608", "--"]);
        }
        cmd.arg("chroot");
        let home = match user {
            User::Root => "/root",
            User::Amnesia => {
                cmd.arg("--userspec=1000:1000");
                "/home/amnesia"
            }
        };
        cmd.arg(&self.root).args(["/usr/bin/env", "-i", "-C", cwd]);
        cmd.args([
            "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            &format!("HOME={home}"),
            "SYMBOLON_PINENTRY=/usr/local/bin/pinentry-card",
        ]);
        cmd.args(env).arg("/usr/local/bin/symbolon");
        let out = cmd.args(args).env("ROOT", &self.root).stdin(Stdio::null()).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A new working directory inside the system for `user`: (its path inside, its path outside).
    fn workdir(&self, user: User, tag: &str) -> (String, PathBuf) {
        let inside = match user {
            User::Root => format!("/tmp/symbolon-portability-{tag}"),
            User::Amnesia => format!("/home/amnesia/symbolon-portability-{tag}"),
        };
        let outside = self.root.join(inside.trim_start_matches('/'));
        let _ = std::fs::remove_dir_all(&outside);
        std::fs::create_dir_all(&outside).unwrap();
        if let User::Amnesia = user {
            chown_amnesia(&outside);
        }
        (inside, outside)
    }
}

fn chown_amnesia(path: &Path) {
    let ok = Command::new("chown").args(["-R", "1000:1000"]).arg(path).status().unwrap().success();
    assert!(ok, "chown {}", path.display());
}

fn ok(run: &Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what}: exit code; stderr:\n{}\nstdout:\n{}", run.stderr, run.stdout_text());
    run.stdout_text()
}

/// A virtual card whose state (keys, PINs, counters) lives in a directory, so that it can be
/// generated on the host's pcscd and then inserted into each system's reader.
struct PersistentCard {
    state: PathBuf,
    serial: String,
    decryption_fpr: String,
}

impl PersistentCard {
    /// A fresh card, its keys generated on the host's pcscd (slot `slot`), then pulled out.
    fn generate(state: PathBuf, slot: usize, algo: cards::Algo) -> PersistentCard {
        let state_arg = state.to_str().unwrap().to_string();
        let card = cards::VirtualCard::insert(slot, &["--state", &state_arg]);
        let decryption_fpr = card.generate(algo);
        let serial = card.ident.trim_start_matches("0000:").to_string();
        drop(card);
        PersistentCard { state, serial, decryption_fpr }
    }

    /// Inserts a copy of the card (its state copied to `copy`) into vpcd port `port`.
    fn insert_copy(&self, copy: &Path, port: u16) -> Inserted {
        let ok = Command::new("cp").arg("-a").arg(&self.state).arg(copy).status().unwrap().success();
        assert!(ok, "copying the card state");
        let bin = std::env::var("SYMBOLON_VCARD").expect("SYMBOLON_VCARD is set by scripts/test");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--serial", &self.serial, "--state"])
            .arg(copy)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Inserted(child)
    }

    fn ident(&self) -> String {
        format!("0000:{}", self.serial.to_ascii_uppercase())
    }
}

/// A card process; dropping it pulls the card out.
struct Inserted(Child);

impl Drop for Inserted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the system's pcscd shows every card in `idents` (through the static binary).
fn wait_for_cards(sys: &System, cwd: &str, idents: &[String]) {
    let start = Instant::now();
    loop {
        let run = sys.run(User::Root, Mounts::None, cwd, &["card", "list", "--json"]);
        let text = run.stdout_text();
        if run.code == 0 && idents.iter().all(|i| text.contains(&format!("\"{i}\""))) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}: the cards {idents:?} did not appear; last card list:\n{text}\n{}",
            sys.suite,
            run.stderr
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What the daemon of each suite answers (doctor's pcscd line, after "speaks protocol").
fn expected_protocol(suite: &str) -> &'static str {
    match suite {
        "bookworm" => "4:4 (pcsc-lite 2.2.3 or older); protocol 4:4 in use",
        "trixie" => "4:5 (pcsc-lite 2.3.0 to 2.4.0, which accepts only 4:5); protocol 4:5 in use",
        // pcsc-lite 2.5 speaks 4:6 and still accepts 4:4.
        "sid" => "4:6 (pcsc-lite 2.4.1 or later, which also accepts 4:4); protocol 4:4 in use",
        other => panic!("no expectation for suite {other}"),
    }
}

/// Interfaces up on this machine, as the kernel says (the host has /sys).
fn host_interfaces_up() -> Vec<String> {
    match symbolon::hygiene::air_gap() {
        symbolon::hygiene::AirGap::Offline => Vec::new(),
        symbolon::hygiene::AirGap::Up(up) => up,
        symbolon::hygiene::AirGap::CannotTell(e) => panic!("the host's air gap cannot be told: {e}"),
    }
}

#[test]
#[ignore = "needs the chroots and pcscds of scripts/test, which runs it with --ignored"]
fn the_static_binary_reaches_cards_through_every_suites_pcscd() {
    let bin = std::env::var("SYMBOLON_BIN").expect("SYMBOLON_BIN: the static binary");
    let systems = systems();
    assert!(!systems.is_empty(), "SYMBOLON_CHROOTS names no system");
    let scratch = common::TempDir::new("portability");
    // Two cards, keys generated on the host's pcscd once; each system gets fresh copies.
    let (alice, bob) = {
        let _cards = cards::exclusive();
        (
            PersistentCard::generate(scratch.join("alice-card"), 0, cards::Algo::Cv25519),
            PersistentCard::generate(scratch.join("bob-card"), 1, cards::Algo::Rsa2048),
        )
    };
    for sys in &systems {
        install(sys, &bin);
        let report = in_system(sys, &alice, &bob, &scratch);
        eprintln!("{report}");
    }
}

/// Copies the binary and the test pinentry into the system.
fn install(sys: &System, bin: &str) {
    let local = sys.root.join("usr/local/bin");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::copy(bin, local.join("symbolon")).unwrap();
    std::fs::copy(cards::pinentry(), local.join("pinentry-card")).unwrap();
}

/// doctor's lines whose content is a fact of the machine the test runs on where /sys and /proc are
/// mounted (swap, memory lock as root, USB, the host's interfaces): replaced in snapshots, checked
/// on their own where it matters.
const MACHINE_LINES: &[&str] = &["memory lock: ", "swap: ", "USB access: ", "air gap: "];

/// `text` with what differs between runs and machines replaced: the cards' serials, the set's id,
/// fingerprints and key IDs, the filesystem under the chroot, the machine's own doctor lines, and
/// the start-up warnings that depend on the machine (memory that root may lock elsewhere, the
/// host's interfaces).
fn normalize(text: &str, alice: &PersistentCard, bob: &PersistentCard, set_dir: Option<&Path>) -> String {
    let mut kept = Vec::new();
    let mut skip_advice = false;
    for line in text.lines() {
        if skip_advice && line.starts_with("         -> ") {
            continue;
        }
        skip_advice = false;
        if line.starts_with("warning: memory is not locked") || line.starts_with("warning: network interfaces are up (")
        {
            continue;
        }
        let machine = MACHINE_LINES.iter().find(|m| line.get(9..).is_some_and(|rest| rest.starts_with(*m)));
        match machine {
            // "cannot tell" lines are the point of the no-/sys, no-/proc runs: kept, except memory
            // lock's, which depends on whether root may lock memory on this machine.
            Some(what) if *what == "memory lock: " || !line.contains("cannot tell") => {
                kept.push(format!("<{what}as on this machine>"));
                skip_advice = true;
            }
            _ => kept.push(line.to_string()),
        }
    }
    let mut text = kept.join("\n") + if text.ends_with('\n') { "\n" } else { "" };
    while let Some(at) = text.find("(filesystem type 0x") {
        let end = text[at..].find(':').map_or(text.len(), |e| at + e);
        text.replace_range(at..end, "(filesystem type <FS>");
    }
    text =
        text.replace(&alice.serial.to_ascii_uppercase(), "<ALICE>").replace(&bob.serial.to_ascii_uppercase(), "<BOB>");
    if let Some(dir) = set_dir {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        for key in ["set_id", "set_id_short"] {
            text = text.replace(manifest[key].as_str().unwrap(), "<SET>");
        }
    }
    redact_fingerprints(&text)
}

/// Everything in one system; returns the outputs worth showing (card list, doctor).
fn in_system(sys: &System, alice: &PersistentCard, bob: &PersistentCard, scratch: &common::TempDir) -> String {
    let suite = sys.suite.as_str();
    let (cwd, dir) = sys.workdir(User::Root, suite);
    let _a = alice.insert_copy(&scratch.join(&format!("{suite}-alice")), sys.port);
    let _b = bob.insert_copy(&scratch.join(&format!("{suite}-bob")), sys.port + 1);
    wait_for_cards(sys, &cwd, &[alice.ident(), bob.ident()]);

    let list = ok(&sys.run(User::Root, Mounts::None, &cwd, &["card", "list"]), "card list");
    assert!(list.contains(&alice.decryption_fpr) && list.contains(&bob.decryption_fpr), "{suite}: {list}");
    assert_snapshot(&format!("portability-{suite}-card-list"), &normalize(&list, alice, bob, None));

    for (card, name) in [(alice, "alice"), (bob, "bob")] {
        let uid = format!("{name} <{name}@example.org>");
        let out = format!("{name}.asc");
        ok(
            &sys.run(
                User::Root,
                Mounts::None,
                &cwd,
                &["card", "cert", "--card", &card.ident(), "--name", &uid, "--out", &out],
            ),
            "card cert",
        );
    }
    let secret = format!("a root key, split on Debian {suite}");
    std::fs::write(dir.join("secret"), &secret).unwrap();
    let split = ["split", "--secret-file", "secret", "-n", "2", "-t", "2", "--qr", "none"];
    let recipients = ["--recipient", "alice=alice.asc", "--recipient", "bob=bob.asc", "-o", "set"];
    let run = sys.run(User::Root, Mounts::None, &cwd, &[&split[..], &recipients[..]].concat());
    ok(&run, "split");
    assert!(run.stderr.contains("cannot tell whether a network interface is up"), "{suite}: {}", run.stderr);

    let check = ["decrypt", "set/02-bob.asc", "--manifest", "set/manifest.json", "--check"];
    let run = sys.run(User::Root, Mounts::None, &cwd, &check);
    ok(&run, "decrypt --check");
    let combine =
        ["combine", "set/01-alice.asc", "set/02-bob.asc", "--manifest", "set/manifest.json", "--out", "recovered"];
    ok(&sys.run(User::Root, Mounts::None, &cwd, &combine), "combine");
    assert_eq!(std::fs::read_to_string(dir.join("recovered")).unwrap(), secret, "{suite}: the recovered secret");

    // doctor where /sys and /proc are missing: the checks that read them cannot tell.
    let run = sys.run(User::Root, Mounts::None, &cwd, &["doctor"]);
    assert_eq!(run.code, 1, "{suite}: doctor must fail where it cannot look:\n{}", run.stdout_text());
    let doctor = run.stdout_text();
    assert!(doctor.contains(&format!("speaks protocol {}", expected_protocol(suite))), "{suite}:\n{doctor}");
    assert_snapshot(&format!("portability-{suite}-doctor-no-sys-proc"), &normalize(&doctor, alice, bob, None));

    air_gap_checks(sys, &cwd, &split, &recipients, alice, bob);
    if suite == "trixie" {
        as_tails_user(sys, &dir, alice, bob);
        through_polkit(sys, polkit_port(), &dir, alice, bob, scratch);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    format!("== {suite}: symbolon card list\n{list}\n== {suite}: symbolon doctor (no /sys, no /proc)\n{doctor}")
}

/// --require-airgap where /sys is missing, with /sys showing this machine's interfaces, and in a
/// network namespace with none up.
fn air_gap_checks(
    sys: &System,
    cwd: &str,
    split: &[&str],
    recipients: &[&str],
    alice: &PersistentCard,
    bob: &PersistentCard,
) {
    let suite = sys.suite.as_str();
    let args = |out: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = split.iter().chain(&recipients[..4]).map(|s| s.to_string()).collect();
        v.extend(["-o".to_string(), out.to_string()]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_args = |mounts: Mounts, a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        sys.run(User::Root, mounts, cwd, &a)
    };
    // No /sys: cannot tell, so --require-airgap refuses, and nothing is written.
    let run = run_args(Mounts::None, args("refused", &["--require-airgap"]));
    assert_eq!(run.code, 1, "{suite}: --require-airgap without /sys must refuse:\n{}", run.stderr);
    assert_snapshot(&format!("portability-{suite}-require-airgap-no-sys"), &normalize(&run.stderr, alice, bob, None));
    assert!(!sys.root.join(cwd.trim_start_matches('/')).join("refused").exists());
    // Checked by hand: goes on, and says the check was not symbolon's.
    let run = run_args(Mounts::None, args("by-hand", &["--require-airgap", "--airgap-checked-by-hand"]));
    ok(&run, "--airgap-checked-by-hand");
    assert!(run.stderr.contains("symbolon could not check the air gap"), "{suite}: {}", run.stderr);
    // /sys mounted: this machine's interfaces are seen (no override: the check must look).
    let up = host_interfaces_up();
    let run = run_args(Mounts::ProcSys, args("with-sys", &["--require-airgap"]));
    assert!(!run.stderr.contains("could not check"), "{suite}: {}", run.stderr);
    if up.is_empty() {
        ok(&run, "--require-airgap, no interface up");
    } else {
        assert_eq!(run.code, 1, "{suite}: interfaces {up:?} are up:\n{}", run.stderr);
        let want = format!("network interfaces are up ({}) and --require-airgap was given", up.join(", "));
        assert!(run.stderr.contains(&want), "{suite}: {}", run.stderr);
    }
    // A network namespace of its own, with its own /sys: nothing is up in it, and doctor says
    // exactly that (of the namespace it runs in); /proc is there, so swap is known too.
    let run = run_args(Mounts::ProcSysOffline, args("offline", &["--require-airgap"]));
    ok(&run, "--require-airgap in a network namespace of its own");
    assert!(!run.stderr.contains("network interface"), "{suite}: {}", run.stderr);
    let run = sys.run(User::Root, Mounts::ProcSysOffline, cwd, &["doctor"]);
    let doctor = run.stdout_text();
    let line = "ok       air gap: no network interface is up in the network namespace symbolon runs in (loopback only; read from /sys/class/net)\n";
    assert!(doctor.contains(line), "{suite}:\n{doctor}");
    assert!(!doctor.contains("cannot tell whether"), "{suite}:\n{doctor}");
}

/// On Debian 13, as Tails runs it: user amnesia, memory-lock limit 8 MiB, /proc and /sys there.
fn as_tails_user(sys: &System, root_dir: &Path, alice: &PersistentCard, bob: &PersistentCard) {
    let (cwd, dir) = sys.workdir(User::Amnesia, "tails");
    let ok_cp = Command::new("cp").arg("-a").arg(root_dir.join("set")).arg(&dir).status().unwrap().success();
    assert!(ok_cp);
    chown_amnesia(&dir);
    let run = sys.run(User::Amnesia, Mounts::ProcSys, &cwd, &["doctor"]);
    let doctor = run.stdout_text();
    assert_snapshot("portability-trixie-doctor-amnesia", &normalize(&doctor, alice, bob, None));
    // The limit prlimit set: memory is not locked, and doctor says so.
    assert!(doctor.contains("memory lock: not locked (the memory-lock limit is 8192 KiB"), "{doctor}");
    // Tails' user cannot read init's namespace: the air gap is read from /sys as it is.
    let up = host_interfaces_up();
    let expected = if up.is_empty() {
        "ok       air gap: no network interface is up in the network namespace symbolon runs in".to_string()
    } else {
        format!("WARNING  air gap: network interfaces up: {}", up.join(", "))
    };
    assert!(doctor.contains(&expected), "{doctor}");
    let check = ["decrypt", "set/01-alice.asc", "--manifest", "set/manifest.json", "--check"];
    let run = sys.run(User::Amnesia, Mounts::ProcSys, &cwd, &check);
    ok(&run, "decrypt --check as amnesia");
    assert_eq!(run.stderr.contains("warning: network interfaces are up ("), !up.is_empty(), "{}", run.stderr);
    let set = dir.join("set");
    assert_snapshot("portability-trixie-decrypt-check-amnesia", &normalize(&run.stderr, alice, bob, Some(&set)));
    let combine =
        ["combine", "set/01-alice.asc", "set/02-bob.asc", "--manifest", "set/manifest.json", "--out", "recovered"];
    ok(&sys.run(User::Amnesia, Mounts::ProcSys, &cwd, &combine), "combine as amnesia");
    let secret = std::fs::read(root_dir.join("secret")).unwrap();
    assert_eq!(std::fs::read(dir.join("recovered")).unwrap(), secret);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The vpcd port of the trixie system's second pcscd, the one that asks polkit
/// (`SYMBOLON_POLKIT_PORT`, set by scripts/test).
fn polkit_port() -> u16 {
    std::env::var("SYMBOLON_POLKIT_PORT").expect("SYMBOLON_POLKIT_PORT is set by scripts/test").parse().unwrap()
}

/// The polkit rules the test installs: none, one that grants only `access_pcsc`, and the one
/// `polkit/50-symbolon-smartcards.rules` documents.
const POLKIT_RULES: &str = "etc/polkit-1/rules.d/50-symbolon-test.rules";
const ACCESS_PCSC_ONLY: &str = r#"polkit.addRule(function(action, subject) {
    if (action.id == "org.debian.pcsc-lite.access_pcsc" && subject.user == "amnesia") {
        return polkit.Result.YES;
    }
});
"#;

/// As Tails' user through a pcscd that asks polkit, as Debian 13's does. Without an active local
/// session (there is no logind here) polkit refuses by default: symbolon must say that pcscd
/// refused the user, not that pcscd is missing or that no card is inserted.
fn through_polkit(
    sys: &System,
    port: u16,
    root_dir: &Path,
    alice: &PersistentCard,
    bob: &PersistentCard,
    scratch: &common::TempDir,
) {
    let socket = "PCSCLITE_CSOCK_NAME=/run/symbolon-polkit/pcscd.comm";
    let (cwd, dir) = sys.workdir(User::Amnesia, "polkit");
    let ok_cp = Command::new("cp").arg("-a").arg(root_dir.join("set")).arg(&dir).status().unwrap().success();
    assert!(ok_cp);
    chown_amnesia(&dir);
    let rules = sys.root.join(POLKIT_RULES);
    let _ = std::fs::remove_file(&rules);
    let _a = alice.insert_copy(&scratch.join("polkit-alice"), port);
    let _b = bob.insert_copy(&scratch.join("polkit-bob"), port + 1);
    let run_as = |args: &[&str]| sys.run_env(User::Amnesia, Mounts::ProcSys, &cwd, &[socket], args);
    // Root is allowed: wait for the cards there.
    let start = Instant::now();
    while !sys
        .run_env(User::Root, Mounts::None, &cwd, &[socket], &["card", "list"])
        .stdout_text()
        .contains(&bob.ident())
    {
        assert!(start.elapsed() < Duration::from_secs(20), "the cards did not appear in the polkit pcscd");
        std::thread::sleep(Duration::from_millis(200));
    }

    // 1. No rule: pcscd refuses the user outright.
    let run = run_as(&["card", "list"]);
    assert_eq!(run.code, 1, "{}", run.stdout_text());
    assert_snapshot("portability-trixie-polkit-refused-card-list", &run.stderr);
    let run = run_as(&["doctor"]);
    assert_eq!(run.code, 1);
    let doctor = normalize(&run.stdout_text(), alice, bob, None);
    let pcscd_line = doctor.lines().take(2).collect::<Vec<_>>().join("\n");
    assert_snapshot("portability-trixie-polkit-refused-doctor-pcscd", &pcscd_line);

    // 2. A rule for access_pcsc only: pcscd talks, but refuses every reader.
    let rule_takes = |rule: &str, until: &dyn Fn(&Run) -> bool| {
        std::fs::write(&rules, rule).unwrap();
        let start = Instant::now();
        loop {
            let run = run_as(&["card", "list"]);
            if until(&run) {
                return run;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "polkit did not take the rule:\n{}", run.stderr);
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let run =
        rule_takes(ACCESS_PCSC_ONLY, &|run: &Run| run.stdout_text().contains("does not let this user use this reader"));
    // Every reader refused: card list shows them, and fails, since it could look at nothing.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_snapshot(
        "portability-trixie-polkit-reader-refused-card-list",
        &format!("{}{}", run.stdout_text(), run.stderr),
    );
    let run = run_as(&["doctor"]);
    assert_eq!(run.code, 1, "doctor must report the refused readers:\n{}", run.stdout_text());
    assert_snapshot(
        "portability-trixie-polkit-reader-refused-doctor",
        &normalize(&run.stdout_text(), alice, bob, None),
    );
    let check = ["decrypt", "set/01-alice.asc", "--manifest", "set/manifest.json", "--check"];
    let run = run_as(&check);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_snapshot(
        "portability-trixie-polkit-reader-refused-decrypt",
        &normalize(&run.stderr, alice, bob, Some(&dir.join("set"))),
    );

    // 3. The documented rule: everything works.
    let documented =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("polkit/50-symbolon-smartcards.rules"))
            .unwrap();
    let run = rule_takes(&documented, &|run: &Run| run.stdout_text().contains(&alice.ident()));
    ok(&run, "card list with the documented rule");
    ok(&run_as(&check), "decrypt --check with the documented rule");
    std::fs::remove_file(&rules).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
