//! The loader pipeline: files -> parsed trees -> interpolated -> paths
//! absolute -> includes -> merged -> extends -> typed -> normalized ->
//! validated. Every stage records errors and the pipeline goes as far as it
//! can, so one run reports every independent error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::convert::{self, Ctx};
use crate::diag::{Diagnostic, Diagnostics, Sources, Span};
use crate::discover::{discover, is_valid_project_name, normalize_project_name};
use crate::interpolate::interpolate_tree;
use crate::merge::merge;
use crate::model::Project;
use crate::options::LoadOptions;
use crate::yaml::{Mapping, Node, Value};
use crate::{extends, normalize, paths};

const TOP_LEVEL: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Loads, merges, normalizes and validates a project.
///
/// `Err` holds every error found (file, line, column, snippet); warnings
/// (unset variables, obsolete `version`, unknown keys in compatibility mode)
/// are in [`Project::warnings`].
pub fn load(opts: &LoadOptions) -> Result<Project, Diagnostics> {
    let mut loader = Loader {
        sources: Sources::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let result = loader.run(opts);
    match result {
        Some(mut project) if loader.errors.is_empty() => {
            project.warnings = loader.warnings.iter().map(|w| w.to_string()).collect();
            Ok(project)
        }
        _ => Err(Diagnostics {
            errors: loader.errors,
        }),
    }
}

pub(crate) struct Loader {
    pub sources: Sources,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Loader {
    fn run(&mut self, opts: &LoadOptions) -> Option<Project> {
        let files = self.files(opts)?;
        let project_dir = match &opts.project_directory {
            Some(d) => paths::clean(&opts.working_dir.join(d)),
            None => files
                .first()
                .and_then(|f| f.parent())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| opts.working_dir.clone()),
        };
        let environment = self.environment(opts, &project_dir);
        let lookup = |k: &str| environment.get(k).cloned();

        let mut merged: Option<Node> = None;
        for file in &files {
            let Some(root) = self.read_tree(file, opts, &project_dir, &environment) else {
                continue;
            };
            let root = self.include(root, &project_dir, opts, &environment);
            match merged.as_mut() {
                None => merged = Some(root),
                Some(base) => merge(base, root, &[]),
            }
        }
        let mut root = merged?;
        extends::resolve(self, &mut root, &environment, opts);

        let name = self.project_name(opts, &root, &project_dir, &environment);
        let mut ctx = Ctx::new(&self.sources, opts.compatibility);
        ctx.checks = opts.checks.clone();
        ctx.no_normalize = opts.no_normalize;
        let mut project = Project {
            skip_normalization: opts.no_normalize,
            name: name.clone(),
            working_dir: project_dir.clone(),
            config_files: files.clone(),
            environment: environment.clone(),
            ..Project::default()
        };
        let m = root.as_map().cloned().unwrap_or_default();
        for (k, v) in m.iter() {
            match k.name.as_str() {
                "services" => {
                    if let Some(services) = ctx.map(v, "services") {
                        for (sk, sv) in services.iter() {
                            if !valid_service_name(&sk.name) {
                                ctx.error(sk.span, format!("invalid service name {:?}: use letters, digits, `.`, `_` and `-`", sk.name));
                            }
                            if let Some(s) = convert::service(&mut ctx, &sk.name, sv, &lookup) {
                                project.services.insert(sk.name.clone(), s);
                            }
                        }
                    }
                }
                "networks" => project.networks = convert::networks(&mut ctx, v, &name),
                "volumes" => project.volumes = convert::top_volumes(&mut ctx, v, &name),
                "secrets" => project.secrets = convert::file_objects(&mut ctx, v, &name, "secrets"),
                "configs" => project.configs = convert::file_objects(&mut ctx, v, &name, "configs"),
                key if key.starts_with("x-") => {
                    project.extensions.insert(key.to_string(), v.to_json());
                }
                _ => {}
            }
        }
        if m.get("services").is_none() && m.get("include").is_none() {
            let span = m.entries.first().map(|(k, _)| k.span).unwrap_or_default();
            ctx.error(span, "the stack file has no `services`");
        }
        self.errors.append(&mut ctx.errors);
        self.warnings.append(&mut ctx.warnings);
        normalize::normalize(self, &mut project, &m, opts);
        Some(project)
    }

    /// `-f` files made absolute, or the discovered defaults.
    fn files(&mut self, opts: &LoadOptions) -> Option<Vec<PathBuf>> {
        if opts.files.is_empty() {
            let found = discover(&opts.working_dir);
            if found.is_none() {
                self.errors.push(
                    Diagnostic::new(format!(
                        "no stack file found in {} or its parents",
                        opts.working_dir.display()
                    ))
                    .with_help("create compose.yaml or stack.yaml, or name a file with -f"),
                );
            }
            return found;
        }
        Some(
            opts.files
                .iter()
                .map(|f| {
                    if f.as_os_str() == "-" {
                        f.clone()
                    } else {
                        paths::clean(&opts.working_dir.join(f))
                    }
                })
                .collect(),
        )
    }

    /// Interpolation variables: `.env` (or `--env-file`s), then the process
    /// environment on top.
    fn environment(&mut self, opts: &LoadOptions, project_dir: &Path) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let files: Vec<PathBuf> = if opts.env_files.is_empty() {
            let disabled = opts.environment.contains_key("COMPOSE_DISABLE_ENV_FILE")
                || opts.environment.contains_key("STACK_DISABLE_ENV_FILE");
            let default = project_dir.join(".env");
            if !disabled && default.is_file() {
                vec![default]
            } else {
                Vec::new()
            }
        } else {
            opts.env_files
                .iter()
                .map(|f| opts.working_dir.join(f))
                .collect()
        };
        for file in files {
            for (k, v) in self.read_env_file(&file, &opts.environment, false) {
                env.insert(k, v);
            }
        }
        for (k, v) in &opts.environment {
            env.insert(k.clone(), v.clone());
        }
        env
    }

    /// Reads a `.env`-style file; `raw` takes lines verbatim.
    pub(crate) fn read_env_file(
        &mut self,
        file: &Path,
        environment: &BTreeMap<String, String>,
        raw: bool,
    ) -> Vec<(String, String)> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(Diagnostic::new(format!(
                    "cannot read environment file {}: {e}",
                    file.display()
                )));
                return Vec::new();
            }
        };
        if raw {
            return text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .map(|l| match l.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (l.to_string(), String::new()),
                })
                .collect();
        }
        match crate::dotenv::parse(&text, &|k| environment.get(k).cloned()) {
            Ok(vars) => vars,
            Err(e) => {
                self.errors
                    .push(Diagnostic::new(format!("{}: {e}", file.display())));
                Vec::new()
            }
        }
    }

    /// Reads, parses and interpolates one file, and makes its paths absolute
    /// against `base`. `None` if it could not be read or parsed.
    pub(crate) fn read_tree(
        &mut self,
        file: &Path,
        opts: &LoadOptions,
        base: &Path,
        environment: &BTreeMap<String, String>,
    ) -> Option<Node> {
        let text = if file.as_os_str() == "-" {
            opts.stdin.clone().unwrap_or_default()
        } else {
            match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    self.errors.push(Diagnostic::new(format!(
                        "cannot read stack file {}: {e}",
                        file.display()
                    )));
                    return None;
                }
            }
        };
        let id = self.sources.add(file, Arc::from(text));
        let mut root = match crate::yaml::parse(&self.sources, id) {
            Ok(Some(root)) => root,
            Ok(None) => {
                self.errors.push(Diagnostic::new(format!(
                    "{}: the stack file is empty",
                    file.display()
                )));
                return None;
            }
            Err(mut errors) => {
                self.errors.append(&mut errors);
                return None;
            }
        };
        if root.as_map().is_none() {
            let d = self.sources.error(
                root.span,
                format!("a stack file must be a mapping, found {}", root.kind_name()),
            );
            self.errors.push(d);
            return None;
        }
        self.check_top_level(&root, opts);
        let mut interp_errors = Vec::new();
        let mut unset = Vec::new();
        interpolate_tree(
            &mut root,
            &|k| environment.get(k).cloned(),
            &mut interp_errors,
            &mut |name| unset.push(name.to_string()),
        );
        for (span, e) in interp_errors {
            let d = self
                .sources
                .error(span, e.to_string())
                .with_label("in this value");
            self.errors.push(d);
        }
        unset.sort();
        unset.dedup();
        for name in unset {
            self.warnings.push(
                Diagnostic::new(format!(
                    "the {name} variable is not set; defaulting to a blank string"
                ))
                .into_warning(),
            );
        }
        let home = environment.get("HOME").map(String::as_str);
        paths::absolutize(&mut root, base, home);
        Some(root)
    }

    fn check_top_level(&mut self, root: &Node, opts: &LoadOptions) {
        let Some(m) = root.as_map() else { return };
        let mut ctx = Ctx::new(&self.sources, opts.compatibility);
        ctx.checks = opts.checks.clone();
        for (k, _) in m.iter() {
            if k.name == "version" {
                self.warnings.push(
                    self.sources
                        .error(k.span, "`version` is obsolete and ignored")
                        .into_warning(),
                );
            } else if !TOP_LEVEL.contains(&k.name.as_str()) && !k.name.starts_with("x-") {
                ctx.unknown_key(k.span, &k.name, "the stack file", TOP_LEVEL);
            }
        }
        self.errors.append(&mut ctx.errors);
        self.warnings.append(&mut ctx.warnings);
    }

    /// `include:` entries are loaded as projects of their own (own
    /// directory, own `.env`) and their resources added; a name defined on
    /// both sides is an error.
    fn include(
        &mut self,
        mut root: Node,
        project_dir: &Path,
        opts: &LoadOptions,
        environment: &BTreeMap<String, String>,
    ) -> Node {
        let Some(m) = root.as_map_mut() else {
            return root;
        };
        let Some(include) = m.remove("include") else {
            return root;
        };
        let items: Vec<Node> = match include.value {
            Value::Seq(items) => items,
            _ => vec![include],
        };
        for item in items {
            let (paths_list, dir, env_files) = match &item.value {
                Value::Map(im) => {
                    let paths_node = im.get("path");
                    let list: Vec<String> = paths_node
                        .map(|p| match p.as_seq() {
                            Some(seq) => seq
                                .iter()
                                .filter_map(|n| n.as_text().map(String::from))
                                .collect(),
                            None => p.as_text().map(String::from).into_iter().collect(),
                        })
                        .unwrap_or_default();
                    let dir = im
                        .get("project_directory")
                        .and_then(Node::as_text)
                        .map(String::from);
                    let envs: Vec<String> = im
                        .get("env_file")
                        .map(|e| match e.as_seq() {
                            Some(seq) => seq
                                .iter()
                                .filter_map(|n| n.as_text().map(String::from))
                                .collect(),
                            None => e.as_text().map(String::from).into_iter().collect(),
                        })
                        .unwrap_or_default();
                    (list, dir, envs)
                }
                _ => (
                    item.as_text().map(String::from).into_iter().collect(),
                    None,
                    Vec::new(),
                ),
            };
            if paths_list.is_empty() {
                let d = self
                    .sources
                    .error(item.span, "an `include` entry needs a `path`");
                self.errors.push(d);
                continue;
            }
            let files: Vec<PathBuf> = paths_list
                .iter()
                .map(|p| PathBuf::from(paths::resolve(p, project_dir, None)))
                .collect();
            let inc_dir = dir
                .map(|d| PathBuf::from(paths::resolve(&d, project_dir, None)))
                .or_else(|| files[0].parent().map(Path::to_path_buf))
                .unwrap_or_else(|| project_dir.to_path_buf());
            if self.sources_contains(&files[0]) {
                let d = self.sources.error(
                    item.span,
                    format!(
                        "include cycle: {} is already being loaded",
                        files[0].display()
                    ),
                );
                self.errors.push(d);
                continue;
            }
            let sub_opts = LoadOptions {
                files: files.clone(),
                working_dir: inc_dir.clone(),
                project_directory: Some(inc_dir.clone()),
                env_files: env_files
                    .iter()
                    .map(|e| PathBuf::from(paths::resolve(e, project_dir, None)))
                    .collect(),
                environment: opts.environment.clone(),
                compatibility: opts.compatibility,
                ..LoadOptions::default()
            };
            let sub_env = self.environment(&sub_opts, &inc_dir);
            let mut included: Option<Node> = None;
            for f in &files {
                let Some(t) = self.read_tree(f, &sub_opts, &inc_dir, &sub_env) else {
                    continue;
                };
                let t = self.include(t, &inc_dir, &sub_opts, &sub_env);
                match included.as_mut() {
                    None => included = Some(t),
                    Some(b) => merge(b, t, &[]),
                }
            }
            let Some(included) = included else { continue };
            self.add_included(&mut root, included, item.span);
        }
        let _ = environment;
        root
    }

    fn sources_contains(&self, path: &Path) -> bool {
        (0..u32::MAX)
            .map_while(|i| {
                let p = self.sources.path(i);
                (p != Path::new("<unknown>")).then_some(p)
            })
            .any(|p| p == path)
    }

    fn add_included(&mut self, root: &mut Node, included: Node, span: Span) {
        let Some(m) = root.as_map_mut() else { return };
        let Value::Map(inc) = included.value else {
            return;
        };
        for (section_key, section) in inc.entries {
            if !matches!(
                section_key.name.as_str(),
                "services" | "networks" | "volumes" | "secrets" | "configs"
            ) {
                continue;
            }
            let Value::Map(items) = section.value else {
                continue;
            };
            if m.get(&section_key.name).is_none() {
                m.insert(
                    section_key.clone(),
                    Node::new(Value::Map(Mapping::default()), section.span),
                );
            }
            let Some(target) = m.get_mut(&section_key.name).and_then(Node::as_map_mut) else {
                continue;
            };
            for (k, v) in items.entries {
                if let Some(existing) = target.key_span(&k.name) {
                    if section_key.name == "services" || v != *target.get(&k.name).unwrap_or(&v) {
                        let d = self
                            .sources
                            .error(
                                existing,
                                format!(
                                    "{} `{}` is also defined by an included file",
                                    section_key.name.trim_end_matches('s'),
                                    k.name
                                ),
                            )
                            .with_label("conflicts with the included definition");
                        self.errors.push(d);
                        let _ = span;
                    }
                    continue;
                }
                target.insert(k, v);
            }
        }
    }

    fn project_name(
        &mut self,
        opts: &LoadOptions,
        root: &Node,
        project_dir: &Path,
        environment: &BTreeMap<String, String>,
    ) -> String {
        let explicit = opts
            .project_name
            .clone()
            .map(|n| (n, "-p"))
            .or_else(|| {
                environment
                    .get("STACK_PROJECT_NAME")
                    .map(|n| (n.clone(), "STACK_PROJECT_NAME"))
            })
            .or_else(|| {
                environment
                    .get("COMPOSE_PROJECT_NAME")
                    .map(|n| (n.clone(), "COMPOSE_PROJECT_NAME"))
            });
        if let Some((name, origin)) = explicit.filter(|(n, _)| !n.is_empty()) {
            if !is_valid_project_name(&name) {
                self.errors.push(Diagnostic::new(format!(
                    "invalid project name {name:?} (from {origin}): use lowercase letters, digits, `_` and `-`, starting with a letter or digit"
                )));
            }
            return name;
        }
        if let Some(node) = root.as_map().and_then(|m| m.get("name")) {
            if let Some(name) = node.as_text() {
                if !is_valid_project_name(name) {
                    let d = self.sources.error(node.span, format!(
                        "invalid project name {name:?}: use lowercase letters, digits, `_` and `-`, starting with a letter or digit"
                    ));
                    self.errors.push(d);
                }
                return name.to_string();
            }
        }
        let base = project_dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let name = normalize_project_name(&base);
        if name.is_empty() {
            self.errors.push(Diagnostic::new(
                "cannot derive a project name from the directory; set `name:` or use -p",
            ));
        }
        name
    }
}

fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
