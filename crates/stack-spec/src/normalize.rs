//! After typing: what Compose's normal form adds (default network, implicit
//! dependencies, `env_file` contents), profiles, and the checks that need
//! the whole project (references, duplicate container names, cycles).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diag::Span;
use crate::load::Loader;
use crate::model::{Dependency, DependencyCondition, MountType, Network, Project};
use crate::options::LoadOptions;
use crate::yaml::{Mapping, Node};

pub(crate) fn normalize(
    loader: &mut Loader,
    project: &mut Project,
    root: &Mapping,
    opts: &LoadOptions,
) {
    let at = |path: &[&str]| span_of(root, path);
    read_env_files(loader, project);
    // Compose's `--no-normalize` prints the project without these.
    if !opts.no_normalize {
        attach_default_network(project);
        add_implicit_dependencies(project);
    }
    check_scale(loader, project, &at);
    apply_profiles(loader, project, opts, &at);
    check_references(loader, project, &at);
    check_container_names(loader, project, &at);
    if let Err(cycles) = project.graph() {
        for cycle in cycles {
            let first = &cycle.services[0];
            let span = at(&["services", first, "depends_on"]);
            let d = loader
                .sources
                .error(span, cycle.to_string())
                .with_label("part of the cycle");
            loader.errors.push(d);
        }
    }
}

/// Span of a key path in the merged tree (the deepest one found).
fn span_of(root: &Mapping, path: &[&str]) -> Span {
    let mut span = root
        .entries
        .first()
        .map(|(k, _)| k.span)
        .unwrap_or_default();
    let mut current = root;
    for key in path {
        match current.key_span(key) {
            Some(s) => span = s,
            None => break,
        }
        match current.get(key).and_then(Node::as_map) {
            Some(m) => current = m,
            None => break,
        }
    }
    span
}

/// `env_file` values go under `environment`, which wins.
fn read_env_files(loader: &mut Loader, project: &mut Project) {
    let env = project.environment.clone();
    for service in project.services.values_mut() {
        let mut from_files: BTreeMap<String, Option<String>> = BTreeMap::new();
        for file in &service.env_file {
            let path = Path::new(&file.path);
            if !path.is_file() {
                if file.required {
                    loader.errors.push(crate::diag::Diagnostic::new(format!(
                        "service `{}`: env file {} not found",
                        service.name, file.path
                    )));
                }
                continue;
            }
            let raw = file.format.as_deref() == Some("raw");
            for (k, v) in loader.read_env_file(path, &env, raw) {
                from_files.insert(k, Some(v));
            }
        }
        for (k, v) in from_files {
            service.environment.entry(k).or_insert(v);
        }
    }
}

/// Services without `networks` and `network_mode` join `default`, which is
/// declared as `<project>_default` when used.
fn attach_default_network(project: &mut Project) {
    let mut uses_default = false;
    for service in project.services.values_mut() {
        if service.networks.is_empty() && service.network_mode.is_none() {
            service.networks.insert("default".into(), None);
        }
        uses_default |= service.networks.contains_key("default");
    }
    if uses_default && !project.networks.contains_key("default") {
        project.networks.insert(
            "default".into(),
            Network {
                name: format!("{}_default", project.name),
                ..Network::default()
            },
        );
    }
}

/// `links`, `network_mode`/`ipc`/`pid: service:X` and `volumes_from` imply
/// `depends_on`.
fn add_implicit_dependencies(project: &mut Project) {
    for service in project.services.values_mut() {
        // (service, restart, from a link)
        let mut implied: Vec<(String, bool, bool)> = Vec::new();
        for link in &service.links {
            implied.push((
                link.split(':').next().unwrap_or(link).to_string(),
                false,
                true,
            ));
        }
        for mode in [&service.network_mode, &service.ipc, &service.pid]
            .into_iter()
            .flatten()
        {
            if let Some(target) = mode.strip_prefix("service:") {
                implied.push((target.to_string(), true, false));
            }
        }
        for from in &service.volumes_from {
            if !from.starts_with("container:") {
                implied.push((
                    from.split(':').next().unwrap_or(from).to_string(),
                    false,
                    false,
                ));
            }
        }
        for (target, restart, from_link) in implied {
            service.depends_on.entry(target).or_insert(Dependency {
                condition: DependencyCondition::ServiceStarted,
                restart,
                required: true,
                from_link,
            });
        }
    }
}

fn check_scale(loader: &mut Loader, project: &mut Project, at: &dyn Fn(&[&str]) -> Span) {
    for (name, service) in project.services.iter_mut() {
        let replicas = service.deploy.as_ref().and_then(|d| d.replicas);
        if let (Some(scale), Some(replicas)) = (service.scale, replicas) {
            if scale != replicas {
                let d = loader.sources.error(
                    at(&["services", name, "scale"]),
                    format!("service `{name}`: scale ({scale}) and deploy.replicas ({replicas}) disagree"),
                );
                loader.errors.push(d);
            }
        }
        if service.container_name.is_some() && service.scale.or(replicas).unwrap_or(1) > 1 {
            let d = loader.sources.error(
                at(&["services", name, "container_name"]),
                format!("service `{name}` has a fixed container_name and cannot run more than one replica"),
            );
            loader.errors.push(d);
        }
    }
}

/// Moves services none of whose profiles is active to `disabled_services`.
fn apply_profiles(
    loader: &mut Loader,
    project: &mut Project,
    opts: &LoadOptions,
    at: &dyn Fn(&[&str]) -> Span,
) {
    let mut active: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    for var in ["STACK_PROFILES", "COMPOSE_PROFILES"] {
        if let Some(list) = project.environment.get(var) {
            active.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from),
            );
        }
    }
    for target in &opts.target_services {
        if let Some(s) = project.services.get(target) {
            active.extend(s.profiles.iter().cloned());
        }
    }
    let all = active.contains("*");
    let disabled: Vec<String> = project
        .services
        .iter()
        .filter(|(_, s)| {
            !s.profiles.is_empty() && !all && !s.profiles.iter().any(|p| active.contains(p))
        })
        .map(|(n, _)| n.clone())
        .collect();
    for name in disabled {
        if let Some(s) = project.services.remove(&name) {
            project.disabled_services.insert(name, s);
        }
    }
    // A required dependency on a disabled service cannot be met.
    for (name, service) in project.services.iter_mut() {
        let mut drop = Vec::new();
        for (dep, d) in &service.depends_on {
            if project.disabled_services.contains_key(dep) {
                if d.required {
                    let e = loader.sources.error(
                        at(&["services", name, "depends_on"]),
                        format!("service `{name}` depends on `{dep}`, which is disabled by its profiles"),
                    ).with_help("enable one of its profiles with --profile, or mark the dependency `required: false`");
                    loader.errors.push(e);
                }
                drop.push(dep.clone());
            }
        }
        for dep in drop {
            service.depends_on.remove(&dep);
        }
    }
    project.active_profiles = active.into_iter().collect();
}

fn check_references(loader: &mut Loader, project: &Project, at: &dyn Fn(&[&str]) -> Span) {
    let known =
        |n: &str| project.services.contains_key(n) || project.disabled_services.contains_key(n);
    let mut report = |path: &[&str], message: String| {
        let d = loader
            .sources
            .error(at(path), message)
            .with_label("unknown reference");
        loader.errors.push(d);
    };
    for (name, s) in &project.services {
        for dep in s.depends_on.keys() {
            if !known(dep) {
                report(
                    &["services", name, "depends_on"],
                    format!("service `{name}` depends on unknown service `{dep}`"),
                );
            }
        }
        for net in s.networks.keys() {
            if !project.networks.contains_key(net) {
                report(
                    &["services", name, "networks"],
                    format!("service `{name}` uses undefined network `{net}`"),
                );
            }
        }
        for v in &s.volumes {
            if let (MountType::Volume, Some(src)) = (v.kind, &v.source) {
                if !project.volumes.contains_key(src) {
                    report(
                        &["services", name, "volumes"],
                        format!("service `{name}` uses undefined volume `{src}`"),
                    );
                }
            }
        }
        for r in &s.secrets {
            if !project.secrets.contains_key(&r.source) {
                report(
                    &["services", name, "secrets"],
                    format!("service `{name}` uses undefined secret `{}`", r.source),
                );
            }
        }
        for r in &s.configs {
            if !project.configs.contains_key(&r.source) {
                report(
                    &["services", name, "configs"],
                    format!("service `{name}` uses undefined config `{}`", r.source),
                );
            }
        }
        if let Some(mode) = &s.network_mode {
            let ok = matches!(mode.as_str(), "bridge" | "host" | "none")
                || mode.starts_with("container:")
                || mode.starts_with("service:");
            if !ok {
                report(&["services", name, "network_mode"], format!("service `{name}`: network_mode must be bridge, host, none, service:NAME or container:ID"));
            }
            if !s.networks.is_empty() {
                report(
                    &["services", name, "network_mode"],
                    format!("service `{name}`: network_mode and networks cannot be used together"),
                );
            }
        }
    }
}

fn check_container_names(loader: &mut Loader, project: &Project, at: &dyn Fn(&[&str]) -> Span) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in &project.services {
        if let Some(cn) = &s.container_name {
            if let Some(other) = seen.insert(cn, name) {
                let d = loader.sources.error(
                    at(&["services", name, "container_name"]),
                    format!("services `{other}` and `{name}` both use container_name {cn:?}"),
                );
                loader.errors.push(d);
            }
        }
    }
}
