//! The `build` step of `up`: a service's image built from its `build:`
//! section, as `stack build` builds it.

use super::step_error::StepErrorKind;
use super::Host;
use crate::spec::Project;

/// Builds `service`'s image and answers its reference.
pub fn build(
    host: &Host,
    project: Option<&Project>,
    service: &str,
) -> Result<String, StepErrorKind> {
    let project = project.ok_or_else(|| StepErrorKind::UnknownService(service.to_string()))?;
    let spec = project
        .services
        .get(service)
        .ok_or_else(|| StepErrorKind::UnknownService(service.to_string()))?;
    let requests = crate::build::requests_for(project, &[service.to_string()], &Default::default())
        .map_err(|e| build_error(service, e))?;
    let Some((_, request)) = requests.into_iter().next() else {
        return Err(StepErrorKind::UnknownService(service.to_string()));
    };
    let progress = crate::build::progress::Lines::new(service);
    // `up` stops between steps of its own; a build it began runs out.
    let uncancelled = crate::build::CancellationToken::new();
    crate::build::build_on_host(
        &host.paths,
        &host.containers,
        &request,
        &progress,
        &uncancelled,
    )
    .map_err(|e| build_error(service, e))?;
    Ok(crate::build::image_name(project, spec))
}

fn build_error(service: &str, source: crate::build::BuildError) -> StepErrorKind {
    StepErrorKind::Build {
        service: service.to_string(),
        source: Box::new(source),
    }
}
