//! Parser rules, one at a time.

use std::collections::BTreeMap;

use super::parse;
use crate::model::{
    ArgDecl, Command, Dockerfile, Healthcheck, Heredoc, InstructionKind as K, RunMount,
};

fn ok(text: &str) -> Dockerfile {
    match parse(text) {
        Ok(df) => df,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

/// The instructions of the last stage.
fn kinds(text: &str) -> Vec<K> {
    let df = ok(text);
    let stage = df.stages.last().expect("a stage");
    stage.instructions.iter().map(|i| i.kind.clone()).collect()
}

/// The one instruction after `FROM scratch`.
fn one(line: &str) -> K {
    let mut all = kinds(&format!("FROM scratch\n{line}\n"));
    assert_eq!(all.len(), 1, "{line:?} gave {all:?}");
    all.remove(0)
}

fn shell(s: &str) -> Command {
    Command::Shell(s.into())
}

fn exec(words: &[&str]) -> Command {
    Command::Exec(words.iter().map(|w| w.to_string()).collect())
}

fn run_of(k: K) -> crate::model::Run {
    match k {
        K::Run(r) => r,
        other => panic!("not RUN: {other:?}"),
    }
}

fn copy_of(k: K) -> crate::model::Copy {
    match k {
        K::Copy(c) | K::Add(c) => c,
        other => panic!("not COPY/ADD: {other:?}"),
    }
}

fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn keywords_are_case_insensitive() {
    for line in ["run echo hi", "Run echo hi", "RUN echo hi", "rUn   echo hi"] {
        assert_eq!(run_of(one(line)).command, shell("echo hi"), "{line}");
    }
    assert_eq!(
        ok("from alpine as Build\n").stages[0].name.as_deref(),
        Some("build")
    );
}

#[test]
fn json_form_and_shell_form() {
    let table: &[(&str, Command)] = &[
        (r#"CMD ["a", "b c"]"#, exec(&["a", "b c"])),
        (r#"CMD   [ "a" ]  "#, exec(&["a"])),
        ("CMD echo hi", shell("echo hi")),
        // Not JSON: the shell form, as written.
        ("CMD [a, b]", shell("[a, b]")),
        (r#"CMD ["a", "b""#, shell(r#"["a", "b""#)),
        (r#"CMD echo ["a"]"#, shell(r#"echo ["a"]"#)),
        ("CMD []", exec(&[])),
        (
            r#"ENTRYPOINT ["/bin/app", "--flag"]"#,
            exec(&["/bin/app", "--flag"]),
        ),
        ("ENTRYPOINT /bin/app run", shell("/bin/app run")),
    ];
    for (line, want) in table {
        let got = match one(line) {
            K::Cmd(c) | K::Entrypoint(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(&got, want, "{line}");
    }
    assert_eq!(
        run_of(one(r#"RUN ["sh", "-c", "x"]"#)).command,
        exec(&["sh", "-c", "x"])
    );
    assert_eq!(one("ENTRYPOINT"), K::Entrypoint(exec(&[])));
}

#[test]
fn json_array_of_non_strings_is_an_error() {
    let e = parse("FROM scratch\nCMD [\"a\", 1]\n").expect_err("not strings");
    assert!(
        e.message
            .contains("arrays must be comprised of strings only"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (2, 1));
}

#[test]
fn continuation_comments_and_blank_lines() {
    let text = "FROM alpine\nRUN apk add \\\n    # a comment inside\n\n    curl \\\n  \t\n    git\n# after\nRUN b\n";
    let k = kinds(text);
    assert_eq!(k.len(), 2);
    assert_eq!(
        run_of(k[0].clone()).command,
        shell("apk add     curl     git")
    );
    let df = ok(text);
    let first = &df.stages[0].instructions[0];
    assert_eq!((first.span.line, first.span.column), (2, 1));
    assert_eq!(first.source, "RUN apk add     curl     git");
    assert_eq!(df.stages[0].instructions[1].span.line, 9);
}

#[test]
fn escaped_escape_is_not_a_continuation() {
    let k = kinds("FROM a\nRUN echo a\\\\\nRUN echo b\n");
    assert_eq!(k.len(), 2);
    assert_eq!(run_of(k[0].clone()).command, shell("echo a\\\\"));
}

#[test]
fn trailing_blanks_after_the_escape_still_continue() {
    let k = kinds("FROM a\nRUN echo a \\  \t\n  b\n");
    assert_eq!(run_of(k[0].clone()).command, shell("echo a   b"));
}

#[test]
fn comment_lines_and_indented_instructions() {
    let k = kinds("# top\nFROM a\n   # indented comment\n   RUN x\n");
    assert_eq!(k, vec![K::Run(run_of(one("RUN x")))]);
}

#[test]
fn escape_directive_backtick() {
    let text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir C:\\ `\n    && echo done\nCOPY a.txt C:\\dest\\\n";
    let df = ok(text);
    assert_eq!(df.escape, '`');
    let k = &df.stages[0].instructions;
    assert_eq!(
        run_of(k[0].kind.clone()).command,
        shell("dir C:\\     && echo done")
    );
    let c = copy_of(k[1].kind.clone());
    assert_eq!(c.dest, "C:\\dest\\");
}

#[test]
fn directives_only_at_the_top() {
    let table = [
        ("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n", '`'),
        ("# ESCAPE = `\nFROM a\n", '`'),
        ("#escape=`\nFROM a\n", '`'),
        // After a comment, an empty line, or an instruction: a comment.
        ("# hello\n# escape=`\nFROM a\n", '\\'),
        ("\n# escape=`\nFROM a\n", '\\'),
        ("FROM a\n# escape=`\n", '\\'),
        // An unknown key ends the directives too.
        ("# foo=bar\n# escape=`\nFROM a\n", '\\'),
    ];
    for (text, escape) in table {
        assert_eq!(ok(text).escape, escape, "{text:?}");
    }
    assert_eq!(
        ok("# syntax = docker/dockerfile:1.7\nFROM a\n")
            .syntax
            .as_deref(),
        Some("docker/dockerfile:1.7")
    );
}

#[test]
fn supported_syntax_values() {
    for s in [
        "docker/dockerfile:1",
        "docker/dockerfile:1.7",
        "docker/dockerfile:1-labs",
        "docker/dockerfile:1.7-labs",
        "docker/dockerfile",
        "docker.io/docker/dockerfile:1",
        "docker/dockerfile:1@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
    ] {
        assert!(parse(&format!("# syntax={s}\nFROM a\n")).is_ok(), "{s}");
    }
}

#[test]
fn heredoc_run_script() {
    let r = run_of(one(
        "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF",
    ));
    assert_eq!(r.command, shell("<<EOF"));
    assert_eq!(
        r.heredocs,
        vec![Heredoc {
            name: "EOF".into(),
            content: "apt-get update\napt-get install -y curl\n".into(),
            strip_tabs: false,
            quoted: false,
        }]
    );
}

#[test]
fn heredoc_forms() {
    let r = run_of(one("RUN <<-EOT bash\n\t\techo $HOME\n\tEOT"));
    assert_eq!(r.command, shell("<<-EOT bash"));
    assert_eq!(r.heredocs[0].content, "echo $HOME\n");
    assert!(r.heredocs[0].strip_tabs);
    for marker in [r#"<<"EOF""#, "<<'EOF'"] {
        let r = run_of(one(&format!("RUN cat {marker} > /x\n$NOT\nEOF")));
        assert!(r.heredocs[0].quoted, "{marker}");
        assert_eq!(r.heredocs[0].name, "EOF");
    }
    // Two on one line, read one after the other; a file descriptor prefix.
    let r = run_of(one("RUN python3 <<PY 3<<DATA\nprint(1)\nPY\nx y\nDATA"));
    let names: Vec<&str> = r.heredocs.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["PY", "DATA"]);
    assert_eq!(r.heredocs[1].content, "x y\n");
    // The body is raw: comments and continuations are content.
    let r = run_of(one("RUN <<EOF\n# not a comment \\\nEOF"));
    assert_eq!(r.heredocs[0].content, "# not a comment \\\n");
    // `<< EOF` with a blank is a marker too.
    assert_eq!(run_of(one("RUN cat << EOF\nx\nEOF")).heredocs.len(), 1);
}

#[test]
fn heredoc_not_in_json_form_or_other_instructions() {
    let df = ok("FROM a\nRUN [\"cat\", \"<<EOF\"]\nCMD cat <<EOF\n");
    assert_eq!(df.stages[0].instructions.len(), 2);
}

#[test]
fn heredoc_spans_cover_the_body() {
    let df = ok("FROM a\nRUN <<EOF\nx\nEOF\nRUN y\n");
    let ins = &df.stages[0].instructions;
    assert_eq!(ins[0].span.len as usize, "RUN <<EOF\nx\nEOF".len());
    assert_eq!(ins[1].span.line, 5);
}

#[test]
fn heredoc_copy_sources() {
    let c = copy_of(one("COPY <<EOF /etc/app.conf\nport=${PORT}\nEOF"));
    assert_eq!(c.sources, ["EOF"]);
    assert_eq!(c.dest, "/etc/app.conf");
    assert_eq!(c.heredocs[0].content, "port=${PORT}\n");
    let c = copy_of(one("COPY --chmod=0755 <<A <<B real.txt /dst/\na\nA\nb\nB"));
    assert_eq!(c.sources, ["A", "B", "real.txt"]);
    assert_eq!(c.heredocs.len(), 2);
    assert_eq!(c.chmod.as_deref(), Some("0755"));
}

#[test]
fn flags_of_copy_and_add() {
    let c = copy_of(one(
        "COPY --from=build --chown=app:app --chmod=644 --link --exclude=*.md --exclude=test/ --parents a b /dst/",
    ));
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("app:app"));
    assert_eq!(c.chmod.as_deref(), Some("644"));
    assert!(c.link && c.parents && !c.keep_git_dir);
    assert_eq!(c.exclude, ["*.md", "test/"]);
    assert_eq!(c.sources, ["a", "b"]);
    assert_eq!(c.dest, "/dst/");
    let c = copy_of(one("COPY --link=false a b"));
    assert!(!c.link);
    let c = copy_of(one(
        "ADD --checksum=sha256:abc --keep-git-dir=true https://example.invalid/x.tar.gz /x/",
    ));
    assert_eq!(c.checksum.as_deref(), Some("sha256:abc"));
    assert!(c.keep_git_dir);
    let c = copy_of(one(r#"COPY ["a b", "/c d/"]"#));
    assert_eq!(
        (c.sources, c.dest),
        (vec!["a b".to_string()], "/c d/".to_string())
    );
    // Quotes in a flag value are removed; `--` ends the flags.
    let c = copy_of(one(r#"COPY --chown="a b" -- --weird /x"#));
    assert_eq!(c.chown.as_deref(), Some("a b"));
    assert_eq!(c.sources, ["--weird"]);
}

#[test]
fn run_flags_and_mounts() {
    let r = run_of(one(
        "RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=target=/src,ro --network=none --security=insecure make",
    ));
    assert_eq!(r.command, shell("make"));
    let cache = BTreeMap::from([
        ("target".to_string(), "/root/.cache".to_string()),
        ("sharing".to_string(), "locked".to_string()),
    ]);
    let bind = BTreeMap::from([
        ("target".to_string(), "/src".to_string()),
        ("ro".to_string(), "true".to_string()),
    ]);
    assert_eq!(
        r.mounts,
        vec![
            RunMount {
                kind: "cache".into(),
                options: cache
            },
            RunMount {
                kind: "bind".into(),
                options: bind
            },
        ]
    );
    assert_eq!(r.network.as_deref(), Some("none"));
    assert_eq!(r.security.as_deref(), Some("insecure"));
    // CSV quoting inside the value (the flag's own quotes go first, as in
    // Docker), and keys lower-cased.
    let r = run_of(one(
        r#"RUN --mount='type=secret,ID=tok,"target=/run/a,b"' true"#,
    ));
    assert_eq!(r.mounts[0].kind, "secret");
    assert_eq!(
        r.mounts[0].options.get("id").map(String::as_str),
        Some("tok")
    );
    assert_eq!(
        r.mounts[0].options.get("target").map(String::as_str),
        Some("/run/a,b")
    );
}

#[test]
fn env_forms() {
    let table: &[(&str, &[(&str, &str)])] = &[
        ("ENV A=1", &[("A", "1")]),
        (
            r#"ENV A=1 B="two words" C='x y'"#,
            &[("A", "1"), ("B", "\"two words\""), ("C", "'x y'")],
        ),
        (r"ENV A=one\ two", &[("A", r"one\ two")]),
        ("ENV EMPTY=", &[("EMPTY", "")]),
        // The legacy form: the rest of the line is the value.
        (
            "ENV PATH /usr/local/bin:$PATH",
            &[("PATH", "/usr/local/bin:$PATH")],
        ),
        (
            "ENV GREETING  hello  world ",
            &[("GREETING", "hello  world")],
        ),
        (
            "LABEL org.opencontainers.image.title=\"My app\" version=1",
            &[
                ("org.opencontainers.image.title", "\"My app\""),
                ("version", "1"),
            ],
        ),
    ];
    for (line, want) in table {
        let got = match one(line) {
            K::Env(kv) | K::Label(kv) => kv,
            other => panic!("{other:?}"),
        };
        assert_eq!(got, pairs(want), "{line}");
    }
}

#[test]
fn arg_forms() {
    let got = one("ARG A B=2 C=\"x y\"");
    let want = K::Arg(vec![
        ArgDecl {
            name: "A".into(),
            default: None,
        },
        ArgDecl {
            name: "B".into(),
            default: Some("2".into()),
        },
        ArgDecl {
            name: "C".into(),
            default: Some("\"x y\"".into()),
        },
    ]);
    assert_eq!(got, want);
}

#[test]
fn global_args_and_stages() {
    let df = ok("ARG BASE=alpine\nARG V\nFROM --platform=$BUILDPLATFORM ${BASE}:3 AS Build\nRUN x\nFROM build\n");
    assert_eq!(df.global_args.len(), 2);
    assert_eq!(df.global_args[0].default.as_deref(), Some("alpine"));
    assert_eq!(df.stages.len(), 2);
    let s = &df.stages[0];
    assert_eq!(
        (s.index, s.name.as_deref(), s.base.as_str()),
        (0, Some("build"), "${BASE}:3")
    );
    assert_eq!(s.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(s.span.line, 3);
    assert_eq!(df.stages[1].base, "build");
    assert_eq!(df.stages[1].index, 1);
    assert!(df.stages[1].instructions.is_empty());
}

#[test]
fn simple_instructions() {
    assert_eq!(one("WORKDIR /app"), K::Workdir("/app".into()));
    assert_eq!(one("USER app:app"), K::User("app:app".into()));
    assert_eq!(one("STOPSIGNAL SIGTERM"), K::StopSignal("SIGTERM".into()));
    assert_eq!(
        one("MAINTAINER Jo <jo@example.invalid>"),
        K::Maintainer("Jo <jo@example.invalid>".into())
    );
    assert_eq!(
        one("EXPOSE 80 53/udp  8080"),
        K::Expose(vec!["80".into(), "53/udp".into(), "8080".into()])
    );
    assert_eq!(
        one("VOLUME /data /logs"),
        K::Volume(vec!["/data".into(), "/logs".into()])
    );
    assert_eq!(
        one(r#"VOLUME ["/data", "/x y"]"#),
        K::Volume(vec!["/data".into(), "/x y".into()])
    );
    assert_eq!(
        one(r#"SHELL ["powershell", "-Command"]"#),
        K::Shell(vec!["powershell".into(), "-Command".into()])
    );
}

#[test]
fn healthcheck_forms() {
    assert_eq!(one("HEALTHCHECK NONE"), K::Healthcheck(None));
    assert_eq!(one("healthcheck none"), K::Healthcheck(None));
    let want = Healthcheck {
        command: shell("curl -f http://localhost/ || exit 1"),
        interval: Some("30s".into()),
        timeout: Some("1m30s".into()),
        start_period: Some("5s".into()),
        start_interval: Some("500ms".into()),
        retries: Some(3),
    };
    let got = one("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1");
    assert_eq!(got, K::Healthcheck(Some(want)));
    let got = one(r#"HEALTHCHECK cmd ["/bin/check", "-q"]"#);
    let K::Healthcheck(Some(h)) = got else {
        panic!("{got:?}")
    };
    assert_eq!(h.command, exec(&["/bin/check", "-q"]));
    assert_eq!(h.retries, None);
}

#[test]
fn onbuild_keeps_the_trigger() {
    let K::Onbuild(inner) = one("ONBUILD COPY . /app/src") else {
        panic!()
    };
    assert_eq!(inner.source, "COPY . /app/src");
    assert_eq!(inner.span.column, 9);
    assert_eq!(copy_of(inner.kind).dest, "/app/src");
    let K::Onbuild(inner) = one("ONBUILD RUN <<EOF\necho hi\nEOF") else {
        panic!()
    };
    assert_eq!(run_of(inner.kind).heredocs[0].content, "echo hi\n");
}

#[test]
fn crlf_and_bom() {
    let df = ok("\u{feff}# escape=`\r\nFROM a\r\nRUN x `\r\n  y\r\n");
    assert_eq!(df.escape, '`');
    assert_eq!(
        run_of(df.stages[0].instructions[0].kind.clone()).command,
        shell("x   y")
    );
}
