//! The printer against Compose's own output, recorded in
//! `tests/fixtures/compose-*.txt` (each file says how it was made).

use super::*;

/// A fixture without its `#` comment lines.
fn recorded(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// What a terminal shows last: the final board (from the last `[+]`
/// header), without escape sequences, carriage returns, and the elapsed
/// times (`0.0s `), which depend on the run.
fn screen(raw: &str) -> String {
    let mut text = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then one final letter.
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c != '\r' {
            text.push(c);
        }
    }
    let last = text.rfind("[+] ").map_or(text.as_str(), |at| &text[at..]);
    last.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}\n", without_elapsed(l)))
        .collect()
}

/// ` ✔ Network demo_default  Removed0.0s ` -> ` ✔ Network demo_default  Removed`.
fn without_elapsed(line: &str) -> &str {
    let Some(rest) = line.strip_suffix("s ") else {
        return line;
    };
    let kept = rest.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if kept.len() < rest.len() {
        kept
    } else {
        line
    }
}

fn steps(printer: &Printer, steps: &[(&str, &str, &str, Mark)]) -> String {
    steps
        .iter()
        .filter_map(|(kind, name, state, mark)| printer.step_text(kind, name, state, *mark, ""))
        .collect()
}

#[test]
fn plain_lines_are_composes() {
    let printer = Printer::new(ProgressMode::Plain, "Running");
    let printed = steps(
        &printer,
        &[
            ("Container", "demo-web-1", "Stopping", Mark::Working),
            ("Container", "demo-web-1", "Stopped", Mark::Done),
            ("Container", "demo-db-1", "Stopping", Mark::Working),
            ("Container", "demo-db-1", "Stopped", Mark::Done),
        ],
    );
    let compose = include_str!("../../tests/fixtures/compose-stop-plain.txt");
    assert_eq!(printed, recorded(compose));
}

#[test]
fn plain_down_is_composes() {
    let printer = Printer::new(ProgressMode::Plain, "Running");
    let mut list = Vec::new();
    for name in ["demo-web-1", "demo-db-1"] {
        list.push(("Container", name, "Stopping", Mark::Working));
        list.push(("Container", name, "Stopped", Mark::Working));
        list.push(("Container", name, "Removing", Mark::Working));
        list.push(("Container", name, "Removed", Mark::Done));
    }
    list.push(("Network", "demo_default", "Removing", Mark::Working));
    list.push(("Network", "demo_default", "Removed", Mark::Done));
    let compose = include_str!("../../tests/fixtures/compose-down-plain.txt");
    assert_eq!(steps(&printer, &list), recorded(compose));
}

#[test]
fn the_tty_board_ends_as_composes() {
    let printer = Printer::new(ProgressMode::Tty, "Running");
    let drawn = steps(
        &printer,
        &[
            ("Container", "demo-web-1", "Removing", Mark::Working),
            ("Container", "demo-db-1", "Removing", Mark::Working),
            ("Container", "demo-web-1", "Removed", Mark::Done),
            ("Container", "demo-db-1", "Removed", Mark::Done),
            ("Network", "demo_default", "Removed", Mark::Done),
        ],
    );
    let compose = include_str!("../../tests/fixtures/compose-down-tty.txt");
    assert_eq!(screen(&drawn), screen(&recorded(compose)));
    // Each redraw goes back over the header and the lines drawn before.
    assert!(drawn.contains("\x1b[3A"), "{drawn:?}");
    assert!(!drawn.contains("\x1b[4A"), "{drawn:?}");
}

#[test]
fn quiet_prints_nothing() {
    let printer = Printer::new(ProgressMode::Quiet, "Running");
    let printed = steps(
        &printer,
        &[("Container", "demo-web-1", "Started", Mark::Done)],
    );
    assert_eq!(printed, "");
}

#[test]
fn up_events_read_as_composes() {
    let printer = Printer::new(ProgressMode::Plain, "Running");
    let done = |state: &str, reason: Option<&str>| {
        printer.event_text(&ProjectEvent::Done {
            action: String::new(),
            kind: "Container".into(),
            name: "demo-web-1".into(),
            state: state.into(),
            reason: reason.map(str::to_string),
        })
    };
    assert_eq!(
        done("Started", None).as_deref(),
        Some(" Container demo-web-1  Started\n")
    );
    assert_eq!(
        done("Recreated", Some("environment.DEBUG changed")).as_deref(),
        Some(" Container demo-web-1  Recreated (environment.DEBUG changed)\n")
    );
    let observed = |state: &str, waiting: bool| {
        printer.event_text(&ProjectEvent::Observed {
            kind: "Container".into(),
            name: "demo-db-1".into(),
            state: state.into(),
            waiting,
        })
    };
    assert_eq!(
        observed("Running", false).as_deref(),
        Some(" Container demo-db-1  Running\n")
    );
    assert_eq!(
        observed("Waiting", true).as_deref(),
        Some(" Container demo-db-1  Waiting\n")
    );
    assert_eq!(
        observed("Healthy", false).as_deref(),
        Some(" Container demo-db-1  Healthy\n")
    );
}

#[test]
fn sizes_read_like_docker() {
    assert_eq!(human_size(512), "512B");
    assert_eq!(human_size(999), "999B");
    assert_eq!(human_size(1500), "1.5kB");
    assert_eq!(human_size(123_456), "123kB");
    assert_eq!(human_size(4_260_000), "4.26MB");
    assert_eq!(human_size(12_345_678), "12.3MB");
    assert_eq!(human_size(2_000_000_000), "2GB");
}
