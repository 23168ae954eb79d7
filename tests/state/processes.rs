//! The lock between two real processes: the second writer is refused at once with the
//! holder's pid, readers are never blocked, and a killed holder's lock is gone with it.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use reqprune::state::lock::read_holder_at;
use reqprune::state::{Journal, Record, lock_path, read_view};
use tempfile::TempDir;

use super::support::{JOB, child_dir, role, spawn_child};

const HOLDER_TEST: &str = "state::processes::a_second_process_is_locked_out_at_once";

#[test]
fn a_second_process_is_locked_out_at_once() {
    if role().as_deref() == Some("holder") {
        return hold_until_stdin_closes();
    }
    let dir = TempDir::new().unwrap();
    let lock_file = lock_path(dir.path(), JOB).unwrap();

    // Killed holder: the kernel releases its lock; the lock file still names it, dead.
    let mut child = spawn_child(HOLDER_TEST, "holder", dir.path());
    wait_until_locked(&mut child);
    let started = Instant::now();
    let error = Journal::open(dir.path(), JOB)
        .err()
        .expect("the child holds the lock");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused promptly, not after waiting"
    );
    assert!(error.is_locked());
    let message = error.to_string();
    assert!(
        message.contains(&lock_file.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!("held by pid {} (running since 20", child.id())),
        "{message}"
    );
    let view = read_view(dir.path(), JOB).expect("readers are not blocked");
    assert_eq!(
        view.last_run().unwrap().outcome,
        None,
        "the child's run is under way"
    );
    assert!(read_holder_at(&lock_file).unwrap().is_alive());
    child.kill().unwrap();
    child.wait().unwrap();
    let holder = read_holder_at(&lock_file).expect("a killed holder leaves its name");
    assert!(!holder.is_alive(), "and readers can tell it is gone");
    drop(Journal::open(dir.path(), JOB).expect("the kernel released the killed holder's lock"));

    // A holder that ends normally forgets its name.
    let mut child = spawn_child(HOLDER_TEST, "holder", dir.path());
    wait_until_locked(&mut child);
    assert!(
        Journal::open(dir.path(), JOB)
            .err()
            .expect("locked")
            .is_locked()
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(read_holder_at(&lock_file).is_none());
    let journal = Journal::open(dir.path(), JOB).unwrap();
    assert_eq!(journal.view().runs.len(), 2);
}

fn wait_until_locked(child: &mut std::process::Child) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // libtest may print the test name on the same line first. Reading goes on to the
        // end so that the child's last words never meet a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.ends_with("<locked>") {
                let _ = tx.send(());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {}
        other => {
            let _ = child.kill();
            panic!("the child did not take the lock: {other:?}");
        }
    }
}

/// The child: takes the lock, starts a run, says so, and holds on until stdin closes.
fn hold_until_stdin_closes() {
    let mut journal = Journal::open(&child_dir(), JOB).unwrap();
    journal
        .append(Record::run_started(None, "sha256:held"))
        .unwrap();
    journal.commit().unwrap();
    println!("<locked>");
    std::io::stdout().flush().unwrap();
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).unwrap() > 0 {}
}
