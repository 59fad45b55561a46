//! Slow and silent peers on the daemon's socket: a connection that sends
//! half a request line, or nothing at all, is closed after
//! `api-header-read-timeout`; a streaming answer (events with follow) on
//! another connection outlives that timeout untouched.

mod daemon_support;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use daemon_support::Daemon;

/// Reads until the daemon closes the connection; returns when it did.
fn closed_after(peer: &mut UnixStream, started: Instant) -> Duration {
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut buf = [0u8; 1024];
    loop {
        match peer.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) => panic!("the daemon kept the connection open: {e}"),
        }
    }
}

#[test]
fn half_a_request_or_silence_is_cut_off_while_streams_live_on() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    std::fs::write(&sb.config_file, "api-header-read-timeout = 1\n").expect("config");
    let daemon = Daemon::start(&sb, &[]);

    // A stream that must survive the header timeout.
    let mut follower = UnixStream::connect(&daemon.socket).expect("connect");
    follower
        .write_all(b"GET /v1/events?follow=true HTTP/1.1\r\nHost: stack\r\n\r\n")
        .expect("request");
    follower
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(follower.read(&mut byte).expect("answer head"), 1);
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    let started = Instant::now();
    let mut half = UnixStream::connect(&daemon.socket).expect("connect");
    half.write_all(b"GET /v1/_pi").expect("half a request line");
    let mut silent = UnixStream::connect(&daemon.socket).expect("connect");
    let half_closed = closed_after(&mut half, started);
    let silent_closed = closed_after(&mut silent, started);
    for (what, took) in [("half a request", half_closed), ("silence", silent_closed)] {
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(4),
            "{what}: closed after {took:?}, expected about 1 s"
        );
    }

    // Well past the timeout, the stream is still open: a read waits
    // instead of seeing the end.
    std::thread::sleep(Duration::from_millis(1500));
    follower
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match follower.read(&mut buf) {
            Ok(0) => panic!("the events stream was closed by the header timeout"),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("events stream: {e}"),
        }
    }
    // And the daemon still answers requests that arrive whole.
    assert!(daemon.client().ping());
    drop(follower);
    daemon.terminate();
}
