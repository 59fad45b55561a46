use notify::event::{CreateKind, Flag};
use notify::{Event, EventKind};

use super::*;

fn session(yaml: &str) -> (tempfile::TempDir, LoadOptions, Session) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("src")).expect("src");
    std::fs::create_dir_all(dir.path().join("docs")).expect("docs");
    std::fs::write(dir.path().join("stack.yaml"), yaml).expect("stack file");
    let load = LoadOptions {
        files: vec![dir.path().join("stack.yaml")],
        working_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let project = stackfile::reload(&load).expect("loads");
    let rules = rules::compile(&project, &[]).expect("rules");
    let s = Session::new(&load, project, rules).expect("session");
    (dir, load, s)
}

const STACK: &str = "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: src\n          target: /app\n          action: sync\n  docs:\n    image: busybox\n    develop:\n      watch:\n        - path: docs\n          target: /docs\n          action: sync+restart\n";

fn due(c: &mut Coalescer) -> Batch {
    c.take_due(Instant::now() + Duration::from_secs(10))
        .expect("a batch is due")
}

#[test]
fn an_overflow_rescans_every_rule_and_reloads_the_stack_file() {
    let (_dir, _load, s) = session(STACK);
    let mut c = Coalescer::new(Timing::default());
    let mut events = Vec::new();
    s.take(
        Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)),
        &mut c,
        &mut |e| events.push(e),
    );
    let batch = due(&mut c);
    assert!(batch.paths.is_empty());
    let work = s.route(&batch);
    assert_eq!(work.keys().collect::<Vec<_>>(), ["docs", "web"]);
    assert!(work.values().all(|w| w.full.len() == 1));
    assert!(s.lost_inputs(&batch), "the stack file may have changed too");
    assert!(events.is_empty());
}

#[test]
fn a_lost_watch_is_reported_with_the_sysctl_and_rescans() {
    let (_dir, _load, s) = session(STACK);
    let mut c = Coalescer::new(Timing::default());
    let mut events = Vec::new();
    s.take(
        Err(notify::Error::new(notify::ErrorKind::MaxFilesWatch)),
        &mut c,
        &mut |e| events.push(e),
    );
    assert!(
        matches!(&events[..], [WatchEvent::Warning(w)] if w.contains("sysctl fs.inotify.max_user_watches")),
        "{events:?}"
    );
    assert!(!due(&mut c).rescans.is_empty());
}

#[test]
fn changes_are_routed_to_their_service_and_noise_is_dropped() {
    let (dir, _load, s) = session(STACK);
    let mut c = Coalescer::new(Timing::default());
    let p = dir.path();
    let event = Event::new(EventKind::Create(CreateKind::File))
        .add_path(p.join("src/a.js"))
        .add_path(p.join("src/.git/index"))
        .add_path(p.join("docs/x.md"))
        .add_path(p.join("elsewhere.txt"));
    s.take(Ok(event), &mut c, &mut |_| {});
    let batch = due(&mut c);
    assert_eq!(batch.paths.len(), 2, "{:?}", batch.paths);
    let work = s.route(&batch);
    assert_eq!(work["web"].paths.values().next().map(Vec::len), Some(1));
    assert_eq!(work["docs"].paths.values().next().map(Vec::len), Some(1));
    assert!(!s.lost_inputs(&batch));
}

#[test]
fn a_stack_file_write_counts_as_an_input() {
    let (dir, _load, s) = session(STACK);
    let mut c = Coalescer::new(Timing::default());
    s.take(
        Ok(Event::new(EventKind::Create(CreateKind::File)).add_path(dir.path().join("stack.yaml"))),
        &mut c,
        &mut |_| {},
    );
    let batch = due(&mut c);
    assert!(batch.paths.iter().any(|p| s.inputs.contains(p)));
    assert!(
        s.route(&batch).is_empty(),
        "no rule covers the stack file here"
    );
}

#[test]
fn a_rule_path_made_after_start_is_watched_as_a_tree() {
    let (dir, _load, mut s) = session(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: later\n          target: /app\n          action: sync\n",
    );
    let later = dir.path().join("later");
    assert!(!s.watcher.trees.contains(&later));
    std::fs::create_dir_all(later.join("deep")).expect("make the rule path");
    let mut events = Vec::new();
    s.follow_new_rule_paths(&mut |e| events.push(e));
    assert!(s.watcher.trees.contains(&later), "{:?}", s.watcher.trees);
    // A file written deep inside now reaches the loop.
    std::fs::write(later.join("deep/x.txt"), "x").expect("write");
    let mut c = Coalescer::new(Timing::default());
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if let Some(msg) = s.watcher.next(Duration::from_millis(50)).expect("watcher") {
            s.take(msg, &mut c, &mut |_| {});
        }
        if c.deadline().is_some() {
            break;
        }
    }
    assert!(due(&mut c).paths.contains(&later.join("deep/x.txt")));
    assert!(events.is_empty(), "{events:?}");
}
