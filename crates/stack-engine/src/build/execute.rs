//! The walk through a build: stages in the order the target needs them,
//! instructions in order, the cache asked before each step that makes a
//! layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use stack_build::model::{Command, Copy, Dockerfile, Instruction, InstructionKind, Stage};

use super::cache::{tree_digest, BuildCache, CachedStep};
use super::copy_step::{CopySource, CopyStep};
use super::layers::{lower_dirs, BuiltImage, LayerSource, LayerStore};
use super::owners::resolve_owner;
use super::progress::{BuildEvent, BuildProgress};
use super::run_mounts::{self, StageTrees};
use super::run_step::RunStep;
use super::stage::{HistoryEntry, StageState};
use super::tree::{ContextTree, LayersTree, SourceTree};
use super::{inputs, BuildError, BuildRequest};
use crate::containers::Containers;

/// Runs builds on one host.
pub struct Builder<'a> {
    pub containers: &'a Containers,
    pub store: &'a dyn LayerStore,
    pub cache: BuildCache,
    /// Where steps write their layers before the store takes them: the
    /// build's own directory under `build-tmp`, held while it runs and
    /// removed after it by its owner (`leftovers::BuildDir`).
    pub scratch: PathBuf,
    /// That directory's name: the build's lease holder and the owner
    /// label of its step containers (see `leftovers`).
    pub owner: String,
    /// Checked before each step and while a `RUN` runs.
    pub cancel: &'a super::CancellationToken,
}

/// One build in progress.
struct Run<'a> {
    builder: &'a Builder<'a>,
    request: &'a BuildRequest,
    progress: &'a dyn BuildProgress,
    dockerfile: Dockerfile,
    /// How the Dockerfile is named in messages.
    file_name: String,
    globals: BTreeMap<String, String>,
    context: ContextTree,
    /// The leases of base images, ended when the build ends.
    holder: String,
    /// Finished stages by index.
    done: BTreeMap<usize, StageState>,
    steps_total: usize,
    step: usize,
    /// Scratch directories made, numbered.
    made: usize,
}

impl Builder<'_> {
    /// Builds `request` and answers the image.
    pub fn build(
        &self,
        request: &BuildRequest,
        progress: &dyn BuildProgress,
    ) -> Result<BuiltImage, BuildError> {
        let (text, file_name, ignore_file) = inputs::read_dockerfile(request)?;
        let dockerfile = stack_build::parse(&text).map_err(|e| BuildError::Dockerfile {
            path: file_name.clone(),
            message: e.with_file_name(&file_name).to_string(),
        })?;
        let ignore = inputs::read_ignore(&request.context, ignore_file.as_deref())?;
        // One per build: two builds of the daemon at once must not drop
        // each other's leases when the first ends.
        let holder = self.owner.clone();
        let mut run = Run {
            builder: self,
            request,
            progress,
            globals: BTreeMap::new(),
            context: ContextTree::new(request.context.clone(), ignore),
            holder,
            done: BTreeMap::new(),
            steps_total: 0,
            step: 0,
            made: 0,
            file_name,
            dockerfile,
        };
        let result = run.all();
        self.store.release(&run.holder);
        result
    }
}

impl Run<'_> {
    fn all(&mut self) -> Result<BuiltImage, BuildError> {
        if !self.request.context.is_dir() {
            return Err(BuildError::Invalid(format!(
                "build context {} is not a directory",
                self.request.context.display()
            )));
        }
        for decl in &self.dockerfile.global_args {
            let value = match self.request.build_args.get(&decl.name) {
                Some(v) => Some(v.clone()),
                None => match &decl.default {
                    Some(d) => Some(self.expand_global(d)?),
                    None => None,
                },
            };
            if let Some(v) = value {
                self.globals.insert(decl.name.clone(), v);
            }
        }
        let needed = self
            .dockerfile
            .needed_stages_with(self.request.target.as_deref(), &|k| {
                self.globals.get(k).cloned()
            })
            .map_err(|e| BuildError::Invalid(format!("{}: {e}", self.file_name)))?;
        self.steps_total = needed
            .iter()
            .map(|&i| self.dockerfile.stages[i].instructions.len() + 1)
            .sum();
        let last = *needed
            .last()
            .ok_or_else(|| BuildError::Invalid(format!("{}: no stage to build", self.file_name)))?;
        for index in needed {
            let state = self.stage(index)?;
            self.done.insert(index, state);
        }
        let mut image = self.done.remove(&last).unwrap_or_default();
        image.config.labels.extend(self.request.labels.clone());
        let created = self.created(&image);
        let built = self
            .builder
            .store
            .commit(&image, &created, &self.request.tags)?;
        self.progress.event(BuildEvent::Built {
            id: built.id.clone(),
            tags: built.tags.clone(),
        });
        Ok(built)
    }

    /// The image's creation time: `SOURCE_DATE_EPOCH` when set, else when
    /// this exact result was first built (kept in the cache), so a build
    /// that changed nothing gives the same image id.
    fn created(&self, image: &StageState) -> String {
        if let Some(secs) = self.request.source_date_epoch {
            return stack_runtime::timefmt::format(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
            );
        }
        let config = format!("{:?}", image.config);
        let key = BuildCache::key(&["image", &image.chain, &config]);
        let cache = &self.builder.cache;
        if let Some(time) = cache.get_text(&key).filter(|_| !self.request.no_cache) {
            return time;
        }
        let now = stack_runtime::timefmt::now();
        cache.put_text(&key, &now);
        now
    }

    fn expand_global(&self, word: &str) -> Result<String, BuildError> {
        let globals = &self.globals;
        stack_build::expand_word(word, &|k| globals.get(k).cloned(), self.dockerfile.escape)
            .map_err(|e| BuildError::Invalid(format!("{}: {e}", self.file_name)))
    }

    fn at(&self, line: u32) -> String {
        format!("{}:{line}", self.file_name)
    }

    fn stage_label(stage: &Stage) -> String {
        stage
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", stage.index))
    }

    /// A fresh scratch directory.
    fn scratch_dir(&mut self) -> Result<PathBuf, BuildError> {
        self.made += 1;
        let dir = self.builder.scratch.join(format!("step-{}", self.made));
        std::fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?;
        Ok(dir)
    }

    /// Starts a step, unless the build was cancelled.
    fn begin(&mut self, stage: &Stage, text: &str) -> Result<Instant, BuildError> {
        if self.builder.cancel.is_cancelled() {
            return Err(BuildError::Cancelled);
        }
        self.step += 1;
        self.progress.event(BuildEvent::Step {
            stage: Self::stage_label(stage),
            number: self.step,
            total: self.steps_total,
            text: text.to_string(),
        });
        Ok(Instant::now())
    }

    /// The state a stage starts from: `scratch`, an earlier stage, or an
    /// image.
    fn base(&mut self, stage: &Stage) -> Result<StageState, BuildError> {
        let base = self.expand_global(&stage.base)?;
        let at = self.at(stage.span.line);
        if let Some(platform) = &stage.platform {
            let platform = self.expand_global(platform)?;
            let host = format!("linux/{}", crate::images::Platform::host().architecture);
            if platform != host && !platform.is_empty() {
                return Err(BuildError::Unsupported {
                    at,
                    what: format!("FROM --platform={platform} on a {host} host"),
                });
            }
        }
        let started = self.begin(stage, &format!("FROM {base}"))?;
        let state = if base.eq_ignore_ascii_case("scratch") {
            StageState {
                chain: BuildCache::key(&["scratch"]),
                ..StageState::default()
            }
        } else if let Some(index) = self
            .dockerfile
            .stage_index(&base)
            .filter(|i| *i < stage.index)
        {
            self.done
                .get(&index)
                .cloned()
                .ok_or_else(|| BuildError::Invalid(format!("{at}: stage {base} is not built")))?
        } else {
            let image = self
                .builder
                .store
                .base(&base, self.request.pull, &self.holder)?;
            if !image.stage.config.onbuild.is_empty() {
                return Err(BuildError::Unsupported {
                    at,
                    what: format!("the ONBUILD triggers of {base}"),
                });
            }
            StageState {
                chain: BuildCache::key(&["image", &image.id]),
                ..image.stage
            }
        };
        self.progress.event(BuildEvent::Done(started.elapsed()));
        Ok(StageState {
            args: BTreeMap::new(),
            cmd_set_here: false,
            ..state
        })
    }

    fn stage(&mut self, index: usize) -> Result<StageState, BuildError> {
        let stage = self.dockerfile.stages[index].clone();
        let mut state = self.base(&stage)?;
        state.config.onbuild.clear();
        for instruction in &stage.instructions {
            self.instruction(&stage, &mut state, instruction)?;
        }
        Ok(state)
    }

    fn instruction(
        &mut self,
        stage: &Stage,
        state: &mut StageState,
        instruction: &Instruction,
    ) -> Result<(), BuildError> {
        let at = self.at(instruction.span.line);
        let expanded = instruction
            .expand_with_escape(&|k| state.lookup(k), self.dockerfile.escape)
            .map_err(|e| BuildError::Invalid(format!("{at}: {e}")))?;
        let started = self.begin(stage, &instruction.source)?;
        let identity = format!("{:?}", expanded.kind);
        let mut empty_layer = true;
        match &expanded.kind {
            InstructionKind::Arg(decls) => {
                let globals = self.globals.clone();
                state.declare_args(decls, &self.request.build_args, &globals);
            }
            InstructionKind::Run(run) => {
                if let Some(security) = &run.security {
                    return Err(BuildError::Unsupported {
                        at,
                        what: format!("RUN --security={security}"),
                    });
                }
                let command = match (&run.command, run.heredocs.first()) {
                    (Command::Shell(line), Some(doc))
                        if line.trim() == format!("<<{}", doc.name)
                            || line.trim() == format!("<<-{}", doc.name) =>
                    {
                        Command::Shell(doc.content.clone())
                    }
                    (command, None) => command.clone(),
                    _ => {
                        return Err(BuildError::Unsupported {
                            at,
                            what: "RUN with heredocs passed to a command".into(),
                        })
                    }
                };
                let argv = state.config.argv(&command);
                let network = run.network.clone().or_else(|| self.request.network.clone());
                let scratch = self.scratch_dir()?;
                let mounts = run_mounts::prepare(
                    &run.mounts,
                    &at,
                    &self.builder.containers.state_root,
                    &self.context,
                    &*self,
                    &scratch,
                )?;
                let key = BuildCache::key(&[
                    &state.chain,
                    "RUN",
                    &argv.join("\0"),
                    &state.run_env().join("\0"),
                    &state.config.user,
                    &state.config.working_dir,
                    network.as_deref().unwrap_or("default"),
                    &format!("{:?}", run.mounts),
                    &mounts.key.join("\0"),
                ]);
                let layer = match self.cached(&key) {
                    Some(hit) => hit.layer,
                    None => {
                        let step = RunStep {
                            argv,
                            network: network.as_deref(),
                            at: &at,
                            owner: &self.builder.owner,
                            cancel: self.builder.cancel,
                            volumes: mounts.volumes.clone(),
                            tmpfs: mounts.tmpfs.clone(),
                        };
                        let progress = self.progress;
                        let layer = step.execute(
                            self.builder.containers,
                            self.builder.store,
                            state,
                            &scratch,
                            &mut |line| progress.event(BuildEvent::Output(line.to_string())),
                        )?;
                        self.remember(
                            &key,
                            CachedStep {
                                layer: layer.clone(),
                            },
                        );
                        layer
                    }
                };
                if let Some(layer) = layer {
                    state.chain = BuildCache::key(&[&state.chain, &layer.diff_id]);
                    state.layers.push(layer);
                    empty_layer = false;
                }
            }
            InstructionKind::Copy(copy) | InstructionKind::Add(copy) => {
                let keyword = if matches!(expanded.kind, InstructionKind::Add(_)) {
                    "ADD"
                } else {
                    "COPY"
                };
                empty_layer = !self.copy(state, copy, keyword, &at)?;
            }
            InstructionKind::Workdir(_) => {
                state.apply_config(&expanded.kind)?;
                empty_layer = !self.make_workdir(state, &at)?;
            }
            kind => {
                state.apply_config(kind)?;
            }
        }
        if empty_layer {
            state.chain = BuildCache::key(&[&state.chain, &identity]);
        }
        state.history.push(HistoryEntry {
            created_by: instruction.source.clone(),
            empty_layer,
        });
        self.progress.event(BuildEvent::Done(started.elapsed()));
        Ok(())
    }

    /// A cache hit whose layer the store still has (`--no-cache`: none).
    fn cached(&self, key: &str) -> Option<CachedStep> {
        if self.request.no_cache {
            return None;
        }
        let hit = self.builder.cache.get(key)?;
        let step = match hit.layer {
            None => CachedStep { layer: None },
            Some(layer) => CachedStep {
                layer: Some(self.builder.store.still_there(&layer)?),
            },
        };
        self.progress.event(BuildEvent::Cached);
        Some(step)
    }

    fn remember(&self, key: &str, step: CachedStep) {
        self.builder.cache.put(key, &step);
    }

    /// `COPY`/`ADD`: answers whether a layer was added.
    fn copy(
        &mut self,
        state: &mut StageState,
        copy: &Copy,
        keyword: &str,
        at: &str,
    ) -> Result<bool, BuildError> {
        if copy.link || copy.parents || !copy.exclude.is_empty() || copy.checksum.is_some() {
            let flag = if copy.link {
                "--link"
            } else if copy.parents {
                "--parents"
            } else if copy.checksum.is_some() {
                "--checksum"
            } else {
                "--exclude"
            };
            return Err(BuildError::Unsupported {
                at: at.to_string(),
                what: format!("{keyword} {flag}"),
            });
        }
        let layer_dir = self.scratch_dir()?;
        let image = LayersTree::new(lower_dirs(state));
        let owner = copy
            .chown
            .as_deref()
            .map(|spec| resolve_owner(spec, &image))
            .transpose()
            .map_err(|e| BuildError::Invalid(format!("{at}: {keyword} {e}")))?;
        let from_tree;
        let source = match &copy.from {
            None => CopySource {
                tree: &self.context,
                from_context: true,
            },
            Some(from) => {
                let layers = match self.dockerfile.stage_index(from) {
                    Some(i) => lower_dirs(self.done.get(&i).ok_or_else(|| {
                        BuildError::Invalid(format!(
                            "{at}: {keyword} --from={from}: stage not built yet"
                        ))
                    })?),
                    None => lower_dirs(
                        &self
                            .builder
                            .store
                            .base(from, self.request.pull, &self.holder)?
                            .stage,
                    ),
                };
                from_tree = LayersTree::new(layers);
                CopySource {
                    tree: &from_tree,
                    from_context: false,
                }
            }
        };
        let mut dest = state.config.absolute(&copy.dest);
        if (copy.dest.ends_with('/') || copy.dest == "." || copy.dest.ends_with("/."))
            && !dest.ends_with('/')
        {
            dest.push('/');
        }
        let step = CopyStep {
            copy,
            dest,
            owner,
            at,
            keyword,
        };
        step.execute(&source, &image, &layer_dir)?;
        let key = BuildCache::key(&[
            &state.chain,
            keyword,
            &format!("{copy:?}"),
            &tree_digest(&layer_dir)?,
        ]);
        let layer = match self.cached(&key) {
            Some(hit) => hit.layer,
            None => {
                let layer = self
                    .builder
                    .store
                    .add_layer(&layer_dir, LayerSource::Plain)?;
                self.remember(
                    &key,
                    CachedStep {
                        layer: Some(layer.clone()),
                    },
                );
                Some(layer)
            }
        };
        let _ = std::fs::remove_dir_all(&layer_dir);
        let Some(layer) = layer else {
            return Ok(false);
        };
        state.chain = BuildCache::key(&[&state.chain, &layer.diff_id]);
        state.layers.push(layer);
        Ok(true)
    }

    /// `WORKDIR` makes its directory when the image lacks it (root's,
    /// 0755, as Docker does); answers whether a layer was added.
    fn make_workdir(&mut self, state: &mut StageState, at: &str) -> Result<bool, BuildError> {
        let dir = state.config.working_dir.clone();
        let image = LayersTree::new(lower_dirs(state));
        let exists = super::tree::resolve(&image, Path::new(&dir), true)
            .and_then(|p| image.entry(&p))
            .is_some();
        if exists {
            return Ok(false);
        }
        let key = BuildCache::key(&[&state.chain, "WORKDIR", &dir]);
        let layer = match self.cached(&key).and_then(|hit| hit.layer) {
            Some(layer) => layer,
            None => {
                let layer_dir = self.scratch_dir()?;
                let target = layer_dir.join(dir.trim_start_matches('/'));
                std::fs::create_dir_all(&target).map_err(BuildError::io(&target))?;
                let layer = self
                    .builder
                    .store
                    .add_layer(&layer_dir, LayerSource::Plain)
                    .map_err(|e| BuildError::Invalid(format!("{at}: WORKDIR {dir}: {e}")))?;
                let _ = std::fs::remove_dir_all(&layer_dir);
                self.remember(
                    &key,
                    CachedStep {
                        layer: Some(layer.clone()),
                    },
                );
                layer
            }
        };
        state.chain = BuildCache::key(&[&state.chain, &layer.diff_id]);
        state.layers.push(layer);
        Ok(true)
    }
}

impl StageTrees for Run<'_> {
    fn tree(&self, name: &str) -> Result<Box<dyn SourceTree + '_>, BuildError> {
        let layers =
            match self.dockerfile.stage_index(name) {
                Some(i) => lower_dirs(self.done.get(&i).ok_or_else(|| {
                    BuildError::Invalid(format!("stage {name} is not built yet"))
                })?),
                None => lower_dirs(
                    &self
                        .builder
                        .store
                        .base(name, self.request.pull, &self.holder)?
                        .stage,
                ),
            };
        Ok(Box::new(LayersTree::new(layers)))
    }
}
