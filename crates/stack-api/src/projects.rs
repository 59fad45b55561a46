//! The JSON bodies of `/v1/projects`: a normalized stack with the planning
//! flags of `stack up`, the plan, the progress lines of `up` and `down`,
//! and the rows of `ps`. The CLI prints from these same values on both
//! paths, which is what keeps the output identical.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The flags of `stack up` that change the plan (the wire form of the
/// engine's `PlanOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFlags {
    #[serde(default)]
    pub force_recreate: bool,
    #[serde(default)]
    pub no_recreate: bool,
    #[serde(default)]
    pub no_deps: bool,
    #[serde(default)]
    pub remove_orphans: bool,
    /// `always`, `missing`, `never` or `build`; none: each service's
    /// `pull_policy`.
    #[serde(default)]
    pub pull: Option<String>,
    /// `--build` (true) or `--no-build` (false); none: build what is
    /// missing.
    #[serde(default)]
    pub build: Option<bool>,
    /// Only these services (and what they depend on); empty: all.
    #[serde(default)]
    pub services: Vec<String>,
    /// Replicas per service.
    #[serde(default)]
    pub scale: BTreeMap<String, u32>,
}

/// `POST /v1/projects/{name}/plan` and `/up`: the stack as the CLI loaded
/// and normalized it (env files, interpolation and paths resolved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpRequest {
    pub project: stack_spec::Project,
    #[serde(default)]
    pub options: PlanFlags,
    /// Actions run at once (`up` only); none: a few per CPU.
    #[serde(default)]
    pub parallel: Option<usize>,
    /// The directory the stack was loaded from (the stack's own
    /// serialization leaves it out; labels and the store keep it).
    #[serde(default)]
    pub working_dir: Option<String>,
    /// The stack files, in merge order (kept in labels and the store).
    #[serde(default)]
    pub config_files: Vec<String>,
}

impl UpRequest {
    /// The request for `project` with its directory and files.
    pub fn new(project: &stack_spec::Project, options: PlanFlags, parallel: Option<usize>) -> Self {
        UpRequest {
            project: project.clone(),
            options,
            parallel,
            working_dir: Some(project.working_dir.display().to_string()),
            config_files: project
                .config_files
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
        }
    }

    /// The stack with what its serialization leaves out put back: the
    /// directory, the files, and each service's name (its key).
    pub fn full_project(&self) -> stack_spec::Project {
        let mut project = self.project.clone();
        for (name, service) in project.services.iter_mut() {
            service.name = name.clone();
        }
        if let Some(dir) = &self.working_dir {
            project.working_dir = dir.into();
        }
        project.config_files = self.config_files.iter().map(Into::into).collect();
        project
    }
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    /// Actions of one wave may run at once; waves run in order.
    pub wave: usize,
    /// `pull web image busybox: image missing` (as `--dry-run` prints it).
    pub text: String,
}

/// The answer of `plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAnswer {
    pub project: String,
    pub actions: Vec<PlannedAction>,
    /// Containers already as desired.
    pub unchanged: Vec<String>,
    pub warnings: Vec<String>,
    /// Containers found by their labels and taken back into the store.
    pub adopted: Vec<String>,
    /// The plan as `stack up --dry-run` prints it.
    pub text: String,
}

/// `POST /v1/projects/{name}/down`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownRequest {
    /// Also remove the project's named volumes.
    #[serde(default)]
    pub remove_volumes: bool,
    /// Also remove containers of services not in `file_services`.
    #[serde(default)]
    pub remove_orphans: bool,
    /// The services of the stack file, when there is one; none: every
    /// container of the project goes.
    #[serde(default)]
    pub file_services: Option<Vec<String>>,
    /// Seconds to wait for each container to stop before killing it.
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// One line of the progress of `up` and `down` (NDJSON). The stream ends
/// with `finished` or `failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProjectEvent {
    /// A container found by its labels and taken back into the store.
    Adopted {
        name: String,
    },
    Warning {
        message: String,
    },
    /// An action finished. `kind`, `name` and `state` say it as Compose
    /// does (`Container`, `demo-web-1`, `Started`); `reason` why it was
    /// needed, when more than "new" (`environment.DEBUG changed`).
    Done {
        action: String,
        kind: String,
        name: String,
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An action failed (later waves do not run).
    ActionFailed {
        action: String,
        error: String,
        kind: String,
        name: String,
    },
    /// An object's state that no action set, in Compose's words: an
    /// unchanged container is `Running`; a dependency `up` waits for is
    /// `Waiting` (`waiting`), then `Healthy` or `Exited`.
    Observed {
        kind: String,
        name: String,
        state: String,
        #[serde(default)]
        waiting: bool,
    },
    /// The last line when everything was done.
    Finished,
    /// The last line when something failed. `kind` is the error's kind
    /// word, as an error body has it (`not_found`, `conflict`, ...), so a
    /// client of the stream can tell failures apart as it could by status
    /// code; absent from older daemons.
    Failed {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
    },
}

/// One project of `GET /v1/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub name: String,
    /// Containers (one-offs excluded) by status word.
    pub containers: BTreeMap<String, usize>,
    /// The stack files it was last brought up from.
    #[serde(default)]
    pub config_files: Vec<String>,
}

/// One row of `stack ps`, in the field names `ps --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PsRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub service: String,
    pub image: String,
    pub command: String,
    pub state: String,
    pub health: String,
    pub exit_code: Option<i32>,
    pub status: String,
    /// Published ports as the stack file declares them (filled in by the
    /// client from its stack file; the daemon does not have the file).
    pub publishers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_status() {
        let line = serde_json::to_string(&ProjectEvent::Done {
            action: "create web-1".into(),
            kind: "Container".into(),
            name: "demo-web-1".into(),
            state: "Started".into(),
            reason: None,
        })
        .expect("json");
        assert_eq!(
            line,
            r#"{"status":"done","action":"create web-1","kind":"Container","name":"demo-web-1","state":"Started"}"#
        );
        let end: ProjectEvent = serde_json::from_str(r#"{"status":"finished"}"#).expect("parse");
        assert_eq!(end, ProjectEvent::Finished);
    }

    #[test]
    fn a_stack_survives_the_wire_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("compose.yaml");
        let yaml = "name: shop\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n    volumes: [./data:/data]\n  db:\n    image: busybox\n";
        std::fs::write(&file, yaml).expect("write");
        let project = stack_spec::load(&stack_spec::LoadOptions {
            files: vec![file],
            working_dir: dir.path().to_path_buf(),
            ..Default::default()
        })
        .expect("load");
        let request = UpRequest::new(&project, PlanFlags::default(), None);
        let wire = serde_json::to_string(&request).expect("json");
        let back = serde_json::from_str::<UpRequest>(&wire)
            .expect("parse")
            .full_project();
        assert_eq!(back.name, project.name);
        assert_eq!(back.services, project.services);
        assert_eq!(back.working_dir, project.working_dir);
        assert_eq!(back.config_files, project.config_files);
        assert_eq!(back.services["web"].name, "web");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<DownRequest>(r#"{"volumes": true}"#).expect_err("bad");
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
