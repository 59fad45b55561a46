//! The docker CLI against `stack daemon`: each test starts a daemon in its
//! sandbox and runs `docker` with `DOCKER_HOST` pointing at the daemon's
//! socket (and its own empty `DOCKER_CONFIG`). Images come from a local
//! registry holding the fixture busybox as `library/busybox`, configured
//! as the daemon's mirror, so `docker pull busybox` works offline.

mod daemon_support;
mod docker_support;
mod run_support;

use daemon_support::Daemon;
use docker_support::{eventually, registry, Docker};
use run_support::describe;

#[test]
fn docker_cli_system_networks_volumes_and_errors() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let second = sb.dir().join("docker.sock");
    let second_arg = second.to_string_lossy().into_owned();
    let daemon = Daemon::start(&sb, &["--docker-socket", &second_arg]);
    let docker = Docker::new(&sb, &daemon.socket);

    let version = docker.ok(&["version"]);
    assert!(version.contains("Server: stack"), "{version}");
    assert!(version.contains("1.44 (minimum version 1.24)"), "{version}");
    let info = docker.ok(&["info"]);
    assert!(info.contains("Containers: 0"), "{info}");
    assert!(info.contains("Default Runtime: stack"), "{info}");
    let info_json = docker.ok(&["info", "--format", "{{json .}}"]);
    let info_json: serde_json::Value = serde_json::from_str(&info_json).expect("info json");
    assert_eq!(info_json["OSType"], "linux");
    assert_eq!(info_json["Swarm"]["LocalNodeState"], "inactive");

    let ps = docker.ok(&["ps", "-a"]);
    assert!(ps.starts_with("CONTAINER ID"), "{ps}");
    assert_eq!(ps.lines().count(), 1, "{ps}");
    let images = docker.ok(&["images"]);
    assert!(images.starts_with("REPOSITORY"), "{images}");

    // Networks.
    let id = docker.ok(&[
        "network",
        "create",
        "--subnet",
        "10.77.0.0/24",
        "--label",
        "team=web",
        "front",
    ]);
    assert_eq!(id.trim().len(), 64, "{id}");
    let ls = docker.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert!(ls.lines().any(|l| l == "front bridge"), "{ls}");
    let filtered = docker.ok(&["network", "ls", "-q", "--filter", "label=team=web"]);
    assert_eq!(filtered.trim(), &id.trim()[..12]);
    let inspect = docker.ok(&["network", "inspect", "front"]);
    let inspect: serde_json::Value = serde_json::from_str(&inspect).expect("json");
    assert_eq!(inspect[0]["IPAM"]["Config"][0]["Subnet"], "10.77.0.0/24");
    assert_eq!(inspect[0]["Labels"]["team"], "web");
    let err = docker.fails(&["network", "create", "front"]);
    assert!(
        err.contains("network with name front already exists"),
        "{err}"
    );
    let err = docker.fails(&["network", "create", "--driver", "macvlan", "other"]);
    assert!(err.contains("\"macvlan\" is not supported"), "{err}");
    let err = docker.fails(&["network", "create", "--ipv6", "v6"]);
    assert!(err.contains("EnableIPv6"), "{err}");
    docker.ok(&["network", "rm", "front"]);
    let err = docker.fails(&["network", "inspect", "front"]);
    assert!(err.contains("network front not found"), "{err}");

    // Volumes.
    assert_eq!(
        docker
            .ok(&["volume", "create", "--label", "a=b", "data"])
            .trim(),
        "data"
    );
    let ls = docker.ok(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"]);
    assert_eq!(ls.trim(), "local data");
    let filtered = docker.ok(&["volume", "ls", "-q", "--filter", "label=a=b"]);
    assert_eq!(filtered.trim(), "data");
    let inspect = docker.ok(&["volume", "inspect", "data"]);
    let inspect: serde_json::Value = serde_json::from_str(&inspect).expect("json");
    assert_eq!(inspect[0]["Labels"]["a"], "b");
    assert!(inspect[0]["Mountpoint"]
        .as_str()
        .is_some_and(|m| m.ends_with("/volumes/data/_data")));
    let err = docker.fails(&["volume", "create", "--opt", "type=nfs", "remote"]);
    assert!(err.contains("DriverOpts"), "{err}");
    docker.ok(&["volume", "rm", "data"]);
    let err = docker.fails(&["volume", "rm", "data"]);
    assert!(err.contains("no such volume"), "{err}");

    // Errors in Docker's words, and the endpoints not built.
    let err = docker.fails(&["stop", "nope"]);
    assert!(
        err.contains("Error response from daemon: No such container: nope"),
        "{err}"
    );
    let err = docker.fails(&["inspect", "nope"]);
    assert!(err.contains("No such object: nope"), "{err}");
    let err = docker.fails(&["commit", "nope-commit"]);
    assert!(
        err.contains("of the Docker Engine API is not implemented by stack"),
        "{err}"
    );

    // The second socket serves the same API.
    let other = Docker::new(&sb, &second);
    assert!(other.ok(&["version"]).contains("Server: stack"));
    daemon.terminate();
    assert!(!second.exists(), "the second socket is removed too");
}

#[test]
fn docker_cli_pull_run_logs_and_lifecycle() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let docker = Docker::new(&sb, &daemon.socket);

    let pulled = docker.ok(&["pull", "busybox"]);
    assert!(pulled.contains("Pulling from library/busybox"), "{pulled}");
    assert!(pulled.contains("Digest: sha256:"), "{pulled}");
    assert!(
        pulled.contains("Status: Downloaded newer image for busybox:latest"),
        "{pulled}"
    );
    let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.trim(), "busybox:latest");
    let image = docker.ok(&["image", "inspect", "busybox"]);
    let image: serde_json::Value = serde_json::from_str(&image).expect("json");
    assert_eq!(image[0]["RepoTags"][0], "busybox:latest");
    assert_eq!(image[0]["Os"], "linux");
    let err = docker.fails(&["pull", "nosuchimage"]);
    assert!(err.contains("Error response from daemon"), "{err}");

    // docker run -d, then what the other verbs see of it.
    let id = docker.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-e",
        "GREETING=hi",
        "-l",
        "team=web",
        "busybox",
        "sh",
        "-c",
        "echo out $GREETING; echo err >&2; exec sleep 100",
    ]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let ps = docker.ok(&["ps", "--format", "{{.Names}}|{{.Image}}|{{.Status}}"]);
    assert!(ps.starts_with("web|busybox|Up "), "{ps}");
    let by_label = docker.ok(&["ps", "-q", "--filter", "label=team=web"]);
    assert_eq!(by_label.trim(), &id[..12]);
    let none = docker.ok(&["ps", "-q", "--filter", "label=team=db"]);
    assert!(none.trim().is_empty(), "{none}");
    let inspect = docker.ok(&["inspect", "web"]);
    let inspect: serde_json::Value = serde_json::from_str(&inspect).expect("json");
    assert_eq!(inspect[0]["Name"], "/web");
    assert_eq!(inspect[0]["State"]["Running"], true);
    assert_eq!(inspect[0]["Config"]["Image"], "busybox");
    assert!(inspect[0]["Config"]["Env"]
        .as_array()
        .is_some_and(|e| e.iter().any(|v| v == "GREETING=hi")));
    let running = docker.ok(&["inspect", "--format", "{{.State.Status}}", "web"]);
    assert_eq!(running.trim(), "running");

    eventually("the log has both lines", || {
        let out = docker.run(&["logs", "web"]);
        String::from_utf8_lossy(&out.stdout).contains("out hi")
            && String::from_utf8_lossy(&out.stderr).contains("err")
    });
    let out = docker.run(&["logs", "web"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "out hi\n",
        "stdout alone"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "err\n",
        "stderr alone"
    );
    let out = docker.run(&["logs", "--tail", "1", "web"]);
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(both.lines().count(), 1, "{both}");
    let stamped = docker.ok(&["logs", "-t", "web"]);
    assert!(stamped.ends_with("Z out hi\n"), "{stamped}");
    let top = docker.ok(&["top", "web"]);
    assert!(top.contains("sleep 100"), "{top}");

    // Stop, start, kill, wait, remove.
    assert_eq!(docker.ok(&["stop", "-t", "1", "web"]).trim(), "web");
    let status = docker.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(status.starts_with("Exited ("), "{status}");
    assert_eq!(docker.ok(&["wait", "web"]).trim(), "137");
    docker.ok(&["start", "web"]);
    let running = docker.ok(&["inspect", "--format", "{{.State.Running}}", "web"]);
    assert_eq!(running.trim(), "true");
    docker.ok(&["kill", "web"]);
    eventually("killed", || {
        docker
            .ok(&["inspect", "--format", "{{.State.Status}}", "web"])
            .trim()
            == "exited"
    });
    let err = docker.fails(&["kill", "web"]);
    assert!(err.contains("is not running"), "{err}");
    docker.ok(&["restart", "-t", "1", "web"]);
    let err = docker.fails(&["rm", "web"]);
    assert!(err.contains("Error response from daemon"), "{err}");
    assert_eq!(docker.ok(&["rm", "-f", "web"]).trim(), "web");
    let err = docker.fails(&["logs", "web"]);
    assert!(err.contains("No such container: web"), "{err}");

    // An option stack does not map is refused by name, never dropped.
    let err = docker.fails(&["run", "-d", "--oom-score-adj", "5", "busybox", "true"]);
    assert!(
        err.contains("HostConfig.OomScoreAdj is not supported by stack"),
        "{err}"
    );
    // docker run without -d: attached output, streams apart, exit code.
    let out = docker.run(&[
        "run",
        "--name",
        "fg",
        "busybox",
        "sh",
        "-c",
        "echo hello; echo oops >&2; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n",
        "{}",
        describe(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "oops\n",
        "{}",
        describe(&out)
    );
    docker.ok(&["rm", "fg"]);
    let out = docker.ok(&["run", "--rm", "busybox", "echo", "gone"]);
    assert_eq!(out, "gone\n");
    eventually("--rm removed the container", || {
        docker.ok(&["ps", "-aq"]).trim().is_empty()
    });
    // Attached input reaches the container (more in docker_stdin.rs).
    let out = docker.run_with_input(&["run", "-i", "--name", "in", "busybox", "cat"], b"fed\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "fed\n",
        "{}",
        describe(&out)
    );
    docker.ok(&["rm", "-f", "in"]);

    // logs -f follows until the container stops.
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "talk",
        "busybox",
        "sh",
        "-c",
        "echo a; sleep 1; echo b",
    ]);
    assert_eq!(docker.ok(&["logs", "-f", "talk"]), "a\nb\n");
    docker.ok(&["rm", "talk"]);

    // A container that ends by itself; `wait` answers its code.
    docker.ok(&[
        "run", "-d", "--name", "three", "busybox", "sh", "-c", "exit 3",
    ]);
    assert_eq!(docker.ok(&["wait", "three"]).trim(), "3");
    let status = docker.ok(&[
        "ps",
        "-a",
        "--filter",
        "name=three",
        "--format",
        "{{.Status}}",
    ]);
    assert!(status.starts_with("Exited (3)"), "{status}");
    let exited = docker.ok(&["ps", "-aq", "--filter", "exited=3"]);
    assert_eq!(exited.lines().count(), 1, "{exited}");
    docker.ok(&["rm", "three"]);

    let err = docker.fails(&["rmi", "nosuchimage"]);
    assert!(err.contains("No such image: nosuchimage"), "{err}");
    let removed = docker.ok(&["rmi", "busybox"]);
    assert!(removed.contains("Untagged: busybox:latest"), "{removed}");
    assert!(docker.ok(&["images", "-q"]).trim().is_empty());
    // The runs made the default network; it is a network like the others.
    let networks = docker.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(networks.trim(), "bridge");
    docker.ok(&["network", "rm", "bridge"]);
    daemon.terminate();
    sb.assert_no_leaks();
}

#[test]
fn docker_cli_exec() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let docker = Docker::new(&sb, &daemon.socket);
    docker.ok(&["pull", "busybox"]);
    docker.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "100"]);

    assert_eq!(docker.ok(&["exec", "box", "echo", "hi"]), "hi\n");
    let out = docker.run(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "out\n",
        "{}",
        describe(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "err\n",
        "{}",
        describe(&out)
    );
    let env = docker.ok(&["exec", "-e", "A=b", "box", "sh", "-c", "echo $A"]);
    assert_eq!(env, "b\n");
    let user = docker.ok(&["exec", "-u", "1234:5678", "box", "id", "-u"]);
    assert_eq!(user.trim(), "1234");
    let dir = docker.ok(&["exec", "-w", "/tmp", "box", "pwd"]);
    assert_eq!(dir.trim(), "/tmp");
    let out = docker.run_with_input(&["exec", "-i", "box", "cat"], b"input\n");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "input\n",
        "{}",
        describe(&out)
    );
    let out = docker.run(&["exec", "box", "nosuchcommand"]);
    assert!(!out.status.success(), "{}", describe(&out));
    // Detached: it runs, the CLI returns at once.
    docker.ok(&["exec", "-d", "box", "sh", "-c", "echo later > /tmp/later"]);
    eventually("the detached exec ran", || {
        docker.run(&["exec", "box", "cat", "/tmp/later"]).stdout == b"later\n"
    });

    // -t under a terminal (script(1) gives the CLI one): a pty in the
    // container, stdout and stderr as one raw stream, the exit code.
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            "docker exec -t box sh -c 'tty; echo err >&2; exit 6'",
            "/dev/null",
        ])
        .env("DOCKER_HOST", &docker.host)
        .env("DOCKER_CONFIG", &docker.config)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/"), "{}", describe(&out));
    assert!(text.contains("err"), "{}", describe(&out));
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));

    let err = docker.fails(&["exec", "nosuch", "true"]);
    assert!(err.contains("No such container: nosuch"), "{err}");
    let err = docker.fails(&["exec", "--privileged", "box", "true"]);
    assert!(
        err.contains("Privileged is not supported by stack"),
        "{err}"
    );
    docker.ok(&["stop", "-t", "1", "box"]);
    let err = docker.fails(&["exec", "box", "true"]);
    assert!(err.contains("Error response from daemon"), "{err}");
    docker.ok(&["rm", "box"]);
    docker.ok(&["rmi", "busybox"]);
    docker.ok(&["network", "rm", "bridge"]);
    daemon.terminate();
    sb.assert_no_leaks();
}

#[test]
fn docker_cli_network_connect_and_rename_before_start() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let docker = Docker::new(&sb, &daemon.socket);
    docker.ok(&["pull", "busybox"]);
    docker.ok(&["network", "create", "one"]);
    docker.ok(&["network", "create", "two"]);
    docker.ok(&[
        "create",
        "--name",
        "joiner",
        "--network",
        "one",
        "busybox",
        "sleep",
        "100",
    ]);
    let networks = |name: &str| -> serde_json::Value {
        let out = docker.ok(&[
            "inspect",
            "--format",
            "{{json .NetworkSettings.Networks}}",
            name,
        ]);
        serde_json::from_str(&out).expect("networks json")
    };
    // A created container shows the networks it will join.
    assert!(networks("joiner")["one"].is_object());
    docker.ok(&["network", "connect", "--alias", "extra", "two", "joiner"]);
    let err = docker.fails(&["network", "connect", "two", "joiner"]);
    assert!(err.contains("already connected to network two"), "{err}");
    docker.ok(&["network", "disconnect", "one", "joiner"]);
    let err = docker.fails(&["network", "disconnect", "two", "joiner"]);
    assert!(err.contains("only network"), "{err}");
    let err = docker.fails(&["network", "connect", "nonet", "joiner"]);
    assert!(err.contains("network nonet not found"), "{err}");
    let err = docker.fails(&["network", "connect", "one", "nobody"]);
    assert!(err.contains("No such container: nobody"), "{err}");

    // A container that does not run takes a new name.
    docker.ok(&["rename", "joiner", "joined"]);
    let err = docker.fails(&["inspect", "joiner"]);
    assert!(err.contains("No such object: joiner"), "{err}");
    docker.ok(&["rename", "joined", "joiner"]);

    // Its first start joins what it then names.
    docker.ok(&["start", "joiner"]);
    let joined = networks("joiner");
    assert!(joined.get("one").is_none(), "{joined}");
    assert!(
        joined["two"]["IPAddress"]
            .as_str()
            .is_some_and(|ip| !ip.is_empty()),
        "{joined}"
    );
    assert!(
        joined["two"]["Aliases"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n == "extra")),
        "{joined}"
    );
    docker.ok(&[
        "run",
        "--rm",
        "--network",
        "two",
        "busybox",
        "nslookup",
        "extra",
    ]);
    // A started container's endpoints are not moved: refused, by name.
    let err = docker.fails(&["network", "connect", "one", "joiner"]);
    assert!(err.contains("only before its first start"), "{err}");
    let err = docker.fails(&["rename", "joiner", "other"]);
    assert!(err.contains("while it runs: stop it first"), "{err}");

    docker.ok(&["rm", "-f", "joiner"]);
    docker.ok(&["network", "rm", "one", "two"]);
    docker.ok(&["rmi", "busybox"]);
    daemon.terminate();
    sb.assert_no_leaks();
}
