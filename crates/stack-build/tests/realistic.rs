//! Dockerfiles as projects write them, read whole: stages, their
//! instructions, expansion with the values an executor would give, and
//! the stages a target needs.

use stack_build::model::{Command, InstructionKind as K};
use stack_build::{parse, IgnoreMatcher};

const GO: &str = r#"# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first, for the cache.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build --chown=nonroot:nonroot /out/server /server
EXPOSE 8080/tcp
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["/server", "-health"]
ENTRYPOINT ["/server"]
"#;

#[test]
fn go_service() {
    let df = parse(GO).expect("parses");
    assert_eq!(df.syntax.as_deref(), Some("docker/dockerfile:1.7"));
    assert_eq!(df.global_args.len(), 1);
    assert_eq!(df.stages.len(), 2);
    let build = &df.stages[0];
    assert_eq!(build.name.as_deref(), Some("build"));
    assert_eq!(build.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(build.instructions.len(), 6);
    let K::Run(run) = &build.instructions[5].kind else {
        panic!("RUN")
    };
    assert_eq!(run.mounts.len(), 2);
    let Command::Shell(script) = &run.command else {
        panic!("shell form")
    };
    assert!(script.starts_with("CGO_ENABLED=0"), "{script}");
    assert!(script.ends_with("./cmd/server"), "{script}");
    assert_eq!(build.instructions[5].span.line, 12);

    let args = |n: &str| (n == "GO_VERSION").then(|| "1.22".to_string());
    let base = stack_build::expand_word(&build.base, &args, df.escape).expect("expands");
    assert_eq!(base, "golang:1.22-bookworm");

    let runtime = &df.stages[1];
    let K::Healthcheck(Some(h)) = &runtime.instructions[3].kind else {
        panic!("HEALTHCHECK")
    };
    assert_eq!(
        h.command,
        Command::Exec(vec!["/server".into(), "-health".into()])
    );
    assert_eq!(h.retries, Some(3));
    assert_eq!(df.needed_stages(None), Ok(vec![0, 1]));
    assert_eq!(df.needed_stages(Some("build")), Ok(vec![0]));
}

const PYTHON: &str = r#"FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_HOME=/app
WORKDIR $APP_HOME

FROM base AS deps
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

FROM deps AS test
COPY . .
RUN python -m pytest -q

FROM deps AS final
RUN useradd --create-home app
COPY --chown=app:app . .
COPY <<EOF /etc/app/settings.ini
[server]
home = ${APP_HOME}
EOF
RUN <<-SH
	set -e
	python -m compileall -q .
	SH
USER app
LABEL org.opencontainers.image.source="https://example.invalid/app" \
      org.opencontainers.image.title="Example app"
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:wsgi"]
"#;

#[test]
fn python_service() {
    let df = parse(PYTHON).expect("parses");
    assert_eq!(df.stages.len(), 4);
    assert_eq!(df.needed_stages(None), Ok(vec![0, 1, 3]));
    assert_eq!(df.needed_stages(Some("test")), Ok(vec![0, 1, 2]));

    let env: Vec<(String, String)> = match &df.stages[0].instructions[0].kind {
        K::Env(kv) => kv.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(env.len(), 3);
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let workdir = df.stages[0].instructions[1]
        .expand(&lookup)
        .expect("expands");
    assert_eq!(workdir.kind, K::Workdir("/app".into()));

    let final_stage = &df.stages[3];
    let copy = final_stage.instructions[2]
        .expand(&lookup)
        .expect("expands");
    let K::Copy(c) = copy.kind else {
        panic!("COPY")
    };
    assert_eq!(c.heredocs[0].content, "[server]\nhome = /app\n");
    let K::Run(r) = &final_stage.instructions[3].kind else {
        panic!("RUN")
    };
    assert_eq!(r.heredocs[0].content, "set -e\npython -m compileall -q .\n");
    let label = final_stage.instructions[5]
        .expand(&lookup)
        .expect("expands");
    let K::Label(kv) = label.kind else {
        panic!("LABEL")
    };
    assert_eq!(
        kv[1],
        (
            "org.opencontainers.image.title".into(),
            "Example app".into()
        )
    );
}

const NODE: &str = r#"
# A Node app: install, build, serve with nginx.
ARG NODE=20
FROM node:${NODE}-alpine AS install
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci

FROM install AS build
COPY . .
RUN npm run build

FROM nginx:1.27-alpine
COPY --from=build /app/dist /usr/share/nginx/html
COPY --link nginx.conf /etc/nginx/conf.d/default.conf
EXPOSE 80
STOPSIGNAL SIGQUIT
ONBUILD COPY . /usr/share/nginx/html
"#;

#[test]
fn node_frontend() {
    let df = parse(NODE).expect("parses");
    assert_eq!(df.needed_stages(None), Ok(vec![0, 1, 2]));
    let last = &df.stages[2];
    assert_eq!(last.name, None);
    let K::Onbuild(inner) = &last.instructions[4].kind else {
        panic!("ONBUILD")
    };
    assert!(matches!(inner.kind, K::Copy(_)));

    let ignore =
        IgnoreMatcher::parse("node_modules\ndist\n*.log\n!important.log\n.git\n").expect("valid");
    let paths = [
        "src/index.ts",
        "node_modules/react/index.js",
        "dist/app.js",
        "debug.log",
        "important.log",
        ".git/HEAD",
        "package.json",
    ];
    let kept: Vec<&str> = paths.into_iter().filter(|p| !ignore.matches(p)).collect();
    assert_eq!(kept, ["src/index.ts", "important.log", "package.json"]);
}

/// Every prefix of every file above, and a few odd texts: each parses or
/// fails with an error that renders; nothing panics.
#[test]
fn every_prefix_parses_or_fails_cleanly() {
    let odd = [
        "FROM a\nRUN é \\\n  ü --x\nCOPY --ü=1 a b\n",
        "FROM a\nRUN <<\"EOF\nx\n",
        "FROM a\nCOPY <<EOF\n",
        "\u{feff}",
        "#escape=`\nFROM a\nRUN `",
        "FROM a\nENV a=\"b\\",
        "FROM a\nHEALTHCHECK --interval=1é CMD x\n",
    ];
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    for text in [GO, PYTHON, NODE].into_iter().chain(odd) {
        for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
            if let Err(e) = parse(&text[..end]) {
                let mut out = String::new();
                handler.render_report(&mut out, &e).expect("renders");
            }
        }
    }
}
