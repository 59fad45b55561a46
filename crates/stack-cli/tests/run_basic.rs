//! `stack run` end to end: output, exit codes, user and groups, env,
//! working directory, hostname, mounts, and nothing left after --rm.

mod run_support;

use run_support::*;

#[test]
fn echo_prints_and_exit_codes_pass_through() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let (code, out, err) = run_in(&sb, &root, &[], &["echo", "hello"]);
    assert_eq!((code, out.as_str()), (0, "hello\n"), "stderr: {err}");
    assert_eq!(run_in(&sb, &root, &[], &["sh", "-c", "exit 7"]).0, 7);
    // PID 1 cannot be killed from inside its namespace; under --init the
    // shell is PID 2 and init reports its death by SIGKILL as 137.
    assert_eq!(
        run_in(&sb, &root, &["--init"], &["sh", "-c", "kill -9 $$"]).0,
        137
    );
    let (code, _, err) = run_in(&sb, &root, &[], &["no-such-command"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no-such-command"),
        "error names the program: {err}"
    );
    assert_clean(&sb);
}

#[test]
fn user_groups_env_workdir_and_hostname() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let (code, out, err) = run_in(
        &sb,
        &root,
        &["-u", "alice", "-e", "GREETING=hi", "-w", "/tmp"],
        &["sh", "-c", "id; echo $GREETING $HOME; pwd"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "uid=1000(alice) gid=1000(alice) groups=10(wheel),29(audio)\nhi /home/alice\n/tmp\n"
    );
    let (_, out, _) = run_in(&sb, &root, &["-u", "1000:29"], &["id"]);
    assert_eq!(
        out.trim(),
        "uid=1000(alice) gid=29(audio) groups=10(wheel),29(audio)"
    );
    let (code, _, err) = run_in(&sb, &root, &["-u", "mallory"], &["id"]);
    assert_ne!(code, 0);
    assert!(err.contains("mallory"), "{err}");
    let (_, out, _) = run_in(
        &sb,
        &root,
        &["--name", "named"],
        &[
            "sh",
            "-c",
            "hostname; cat /etc/hostname; grep -c localhost /etc/hosts",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], lines[1]);
    assert_eq!(lines[0].len(), 12);
    assert_clean(&sb);
}

#[test]
fn read_only_rootfs_tmpfs_binds_and_volumes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let (code, out, err) = run_in(&sb, &root, &["--read-only", "--tmpfs", "/scratch:size=1m,mode=700"], &["sh", "-c", "touch /x 2>&1; echo ok > /scratch/f && cat /scratch/f; stat -c %a /scratch; grep ' /scratch ' /proc/mounts"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("ok\n700\n"), "{out}");
    assert!(out.contains("size=1024k"), "{out}");
    let host_dir = sb.dir().join("shared");
    std::fs::create_dir_all(&host_dir).expect("host dir");
    std::fs::write(host_dir.join("in.txt"), "host file\n").expect("host file");
    let bind_rw = format!("{}:/mnt/rw", host_dir.display());
    let bind_ro = format!("{}:/mnt/ro:ro", host_dir.display());
    let (code, out, err) = run_in(&sb, &root, &["-v", &bind_rw, "-v", &bind_ro], &["sh", "-c", "cat /mnt/ro/in.txt; echo out > /mnt/rw/out.txt; echo x > /mnt/ro/y 2>/dev/null || echo refused"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "host file\nrefused\n");
    assert_eq!(
        std::fs::read_to_string(host_dir.join("out.txt")).expect("written through"),
        "out\n"
    );
    // A new named volume starts with the image's content, then keeps its own.
    let (_, out, _) = run_in(
        &sb,
        &root,
        &["-v", "vol1:/data"],
        &["sh", "-c", "cat /data/seed.txt; echo kept > /data/new.txt"],
    );
    assert_eq!(out, "from the image\n");
    let data = sb.state_root.join("volumes/vol1/_data");
    assert_eq!(
        std::fs::read_to_string(data.join("new.txt")).expect("volume data"),
        "kept\n"
    );
    let (_, out, _) = run_in(&sb, &root, &["-v", "vol1:/data"], &["cat", "/data/new.txt"]);
    assert_eq!(out, "kept\n");
    assert_clean(&sb);
}

#[test]
fn stdin_attach_and_tty() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let root_arg = root.to_str().expect("path");
    let mut child = sb
        .command(stack_bin())
        .args([
            "run",
            "--rm",
            "-i",
            "--rootfs",
            root_arg,
            "sh",
            "-c",
            "read line; echo got:$line",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn stack run -i");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"ping\n").expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got:ping\n");
    // -t under a pseudo-terminal (util-linux `script` provides one).
    let cmd = format!(
        "{} run --rm -t --rootfs {root_arg} sh -c '[ -t 0 ] && [ -t 1 ] && echo on-a-tty; exit 4'",
        stack_bin()
    );
    let out = sb
        .command("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script");
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("on-a-tty"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_clean(&sb);
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_nothing_made() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let err = |args: &[&str]| {
        let out = stack(&sb, args);
        assert!(!out.status.success(), "{args:?} must fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let r = root.to_str().expect("path");
    assert!(err(&["run", "--network", "nowhere", "--rootfs", r, "true"]).contains("nowhere"));
    assert!(err(&["run", "--memory", "lots", "--rootfs", r, "true"]).contains("lots"));
    assert!(err(&["run", "-v", "/no/such/dir:/x", "--rootfs", r, "true"]).contains("/no/such/dir"));
    assert!(err(&["run", "--cap-add", "SYS_MAGIC", "--rootfs", r, "true"]).contains("SYS_MAGIC"));
    assert!(err(&["run", "--rootfs", "/no/such/rootfs", "true"]).contains("/no/such/rootfs"));
    assert!(err(&["container", "stop", "missing"]).contains("missing"));
    let left: Vec<_> = std::fs::read_dir(sb.state_root.join("containers"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        left.len() <= 1,
        "only the capability case gets a record (it fails at start): {left:?}"
    );
    assert!(stack(&sb, &["container", "ls", "-a", "-q"])
        .status
        .success());
    for id in String::from_utf8_lossy(&stack(&sb, &["container", "ls", "-a", "-q"]).stdout).lines()
    {
        assert!(stack(&sb, &["container", "rm", id]).status.success());
    }
    assert_clean(&sb);
}
