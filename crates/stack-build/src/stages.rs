//! Which stages a build needs: the target (the last stage unless named)
//! and, transitively, every stage it is built `FROM` or copies or mounts
//! from (`COPY --from`, `RUN --mount=from=`), in an order where each
//! stage comes after the stages it needs. Stages nobody needs are never
//! built, as with BuildKit.

use crate::expand::expand_word;
use crate::model::{Dockerfile, InstructionKind};

/// A target or stage reference that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error("target stage {0:?} could not be found")]
    UnknownTarget(String),
    #[error("stage {stage} refers to stage index {index}, but the Dockerfile has {count} stages")]
    BadIndex {
        stage: usize,
        index: usize,
        count: usize,
    },
    #[error("circular dependency between build stages: {}", .0.iter().map(usize::to_string).collect::<Vec<_>>().join(" -> "))]
    Cycle(Vec<usize>),
}

impl Dockerfile {
    /// The stage a name (`AS name`, compared case-insensitively) or an
    /// index (`COPY --from=0`) refers to. A name wins over an index.
    pub fn stage_index(&self, name_or_index: &str) -> Option<usize> {
        let lower = name_or_index.to_ascii_lowercase();
        self.stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| {
                name_or_index
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < self.stages.len())
            })
    }

    /// The stages to build for `target` (default: the last stage), each
    /// after the stages it needs. `FROM` bases are expanded with the
    /// global `ARG` defaults; use [`Dockerfile::needed_stages_with`] when
    /// build arguments override them.
    pub fn needed_stages(&self, target: Option<&str>) -> Result<Vec<usize>, StageError> {
        let defaults = |name: &str| {
            self.global_args
                .iter()
                .rev()
                .find(|a| a.name == name)
                .and_then(|a| a.default.clone())
        };
        self.needed_stages_with(target, &defaults)
    }

    /// [`Dockerfile::needed_stages`] with `global` answering the global
    /// `ARG` values (defaults overridden by build arguments).
    pub fn needed_stages_with(
        &self,
        target: Option<&str>,
        global: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<usize>, StageError> {
        let start = match target {
            None => self.stages.len().checked_sub(1),
            Some(t) => Some(
                self.stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(t.to_ascii_lowercase().as_str()))
                    .ok_or_else(|| StageError::UnknownTarget(t.to_string()))?,
            ),
        };
        let Some(start) = start else {
            return Ok(Vec::new());
        };
        let mut state = vec![Visit::New; self.stages.len()];
        let mut order = Vec::new();
        let mut path = Vec::new();
        self.visit(start, global, &mut state, &mut order, &mut path)?;
        Ok(order)
    }

    fn visit(
        &self,
        i: usize,
        global: &dyn Fn(&str) -> Option<String>,
        state: &mut [Visit],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
    ) -> Result<(), StageError> {
        match state.get(i) {
            Some(Visit::Done) | None => return Ok(()),
            Some(Visit::Open) => {
                let from = path.iter().position(|p| *p == i).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(i);
                return Err(StageError::Cycle(cycle));
            }
            Some(Visit::New) => {}
        }
        state[i] = Visit::Open;
        path.push(i);
        for dep in self.stage_dependencies(i, global)? {
            self.visit(dep, global, state, order, path)?;
        }
        path.pop();
        state[i] = Visit::Done;
        order.push(i);
        Ok(())
    }

    /// The stages stage `i` needs directly, in ascending order: its base
    /// when that names an earlier stage, and every stage named or indexed
    /// by `COPY --from` or `RUN --mount=from=` (other names are images).
    pub fn stage_dependencies(
        &self,
        i: usize,
        global: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<usize>, StageError> {
        let Some(stage) = self.stages.get(i) else {
            return Ok(Vec::new());
        };
        let mut deps = Vec::new();
        let base = expand_word(&stage.base, global, self.escape)
            .unwrap_or_else(|_| stage.base.clone())
            .to_ascii_lowercase();
        if let Some(j) = self.stages[..i]
            .iter()
            .position(|s| s.name.as_deref() == Some(base.as_str()))
        {
            deps.push(j);
        }
        for ins in &stage.instructions {
            let refs: Vec<&str> = match &ins.kind {
                InstructionKind::Copy(c) | InstructionKind::Add(c) => {
                    c.from.as_deref().into_iter().collect()
                }
                InstructionKind::Run(r) => r
                    .mounts
                    .iter()
                    .filter_map(|m| m.options.get("from").map(String::as_str))
                    .collect(),
                _ => Vec::new(),
            };
            for r in refs {
                if let Some(j) = self.stage_ref(i, r)? {
                    deps.push(j);
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        Ok(deps)
    }

    /// A `--from` value: a stage name, a stage index, or an image.
    fn stage_ref(&self, stage: usize, r: &str) -> Result<Option<usize>, StageError> {
        let lower = r.to_ascii_lowercase();
        if let Some(j) = self
            .stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            return Ok(Some(j));
        }
        match r.parse::<usize>() {
            Ok(index) if index < self.stages.len() => Ok(Some(index)),
            Ok(index) => Err(StageError::BadIndex {
                stage,
                index,
                count: self.stages.len(),
            }),
            Err(_) => Ok(None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    Open,
    Done,
}

#[cfg(test)]
mod tests {
    use super::StageError;
    use crate::parse;

    const MULTI: &str = "\
ARG GO=1.22
FROM golang:${GO} AS deps
RUN go mod download
FROM deps AS build
RUN --mount=type=cache,target=/root/.cache,from=cachewarm go build
FROM alpine AS cachewarm
RUN true
FROM scratch AS unused
FROM alpine AS Final
COPY --from=build /out /app
COPY --from=0 /go/pkg /pkg
COPY --from=nginx:alpine /etc/nginx /etc/nginx
";

    #[test]
    fn needed_stages_in_dependency_order() {
        let df = parse(MULTI).expect("parses");
        assert_eq!(df.stage_index("final"), Some(4));
        assert_eq!(df.stage_index("FINAL"), Some(4));
        assert_eq!(df.stage_index("3"), Some(3));
        assert_eq!(df.stage_index("9"), None);
        assert_eq!(df.stage_index("nginx"), None);
        assert_eq!(df.needed_stages(None), Ok(vec![0, 2, 1, 4]));
        assert_eq!(df.needed_stages(Some("build")), Ok(vec![0, 2, 1]));
        assert_eq!(df.needed_stages(Some("Unused")), Ok(vec![3]));
        assert_eq!(
            df.needed_stages(Some("nope")),
            Err(StageError::UnknownTarget("nope".into()))
        );
        assert_eq!(
            StageError::UnknownTarget("nope".into()).to_string(),
            "target stage \"nope\" could not be found"
        );
    }

    #[test]
    fn from_bases_expand_global_args() {
        let df = parse("ARG BASE=one\nFROM alpine AS one\nFROM alpine AS two\nFROM ${BASE}\n")
            .expect("parses");
        assert_eq!(df.needed_stages(None), Ok(vec![0, 2]));
        let two = |n: &str| (n == "BASE").then(|| "two".to_string());
        assert_eq!(df.needed_stages_with(None, &two), Ok(vec![1, 2]));
    }

    #[test]
    fn bad_references() {
        let df = parse("FROM a\nCOPY --from=5 /x /y\n").expect("parses");
        assert_eq!(
            df.needed_stages(None),
            Err(StageError::BadIndex {
                stage: 0,
                index: 5,
                count: 1
            })
        );
        let df = parse("FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n")
            .expect("parses");
        assert_eq!(
            df.needed_stages(None),
            Err(StageError::Cycle(vec![1, 0, 1]))
        );
        let df = parse("FROM a\nCOPY --from=0 /a /b\n").expect("parses");
        assert!(matches!(df.needed_stages(None), Err(StageError::Cycle(_))));
    }
}
