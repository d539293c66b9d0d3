//! Interruptions: SIGINT, SIGTERM and SIGHUP at several points of a large split, of combine
//! `--out`, of decrypt `--out` and of a staged submit leave no temporary behind and nothing
//! half-written, exit 130/143/129 and say what was (not) written; after SIGKILL, the next run that
//! writes into the same directory removes the stale temporary and says so.

mod common;

use common::{TempDir, assert_ok, bin, person, pinentry, run_in, run_with_env};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TEMP_MARK: &str = ".symbolon-tmp-";

fn temporaries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(TEMP_MARK))
        .collect();
    out.sort();
    out
}

/// Files inside the first temporary directory of `dir` (0 if there is none).
fn files_in_temporary(dir: &Path) -> usize {
    temporaries(dir)
        .first()
        .and_then(|t| std::fs::read_dir(dir.join(t)).ok())
        .map_or(0, |entries| entries.filter_map(|e| e.ok()).count())
}

fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The outcome of a run interrupted once `ready` held: exit code, stderr. `None` if the run ended
/// before `ready` was seen (the caller retries with more work).
fn interrupt_when(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    signal: &str,
    ready: impl Fn() -> bool,
) -> Option<(i32, String)> {
    let mut child = spawn(dir, args, env);
    let start = Instant::now();
    loop {
        if ready() {
            break;
        }
        if child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            eprintln!("the run ended before the point was reached: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = out.status.code().or(out.status.signal().map(|s| 128 + s)).unwrap();
    if code == 0 {
        // It finished between the point and the signal's arrival: not caught.
        eprintln!("the run ended before the signal arrived");
        return None;
    }
    Some((code, String::from_utf8_lossy(&out.stderr).into_owned()))
}

fn exit_code(signal: &str) -> i32 {
    match signal {
        "INT" => 130,
        "TERM" => 143,
        "HUP" => 129,
        _ => 137,
    }
}

/// The last line of stderr, where the interruption is reported.
fn last_line(stderr: &str) -> &str {
    stderr.trim_end().lines().last().unwrap_or("")
}

fn write_secret(dir: &Path, name: &str, len: usize) {
    let mut bytes = vec![0u8; len];
    symbolon::rng::fill_from_os(&mut bytes).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// A large plaintext split, interrupted when its temporary directory has appeared, when it holds
/// one share file, and when it holds three (enough to recover the secret): nothing is left.
#[test]
fn an_interrupted_split_leaves_nothing() {
    let dir = TempDir::new("int-split");
    let d = dir.path();
    let args = ["split", "--secret-file", "big.bin", "-n", "5", "-t", "3", "--plaintext", "-o", "out"];
    let points: [(&str, usize); 3] = [("INT", 0), ("TERM", 1), ("HUP", 3)];
    for (signal, files) in points {
        let mut caught = None;
        for len in [8 << 20, 24 << 20, 64 << 20] {
            write_secret(d, "big.bin", len);
            let ready = || !temporaries(d).is_empty() && files_in_temporary(d) >= files;
            match interrupt_when(d, &args, &[], signal, ready) {
                // The signal came just after the commit: said so, and the set is whole.
                Some((code, stderr)) if stderr.contains("had been written before the interruption") => {
                    assert_eq!(code, exit_code(signal), "{stderr}");
                    assert!(d.join("out/manifest.json").exists() && temporaries(d).is_empty(), "{stderr}");
                }
                Some(outcome) => {
                    caught = Some(outcome);
                    break;
                }
                None => {}
            }
            let _ = std::fs::remove_dir_all(d.join("out"));
        }
        let (code, stderr) = caught.expect("the split was never caught while writing");
        assert_eq!(code, exit_code(signal), "SIG{signal} at {files} file(s): {stderr}");
        assert_eq!(last_line(&stderr), format!("interrupted (SIG{signal}): nothing was written"), "{stderr}");
        assert!(stderr.contains("The unfinished output was removed: ./.out.symbolon-tmp-"), "{stderr}");
        assert_eq!(dir.entries(), ["big.bin"], "SIG{signal} at {files} file(s) left something");
    }
}

/// After SIGKILL (no chance to clean up), the temporary stays; the next run that writes into
/// the same directory removes it and says so, and leaves a temporary of a live run alone.
#[test]
fn a_killed_runs_temporary_is_removed_by_the_next_run() {
    let dir = TempDir::new("int-kill");
    let d = dir.path();
    let args = ["split", "--secret-file", "big.bin", "-n", "5", "-t", "3", "--plaintext", "-o", "out"];
    let mut killed = None;
    for len in [8 << 20, 24 << 20, 64 << 20] {
        write_secret(d, "big.bin", len);
        if let Some(outcome) = interrupt_when(d, &args, &[], "KILL", || files_in_temporary(d) >= 2) {
            // Killed after its commit: nothing stale to find; more work next time.
            if !temporaries(d).is_empty() {
                killed = Some(outcome);
                break;
            }
        }
        let _ = std::fs::remove_dir_all(d.join("out"));
    }
    assert_eq!(killed.expect("never caught").0, 137);
    let stale = temporaries(d);
    assert_eq!(stale.len(), 1, "{stale:?}");
    let pid = stale[0].split(TEMP_MARK).nth(1).unwrap().split('-').next().unwrap().to_string();
    write_secret(d, "small.bin", 32);
    let run =
        run_in(d, &["split", "--secret-file", "small.bin", "-n", "2", "-t", "2", "--plaintext", "-o", "out2"], None);
    assert_ok(&run);
    assert_eq!(
        last_line(&run.stderr),
        format!(
            "note: removed ./{}, an unfinished output left by an interrupted symbolon run (process {pid})",
            stale[0]
        )
    );
    assert!(temporaries(d).is_empty());
    assert_eq!(dir.entries(), ["big.bin", "out2", "small.bin"]);
}

/// combine --out of a large secret, interrupted while its temporary file exists: no secret is
/// left on disk. Interrupted at the very start: nothing either.
#[test]
fn an_interrupted_combine_leaves_no_secret() {
    let dir = TempDir::new("int-combine");
    let d = dir.path();
    let mut caught = None;
    for len in [8 << 20, 24 << 20, 64 << 20] {
        write_secret(d, "big.bin", len);
        let _ = std::fs::remove_dir_all(d.join("set"));
        assert_ok(&run_in(
            d,
            &["split", "--secret-file", "big.bin", "-n", "2", "-t", "2", "--plaintext", "-o", "set"],
            None,
        ));
        let args = ["combine", "set/01-share.txt", "set/02-share.txt", "--out", "rec.bin"];
        match interrupt_when(d, &args, &[], "INT", || !temporaries(d).is_empty()) {
            // The signal came just after the commit: said so, and the file is whole.
            Some((code, stderr)) if stderr.contains("rec.bin had been written before the interruption") => {
                assert_eq!(code, 130, "{stderr}");
                assert_eq!(std::fs::read(d.join("rec.bin")).unwrap(), std::fs::read(d.join("big.bin")).unwrap());
            }
            Some(outcome) => {
                caught = Some(outcome);
                break;
            }
            None => {}
        }
        let _ = std::fs::remove_file(d.join("rec.bin"));
    }
    let (code, stderr) = caught.expect("the combine was never caught while writing");
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("The unfinished output was removed: ./.rec.bin.symbolon-tmp-"), "{stderr}");
    assert_eq!(last_line(&stderr), "interrupted (SIGINT): nothing was written");
    assert_eq!(dir.entries(), ["big.bin", "set"]);
    // At once: whatever it had done, nothing of it is left.
    let args = ["combine", "set/01-share.txt", "set/02-share.txt", "--out", "rec.bin"];
    match interrupt_when(d, &args, &[], "TERM", || true) {
        // Ran to the end first, or the signal came after the commit: the file is whole.
        None => assert_eq!(std::fs::read(d.join("rec.bin")).unwrap(), std::fs::read(d.join("big.bin")).unwrap()),
        Some((code, stderr)) if stderr.contains("rec.bin had been written before the interruption") => {
            assert_eq!(code, 143, "{stderr}");
            assert_eq!(std::fs::read(d.join("rec.bin")).unwrap(), std::fs::read(d.join("big.bin")).unwrap());
        }
        Some((code, stderr)) => {
            assert_eq!(code, 143, "{stderr}");
            assert_eq!(dir.entries(), ["big.bin", "set"]);
        }
    }
}

/// decrypt --out, interrupted while the custodian types the passphrase: nothing is written.
#[test]
fn an_interrupted_decrypt_writes_nothing() {
    let dir = TempDir::new("int-decrypt");
    let d = dir.path();
    person(d, "alice");
    assert_ok(&run_in(
        d,
        &["split", "--generate", "32", "-n", "1", "-t", "1", "--recipient", "alice.asc", "-o", "set"],
        None,
    ));
    let entry = pinentry(d);
    let marker = d.join("asked");
    let marker_text = marker.display().to_string();
    let env = [("SYMBOLON_PINENTRY", entry.as_str()), ("BLOCK_ON", "alice"), ("MARKER", marker_text.as_str())];
    let args = ["decrypt", "set/01-alice.asc", "--key-file", "alice.key", "--out", "share.txt"];
    let (code, stderr) = interrupt_when(d, &args, &env, "HUP", || marker.exists()).unwrap();
    assert_eq!(code, 129, "{stderr}");
    assert_eq!(last_line(&stderr), "interrupted (SIGHUP): nothing was written");
    assert!(!d.join("share.txt").exists() && temporaries(d).is_empty());
    // Answered, the same command writes the share.
    let run = run_with_env(d, &args, None, &[("SYMBOLON_PINENTRY", entry.as_str())]);
    assert_ok(&run);
    assert!(std::fs::read_to_string(d.join("share.txt")).unwrap().starts_with("-----BEGIN SYMBOLON SHARE-----"));
}

/// A staged submit interrupted at the custodian's passphrase records nothing; one interrupted at
/// the operator's passphrase (the share reaching the threshold already recorded) says what was
/// written, and the ceremony completes afterwards with no custodian.
#[test]
fn an_interrupted_staged_submit_is_truthful_and_not_stuck() {
    let dir = TempDir::new("int-staged");
    let d = dir.path();
    for name in ["alice", "bob", "dave", "erin", "operator"] {
        person(d, name);
    }
    assert_ok(&run_in(
        d,
        &[
            "split",
            "--generate",
            "32",
            "-n",
            "2",
            "-t",
            "2",
            "--recipient",
            "alice.asc",
            "--recipient",
            "bob.asc",
            "-o",
            "old",
        ],
        None,
    ));
    let init = run_in(
        d,
        &[
            "rekey",
            "init",
            "--state-dir",
            "state",
            "--operator-cert",
            "operator.asc",
            "--old-manifest",
            "old/manifest.json",
            "--yes",
            "-n",
            "2",
            "-t",
            "2",
            "--recipient",
            "dave.asc",
            "--recipient",
            "erin.asc",
            "--qr",
            "none",
            "-o",
            "new",
        ],
        None,
    );
    assert_ok(&init);
    let out = init.stdout_text();
    let nonce = out.lines().find_map(|l| l.strip_prefix("Ceremony started. Nonce: ")).unwrap().to_string();
    let hash = out.lines().find_map(|l| l.strip_prefix("Plan hash: ")).unwrap().to_string();
    let entry = pinentry(d);
    let marker = d.join("asked");
    let marker_text = marker.display().to_string();
    let submit = |share: Option<&str>| {
        let mut args = vec!["rekey", "submit", "--state-dir", "state", "--nonce", &nonce, "--plan-hash", &hash];
        args.extend(share);
        args.extend(["--key-file", "alice.key", "--key-file", "bob.key", "--operator-key-file", "operator.key"]);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let status = || run_in(d, &["rekey", "status", "--state-dir", "state", "--nonce", &nonce], None).stdout_text();

    // At alice's passphrase: nothing recorded.
    let args = submit(Some("old/01-alice.asc"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("SYMBOLON_PINENTRY", entry.as_str()), ("BLOCK_ON", "alice"), ("MARKER", marker_text.as_str())];
    let (code, stderr) = interrupt_when(d, &args, &env, "INT", || marker.exists()).unwrap();
    assert_eq!(code, 130, "{stderr}");
    assert_eq!(last_line(&stderr), "interrupted (SIGINT): nothing was written");
    assert!(status().contains("Old shares recorded: 0 of 2 needed"), "{}", status());
    assert_ok(&run_with_env(d, &args, None, &[("SYMBOLON_PINENTRY", entry.as_str())]));
    assert!(status().contains("Old shares recorded: 1 of 2 needed"), "{}", status());

    // At the operator's passphrase, bob's share recorded: said, and kept.
    std::fs::remove_file(&marker).unwrap();
    let args = submit(Some("old/02-bob.asc"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("SYMBOLON_PINENTRY", entry.as_str()), ("BLOCK_ON", "operator"), ("MARKER", marker_text.as_str())];
    let (code, stderr) = interrupt_when(d, &args, &env, "TERM", || marker.exists()).unwrap();
    assert_eq!(code, 143, "{stderr}");
    let recorded = d.join("state").join(&nonce).join("share-002.pgp");
    assert_eq!(
        last_line(&stderr),
        format!(
            "interrupted (SIGTERM): {} had been written before the interruption; nothing else was",
            Path::new("state").join(&nonce).join("share-002.pgp").display()
        )
    );
    assert!(recorded.exists() && !d.join("new").exists());
    // Completed later, with no share and no custodian.
    let args = submit(None);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_env(d, &args, None, &[("SYMBOLON_PINENTRY", entry.as_str())]);
    assert_ok(&run);
    assert!(run.stderr.contains("already holds 2 of the 2 old shares needed: completing it."), "{}", run.stderr);
    assert!(run.stdout_text().contains("is complete and its state destroyed"), "{}", run.stdout_text());
    assert!(d.join("new/manifest.json").exists() && !d.join("state").join(&nonce).exists());
}

/// Ctrl-C at the passphrase prompt, in an interactive dash (which, unlike bash, does not put the
/// terminal back itself): symbolon turns echo back on before it exits.
#[test]
fn ctrl_c_at_a_secret_prompt_leaves_the_terminal_echoing() {
    let dir = TempDir::new("interrupt-echo");
    let d = dir.path();
    person(d, "alice");
    assert_ok(&run_in(
        d,
        &["split", "--generate", "32", "-n", "1", "-t", "1", "--recipient", "alice.asc", "-o", "set"],
        None,
    ));
    let command = format!("{} decrypt set/01-alice.asc --key-file alice.key", bin().display());
    let mut shell = Command::new("script")
        .args(["-qec", "dash -i", "/dev/null"])
        .current_dir(d)
        .env_remove("SYMBOLON_PINENTRY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // What the terminal shows, as it comes.
    let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut out = shell.stdout.take().unwrap();
    let shown = screen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut out, &mut buf) {
            if n == 0 {
                break;
            }
            shown.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |text: &str| {
        let start = Instant::now();
        while !screen.lock().unwrap().contains(text) {
            assert!(start.elapsed() < Duration::from_secs(30), "never shown {text:?}:\n{}", screen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut typing = shell.stdin.take().unwrap();
    let mut type_in = |text: &str| {
        std::io::Write::write_all(&mut typing, text.as_bytes()).unwrap();
        std::io::Write::flush(&mut typing).unwrap();
    };
    // The command, Ctrl-C at its passphrase prompt, then a look at the terminal's settings.
    // dash's prompt: "$ ", or "# " for root.
    let start = Instant::now();
    while !["$ ", "# "].iter().any(|p| screen.lock().unwrap().contains(p)) {
        assert!(start.elapsed() < Duration::from_secs(30), "no shell prompt:\n{}", screen.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
    type_in(&format!("{command}\n"));
    wait_for("Passphrase for the secret key");
    type_in("\u{3}");
    wait_for("interrupted (SIGINT): nothing was written");
    // symbolon drops what was typed while echo was off (it was meant for the secret prompt), up to
    // its exit: the next line is typed only once the shell prompts again, and the input is closed
    // only once stty has answered.
    let interrupted = "interrupted (SIGINT): nothing was written";
    let start = Instant::now();
    loop {
        let shown = screen.lock().unwrap().clone();
        let after = shown.rsplit_once(interrupted).map(|(_, s)| s.to_string()).unwrap_or_default();
        if ["$ ", "# "].iter().any(|p| after.contains(p)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no shell prompt after the interruption:\n{shown}");
        std::thread::sleep(Duration::from_millis(50));
    }
    type_in("stty -a; exit\n");
    wait_for("speed ");
    drop(typing);
    shell.wait().unwrap();
    reader.join().unwrap();
    let screen = screen.lock().unwrap().replace("\r\n", "\n");
    let settings = screen.rsplit_once("stty -a").map(|(_, s)| s).unwrap_or_default();
    let words: Vec<&str> = settings.split_whitespace().collect();
    assert!(words.contains(&"echo") && !words.contains(&"-echo"), "echo is off after Ctrl-C:\n{screen}");
}
