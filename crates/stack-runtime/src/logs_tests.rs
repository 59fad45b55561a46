use super::*;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("stack-logs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        Dir(dir)
    }

    fn log(&self) -> PathBuf {
        self.0.join("container.log")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The records as stored, one per line of the file.
fn records(path: &Path) -> Vec<LogLine> {
    std::fs::read_to_string(path)
        .expect("log file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect()
}

fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.log.as_str()).collect()
}

fn record(log: &str, stream: &str, time: &str) -> String {
    let line = LogLine {
        log: log.into(),
        stream: stream.into(),
        time: time.into(),
    };
    serde_json::to_string(&line).expect("json") + "\n"
}

#[test]
fn rotates_at_the_cap_and_reads_back_in_order() {
    let dir = Dir::new("rotate");
    let path = dir.log();
    let mut w = LogWriter::open(&path, 1024).expect("open");
    for i in 0..40 {
        let stream = if i % 2 == 0 { "stdout" } else { "stderr" };
        w.write(stream, format!("line {i}\n").as_bytes())
            .expect("write");
    }
    assert!(std::fs::metadata(&path).expect("log").len() <= 1024);
    assert!(rotated(&path).exists());
    let all = read_all(&path).expect("read");
    let last = all.last().expect("records");
    assert_eq!(
        (last.log.as_str(), last.stream.as_str()),
        ("line 39\n", "stderr")
    );
    let numbers: Vec<usize> = all
        .iter()
        .map(|l| l.log.trim()[5..].parse().expect("n"))
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "in order: {numbers:?}"
    );
}

#[test]
fn a_chunk_of_several_lines_is_one_record_per_line() {
    let dir = Dir::new("lines");
    let mut w = LogWriter::open(&dir.log(), 1 << 20).expect("open");
    w.write(
        "stderr",
        b"Traceback (most recent call last):\n  File \"x\", line 1\nValueError: no\nhalf",
    )
    .expect("write");
    let stored = records(&dir.log());
    assert_eq!(
        texts(&stored),
        [
            "Traceback (most recent call last):\n",
            "  File \"x\", line 1\n",
            "ValueError: no\n",
            "half"
        ]
    );
    assert!(stored[3].is_partial() && !stored[2].is_partial());
    // The rest of the line comes later, with stdout in between: the
    // reader joins it to its start, which keeps its time.
    w.write("stdout", b"elsewhere\n").expect("write");
    w.write("stderr", b" done\n").expect("write");
    let lines = read_all(&dir.log()).expect("read");
    assert_eq!(
        texts(&lines),
        [
            "Traceback (most recent call last):\n",
            "  File \"x\", line 1\n",
            "ValueError: no\n",
            "elsewhere\n",
            "half done\n"
        ]
    );
    assert_eq!(lines[4].time, stored[3].time);
}

#[test]
fn a_long_line_is_cut_at_16_kib_and_read_back_whole() {
    let dir = Dir::new("long");
    let mut w = LogWriter::open(&dir.log(), 1 << 20).expect("open");
    let mut line = "x".repeat(40 * 1024);
    line.push('\n');
    w.write("stdout", line.as_bytes()).expect("write");
    let stored = records(&dir.log());
    let sizes: Vec<usize> = stored.iter().map(|r| r.log.len()).collect();
    assert_eq!(sizes, [MAX_RECORD, MAX_RECORD, 8 * 1024 + 1]);
    assert!(stored[0].is_partial() && stored[1].is_partial() && !stored[2].is_partial());
    let lines = read_all(&dir.log()).expect("read");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].log, line);
}

#[test]
fn cuts_keep_characters_whole() {
    // 'é' is two bytes: at an odd limit the cut moves back one byte.
    let text = "é".repeat(4);
    let cut = pieces(text.as_bytes(), 5);
    assert_eq!(cut.iter().map(|p| p.len()).collect::<Vec<_>>(), [4, 4]);
    assert!(cut.iter().all(|p| std::str::from_utf8(p).is_ok()));
    // Bytes that are no UTF-8 are cut at the limit.
    assert_eq!(pieces(&[0x80; 7], 5).len(), 2);
    assert!(pieces(b"", 5).is_empty());
}

#[test]
fn records_written_before_lines_were_split_read_as_lines() {
    let dir = Dir::new("old");
    let old = record("one\ntwo\nthree\n", "stdout", "T1")
        + &record("par", "stdout", "T2")
        + &record("tial\nnext\n", "stdout", "T3")
        + &record("end", "stdout", "T4");
    std::fs::write(dir.log(), old).expect("old log");
    let lines = read_all(&dir.log()).expect("read");
    assert_eq!(
        texts(&lines),
        ["one\n", "two\n", "three\n", "partial\n", "next\n", "end"]
    );
    let times: Vec<&str> = lines.iter().map(|l| l.time.as_str()).collect();
    assert_eq!(times, ["T1", "T1", "T1", "T2", "T3", "T4"]);
}

#[test]
fn a_cursor_follows_whole_records_and_rotation() {
    let dir = Dir::new("cursor");
    let path = dir.log();
    std::fs::write(&path, record("before\n", "stdout", "T0")).expect("log");
    let mut cursor = Cursor::at_end(&path);
    assert_eq!(cursor.read_new().expect("read"), (vec![], false));

    let mut file = OpenOptions::new().append(true).open(&path).expect("open");
    let next = record("par", "stdout", "T1") + &record("tial\n", "stdout", "T2");
    let torn = record("later\n", "stdout", "T3");
    let (head, tail) = torn.split_at(10);
    file.write_all(format!("{next}{head}").as_bytes())
        .expect("append");
    let (lines, grew) = cursor.read_new().expect("read");
    assert!(grew);
    assert_eq!(texts(&lines), ["partial\n"]);
    file.write_all(tail.as_bytes()).expect("append");
    assert_eq!(texts(&cursor.read_new().expect("read").0), ["later\n"]);

    // Rotated: a new file at the path is read from its start.
    std::fs::rename(&path, rotated(&path)).expect("rotate");
    std::fs::write(&path, record("fresh", "stderr", "T4")).expect("new log");
    let (lines, grew) = cursor.read_new().expect("read");
    assert!(grew && lines.is_empty(), "the partial waits: {lines:?}");
    assert_eq!(texts(&cursor.finish()), ["fresh"]);
}

#[test]
fn follow_gives_out_an_unfinished_line_when_it_stops() {
    let dir = Dir::new("follow");
    let path = dir.log();
    std::fs::write(&path, record("old\n", "stdout", "T0")).expect("log");
    let mut w = LogWriter::open(&path, 1 << 20).expect("open");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        w.write("stdout", b"a\nb\nprompt: ").expect("write");
    });
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    follow(
        &path,
        |l| seen.push(l.log.clone()),
        || started.elapsed() < std::time::Duration::from_millis(400),
    )
    .expect("follow");
    writer.join().expect("writer");
    assert_eq!(seen, ["a\n", "b\n", "prompt: "]);
}

#[test]
fn what_is_held_and_what_follows_meet_without_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("container.log");
    let mut log = LogWriter::open(&path, 1 << 20).expect("open");
    log.write("stdout", b"before\n").expect("write");
    log.write("stdout", b"half").expect("write");
    let (held, mut cursor) = Cursor::held(&path).expect("held");
    // Written after the read, before any follow starts: still seen.
    log.write("stdout", b" done\nafter\n").expect("write");
    let texts = |lines: &[LogLine]| lines.iter().map(|l| l.log.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&held), ["before\n"]);
    let (next, grew) = cursor.read_new().expect("read");
    assert!(grew);
    assert_eq!(texts(&next), ["half done\n", "after\n"]);
}
