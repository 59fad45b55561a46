//! Expansion rules: each operator, quoting, escapes, and which parts of
//! which instruction are expanded.

use super::expand_word;
use crate::model::{Command, InstructionKind as K};
use crate::parse;

/// `A=a`, `E=` (set, empty), `SP="x  y"`, `P=/usr/local/lib/libfoo.so.1`;
/// everything else unset.
fn env(name: &str) -> Option<String> {
    match name {
        "A" => Some("a".into()),
        "E" => Some(String::new()),
        "SP" => Some("x  y".into()),
        "P" => Some("/usr/local/lib/libfoo.so.1".into()),
        "HOME" => Some("/root".into()),
        _ => None,
    }
}

fn word(w: &str) -> String {
    match expand_word(w, &env, '\\') {
        Ok(v) => v,
        Err(e) => panic!("{w:?}: {e}"),
    }
}

#[test]
fn operators() {
    let table = [
        ("$A", "a"),
        ("${A}", "a"),
        ("x${A}y", "xay"),
        ("$A$A", "aa"),
        ("$U", ""),
        ("${U}", ""),
        ("${U:-def}", "def"),
        ("${E:-def}", "def"),
        ("${A:-def}", "a"),
        ("${U-def}", "def"),
        ("${E-def}", ""),
        ("${A-def}", "a"),
        ("${U:+alt}", ""),
        ("${E:+alt}", ""),
        ("${A:+alt}", "alt"),
        ("${U+alt}", ""),
        ("${E+alt}", "alt"),
        ("${A+alt}", "alt"),
        ("${A:?oops}", "a"),
        ("${E?oops}", ""),
        ("${U:-$A}", "a"),
        ("${U:-${HOME}/x}", "/root/x"),
        ("${U:-\"a b\"}", "a b"),
        ("${P#*/}", "usr/local/lib/libfoo.so.1"),
        ("${P##*/}", "libfoo.so.1"),
        ("${P%.*}", "/usr/local/lib/libfoo.so"),
        ("${P%%.*}", "/usr/local/lib/libfoo"),
        ("${P/lib/LIB}", "/usr/local/LIB/libfoo.so.1"),
        ("${P//lib/LIB}", "/usr/local/LIB/LIBfoo.so.1"),
        ("$", "$"),
        ("a$", "a$"),
        ("$-x", "x"),
        ("100%", "100%"),
    ];
    for (input, want) in table {
        assert_eq!(word(input), want, "{input}");
    }
}

#[test]
fn required_variables() {
    let table = [
        ("${U:?}", "U: is not allowed to be unset"),
        ("${U?must be set}", "U: must be set"),
        ("${E:?}", "E: is not allowed to be empty"),
        ("${E:?say something}", "E: say something"),
    ];
    for (input, want) in table {
        let e = expand_word(input, &env, '\\').expect_err(input);
        assert_eq!(e.problem, want, "{input}");
        assert_eq!(e.input, input);
    }
}

#[test]
fn syntax_errors() {
    let table = [
        ("${A", "syntax error: missing '}'"),
        ("${A:-x", "syntax error: missing '}'"),
        ("${}", "syntax error: bad substitution"),
        ("${:-x}", "syntax error: bad substitution"),
        ("${A:#x}", "unsupported modifier (:#) in substitution"),
        ("${A^}", "unsupported modifier (^) in substitution"),
        (
            "'open",
            "unexpected end of statement while looking for matching single-quote",
        ),
        (
            "\"open",
            "unexpected end of statement while looking for matching double-quote",
        ),
    ];
    for (input, want) in table {
        let e = expand_word(input, &env, '\\').expect_err(input);
        assert_eq!(e.problem, want, "{input}");
        assert!(e.to_string().starts_with("failed to process"), "{e}");
    }
}

#[test]
fn quotes_and_escapes() {
    let table = [
        ("'$A'", "$A"),
        ("\"$A\"", "a"),
        ("\"'$A'\"", "'a'"),
        ("'\"$A\"'", "\"$A\""),
        ("\\$A", "$A"),
        ("\\${A}", "${A}"),
        ("\"\\$A\"", "$A"),
        ("a\\ b", "a b"),
        ("\"a\\\"b\"", "a\"b"),
        ("\"a\\nb\"", "a\\nb"),
        ("x'y'z", "xyz"),
    ];
    for (input, want) in table {
        assert_eq!(word(input), want, "{input}");
    }
    // With the backtick escape, `\` is an ordinary character.
    assert_eq!(expand_word("C:\\$A", &env, '`').expect("ok"), "C:\\a");
    assert_eq!(expand_word("`$A", &env, '`').expect("ok"), "$A");
}

/// The instructions of `FROM scratch\n<text>`, each expanded with `env`.
fn expanded(text: &str) -> Vec<K> {
    let df = match parse(&format!("FROM scratch\n{text}\n")) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    };
    df.stages[0]
        .instructions
        .iter()
        .map(|i| match i.expand_with_escape(&env, df.escape) {
            Ok(i) => i.kind,
            Err(e) => panic!("{text}: {e}"),
        })
        .collect()
}

fn one(text: &str) -> K {
    expanded(text).remove(0)
}

#[test]
fn env_label_arg_are_expanded_and_unquoted() {
    let kv = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        one(r#"ENV X=$A Y="$SP z" Z='$A' W=a\ b"#),
        K::Env(kv(&[
            ("X", "a"),
            ("Y", "x  y z"),
            ("Z", "$A"),
            ("W", "a b")
        ]))
    );
    assert_eq!(
        one("ENV PATH $HOME/bin:$U"),
        K::Env(kv(&[("PATH", "/root/bin:")]))
    );
    assert_eq!(
        one("LABEL ${A}key=\"v $A\""),
        K::Label(kv(&[("akey", "v a")]))
    );
    let K::Arg(args) = one("ARG X=${A}1 Y") else {
        panic!()
    };
    assert_eq!(args[0].default.as_deref(), Some("a1"));
    assert_eq!(args[1].default, None);
}

#[test]
fn single_word_instructions() {
    assert_eq!(one("WORKDIR $HOME/app"), K::Workdir("/root/app".into()));
    assert_eq!(one("USER ${U:-nobody}"), K::User("nobody".into()));
    assert_eq!(one("STOPSIGNAL SIG$A"), K::StopSignal("SIGa".into()));
    assert_eq!(
        one("VOLUME $HOME/data /x"),
        K::Volume(vec!["/root/data".into(), "/x".into()])
    );
    // EXPOSE splits an unquoted value into ports.
    assert_eq!(
        one("EXPOSE $SP 80"),
        K::Expose(vec!["x".into(), "y".into(), "80".into()])
    );
}

#[test]
fn commands_are_left_to_the_shell() {
    let table = [
        ("RUN echo $A", "echo $A"),
        ("CMD echo $A", "echo $A"),
        ("ENTRYPOINT echo ${A}", "echo ${A}"),
    ];
    for (line, want) in table {
        let cmd = match one(line) {
            K::Run(r) => r.command,
            K::Cmd(c) | K::Entrypoint(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(cmd, Command::Shell(want.into()), "{line}");
    }
    let K::Healthcheck(Some(h)) = one("HEALTHCHECK CMD test $A") else {
        panic!()
    };
    assert_eq!(h.command, Command::Shell("test $A".into()));
    let K::Onbuild(inner) = one("ONBUILD WORKDIR $A") else {
        panic!()
    };
    assert_eq!(inner.kind, K::Workdir("$A".into()));
}

#[test]
fn copy_parts() {
    let K::Copy(c) = one("COPY --chown=$A:$A --chmod=${U:-755} --exclude=$A $A/*.txt ${HOME}/")
    else {
        panic!()
    };
    assert_eq!(c.sources, ["a/*.txt"]);
    assert_eq!(c.dest, "/root/");
    assert_eq!(c.chown.as_deref(), Some("a:a"));
    assert_eq!(c.chmod.as_deref(), Some("755"));
    // Exclude patterns are not expanded, as in Docker.
    assert_eq!(c.exclude, ["$A"]);
    let K::Add(c) = one("ADD --checksum=sha256:$A https://example.invalid/$A.tgz /") else {
        panic!()
    };
    assert_eq!(c.checksum.as_deref(), Some("sha256:a"));
    assert_eq!(c.sources, ["https://example.invalid/a.tgz"]);
}

#[test]
fn heredoc_bodies() {
    let K::Copy(c) = one("COPY <<EOF /a\nhome=$HOME \"$A\" \\$A\nEOF") else {
        panic!()
    };
    assert_eq!(c.sources, ["EOF"]);
    assert_eq!(c.heredocs[0].content, "home=/root \"a\" $A\n");
    let K::Copy(c) = one("COPY <<'EOF' /a\nhome=$HOME\nEOF") else {
        panic!()
    };
    assert_eq!(c.heredocs[0].content, "home=$HOME\n");
    // RUN bodies are the shell's.
    let K::Run(r) = one("RUN <<EOF\necho $A\nEOF") else {
        panic!()
    };
    assert_eq!(r.heredocs[0].content, "echo $A\n");
}

#[test]
fn mount_options() {
    let K::Run(r) = one("RUN --mount=type=cache,id=$A-cache,target=${HOME}/.cache true") else {
        panic!()
    };
    assert_eq!(
        r.mounts[0].options.get("id").map(String::as_str),
        Some("a-cache")
    );
    assert_eq!(
        r.mounts[0].options.get("target").map(String::as_str),
        Some("/root/.cache")
    );
    assert_eq!(r.command, Command::Shell("true".into()));
}

#[test]
fn escape_directive_applies() {
    let df = parse("# escape=`\nFROM scratch\nWORKDIR C:\\$A\\`$A\n").expect("parses");
    let ins = &df.stages[0].instructions[0];
    let got = ins.expand_with_escape(&env, df.escape).expect("expands");
    assert_eq!(got.kind, K::Workdir("C:\\a\\$A".into()));
    assert_eq!(got.span, ins.span);
}
