//! What the parser refuses, and that it says where.

use super::parse;

/// Parses `text`, expecting an error: its message, line and column.
fn err(text: &str) -> (String, u32, u32) {
    match parse(text) {
        Ok(df) => panic!("{text:?} should fail, got {df:?}"),
        Err(e) => (e.message.clone(), e.line, e.column),
    }
}

#[test]
fn errors_name_line_column_and_problem() {
    let table: &[(&str, &str, u32, u32)] = &[
        ("FROM a\nFORM b\n", "unknown instruction FORM", 2, 1),
        (
            "FROM a\n  COPY onlyone\n",
            "COPY requires at least two arguments",
            2,
            3,
        ),
        (
            "FROM a\nADD x\n",
            "ADD requires at least two arguments",
            2,
            1,
        ),
        (
            "FROM a\nCOPY --foo=1 a b\n",
            "unknown flag --foo for COPY",
            2,
            6,
        ),
        (
            "FROM a\nADD --from=x a b\n",
            "unknown flag --from for ADD",
            2,
            5,
        ),
        (
            "FROM a\nADD --parents a b\n",
            "unknown flag --parents for ADD",
            2,
            5,
        ),
        ("FROM a\nENV --x=1 A=1\n", "unknown flag --x for ENV", 2, 5),
        (
            "FROM a\nRUN --mount=type=nfs,target=/x true\n",
            "unsupported mount type \"nfs\"",
            2,
            5,
        ),
        (
            "FROM a\nRUN --mount=target=/x,bogus true\n",
            "invalid field 'bogus' must be a key=value pair",
            2,
            5,
        ),
        (
            "FROM a\nRUN --mount=from=$X,target=/x true\n",
            "'from' doesn't support variable expansion",
            2,
            5,
        ),
        (
            "FROM a\nRUN --network=bridge true\n",
            "unsupported network mode \"bridge\"",
            2,
            5,
        ),
        (
            "FROM a\nRUN --security=maybe true\n",
            "unsupported security mode",
            2,
            5,
        ),
        (
            "FROM a\nRUN --mount true\n",
            "flag --mount of RUN needs a value",
            2,
            5,
        ),
        (
            "FROM a\nCOPY --link=yes a b\n",
            "flag --link of COPY takes true or false",
            2,
            6,
        ),
        (
            "FROM a\nCOPY --from=a --from=b x y\n",
            "duplicate flag --from for COPY",
            2,
            15,
        ),
        (
            "FROM a\nCOPY --from=$STAGE x y\n",
            "variable expansion is not supported for --from",
            2,
            6,
        ),
        (
            "FROM a\nRUN <<EOF\necho\n",
            "unterminated heredoc EOF",
            2,
            5,
        ),
        (
            "FROM a\nCOPY <<EOF <<END /x\na\nEOF\nb\n",
            "unterminated heredoc END",
            2,
            12,
        ),
        (
            "FROM a\nCOPY a <<EOF\nx\nEOF\n",
            "COPY cannot accept a heredoc as a destination",
            2,
            1,
        ),
        ("", "file with no instructions", 1, 1),
        ("# only a comment\n\n", "file with no instructions", 3, 1),
        ("ARG A\n", "no FROM instruction", 2, 1),
        ("RUN echo\nFROM a\n", "RUN before the first FROM", 1, 1),
        (
            "ARG A\n\n  ENV B=1\nFROM a\n",
            "ENV before the first FROM",
            3,
            3,
        ),
        (
            "FROM\n",
            "FROM requires either one or three arguments",
            1,
            1,
        ),
        (
            "FROM a b\n",
            "FROM requires either one or three arguments",
            1,
            1,
        ),
        (
            "FROM a AS 1st\n",
            "invalid name for build stage: \"1st\"",
            1,
            11,
        ),
        ("FROM a AS x$y\n", "invalid name for build stage", 1, 11),
        (
            "FROM a AS x\nFROM b AS X\n",
            "duplicate stage name \"x\"",
            2,
            1,
        ),
        ("FROM --plat=x a\n", "unknown flag --plat for FROM", 1, 6),
        ("FROM a\nONBUILD ONBUILD RUN x\n", "chaining ONBUILD", 2, 9),
        (
            "FROM a\nONBUILD FROM b\n",
            "FROM isn't allowed as an ONBUILD trigger",
            2,
            9,
        ),
        (
            "FROM a\nonbuild maintainer me\n",
            "MAINTAINER isn't allowed as an ONBUILD trigger",
            2,
            9,
        ),
        (
            "FROM a\nONBUILD\n",
            "ONBUILD requires at least one argument",
            2,
            1,
        ),
        (
            "FROM a\nSHELL /bin/bash -c\n",
            "SHELL requires the arguments to be in JSON form",
            2,
            1,
        ),
        ("FROM a\nENV\n", "ENV requires at least one argument", 2, 1),
        ("FROM a\nENV ONLYKEY\n", "ENV must have two arguments", 2, 1),
        ("FROM a\nENV A=1 B\n", "can't find = in \"B\"", 2, 9),
        ("FROM a\nLABEL =x\n", "LABEL names can not be blank", 2, 7),
        ("FROM a\nARG =x\n", "ARG names can not be blank", 2, 5),
        (
            "FROM a\nWORKDIR\n",
            "WORKDIR requires exactly one argument",
            2,
            1,
        ),
        (
            "FROM a\nEXPOSE\n",
            "EXPOSE requires at least one argument",
            2,
            1,
        ),
        (
            "FROM a\nVOLUME\n",
            "VOLUME requires at least one argument",
            2,
            1,
        ),
        (
            "FROM a\nVOLUME [\"\"]\n",
            "VOLUME specified can not be an empty string",
            2,
            1,
        ),
        ("FROM a\nRUN\n", "RUN requires at least one argument", 2, 1),
        (
            "FROM a\nHEALTHCHECK NONE x\n",
            "HEALTHCHECK NONE takes no arguments",
            2,
            1,
        ),
        (
            "FROM a\nHEALTHCHECK CMD\n",
            "missing command after HEALTHCHECK CMD",
            2,
            13,
        ),
        (
            "FROM a\nHEALTHCHECK TEST x\n",
            "unknown type \"TEST\" in HEALTHCHECK",
            2,
            13,
        ),
        (
            "FROM a\nHEALTHCHECK --interval=5 CMD x\n",
            "invalid duration \"5\" for --interval",
            2,
            13,
        ),
        (
            "FROM a\nHEALTHCHECK --timeout=10us CMD x\n",
            "--timeout cannot be less than 1ms",
            2,
            13,
        ),
        (
            "FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
            "--retries must be a number",
            2,
            13,
        ),
        (
            "FROM a\nHEALTHCHECK --bogus=1 CMD x\n",
            "unknown flag --bogus for HEALTHCHECK",
            2,
            13,
        ),
        (
            "# syntax=example/frontend:2\nFROM a\n",
            "unsupported syntax example/frontend:2",
            1,
            1,
        ),
        (
            "# syntax=docker/dockerfile:2\nFROM a\n",
            "unsupported syntax docker/dockerfile:2",
            1,
            1,
        ),
        (
            "# syntax=docker/dockerfile-upstream:master\nFROM a\n",
            "unsupported syntax docker/dockerfile-upstream:master",
            1,
            1,
        ),
        (
            "# escape=x\nFROM a\n",
            "invalid escape token 'x' does not match ` or \\",
            1,
            1,
        ),
        (
            "# escape=\\\n# escape=`\nFROM a\n",
            "only one escape parser directive can be used",
            2,
            1,
        ),
    ];
    for &(text, message, line, column) in table {
        let (got, l, c) = err(text);
        assert!(
            got.contains(message),
            "{text:?}: got {got:?}, want {message:?}"
        );
        assert_eq!((l, c), (line, column), "{text:?}: {got}");
    }
}

#[test]
fn a_flag_on_a_continuation_line_is_placed_there() {
    let (msg, line, column) = err("FROM a\nCOPY --link \\\n     --bar a b\n");
    assert_eq!(msg, "unknown flag --bar for COPY");
    assert_eq!((line, column), (3, 6));
}

#[test]
fn unknown_instruction_suggests() {
    let e = parse("FROM a\nWORKDIRR /x\n").expect_err("typo");
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    assert_eq!(help.as_deref(), Some("did you mean WORKDIR?"));
}

#[test]
fn the_error_renders_with_its_snippet() {
    let e = parse("FROM alpine\nCOPY --foo=1 a b\n")
        .expect_err("bad flag")
        .with_file_name("app/Dockerfile");
    assert_eq!(
        e.to_string(),
        "app/Dockerfile:2:6: unknown flag --foo for COPY"
    );
    assert_eq!(e.span(), (17, 7));
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(200);
    handler.render_report(&mut out, &e).expect("renders");
    assert!(out.contains("app/Dockerfile:2:6"), "{out}");
    assert!(out.contains("COPY --foo=1 a b"), "{out}");
    assert!(out.contains("this flag"), "{out}");
}

#[test]
fn a_directive_after_the_top_is_a_comment_not_an_error() {
    // A second `escape` after an instruction is a plain comment.
    assert!(parse("# escape=`\nFROM a\n# escape=x\n").is_ok());
}
