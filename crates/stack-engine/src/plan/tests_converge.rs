//! Property: applying a plan converges. For random projects and random
//! earlier states, carrying out the plan and planning again gives nothing
//! to do, and no service starts in a wave before one it depends on.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;

/// One random service: env value, replicas, dependencies on lower indexes,
/// whether it joins the second network.
type ServiceSpec = (u8, u32, Vec<bool>, bool);

fn build(services: &[ServiceSpec], back_internal: bool) -> DesiredProject {
    let mut p = project(vec![]);
    p.networks.insert(
        "back".into(),
        DesiredNetwork {
            name: "demo_back".into(),
            external: false,
            config: ConfigFields::flatten(&json!({"internal": back_internal}), &[]),
        },
    );
    for (i, (env, replicas, deps, on_back)) in services.iter().enumerate() {
        let mut s = service(&format!("s{i}"), json!({"V": env.to_string()}));
        s.replicas = *replicas;
        s.depends_on = deps
            .iter()
            .take(i)
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(j, _)| depends(&format!("s{j}"), Condition::Started))
            .collect();
        if *on_back {
            s.networks.push("back".into());
        }
        p.services.insert(s.name.clone(), s);
    }
    p
}

/// Carries out `plan` on `observed` as the engine would.
fn apply(desired: &DesiredProject, observed: &mut ObservedProject, plan: &Plan) {
    for action in &plan.actions {
        match &action.kind {
            ActionKind::PullImage { reference } | ActionKind::BuildImage { reference, .. } => {
                observed
                    .local_images
                    .insert(reference.clone(), format!("sha256:{reference}"));
            }
            ActionKind::CreateNetwork { key, name } | ActionKind::RecreateNetwork { key, name } => {
                let net = &desired.networks[key];
                observed.networks.insert(
                    name.clone(),
                    ObservedObject {
                        external: false,
                        config_hash: net.config.hash(),
                        config: net.config.clone(),
                    },
                );
            }
            ActionKind::CreateVolume { .. } | ActionKind::RestartContainer { .. } => {}
            ActionKind::CreateContainer {
                service,
                replica,
                name,
            }
            | ActionKind::RecreateContainer {
                service,
                replica,
                name,
                ..
            } => {
                observed
                    .containers
                    .retain(|c| !(c.service == *service && c.replica == *replica));
                let s = &desired.services[service];
                observed.containers.push(ObservedContainer {
                    id: format!("new-{name}"),
                    name: name.clone(),
                    service: service.clone(),
                    replica: *replica,
                    oneoff: false,
                    config_hash: s.config.hash(),
                    config: s.config.clone(),
                    image_digest: observed.local_images.get(&s.image).cloned(),
                    state: Status::Running,
                    depends_on: vec![],
                });
            }
            ActionKind::StartContainer { id, .. } => {
                for c in observed.containers.iter_mut().filter(|c| c.id == *id) {
                    c.state = Status::Running;
                }
            }
            ActionKind::RemoveContainer { id, .. } => observed.containers.retain(|c| c.id != *id),
            ActionKind::RemoveNetwork { name } => {
                observed.networks.remove(name);
            }
            ActionKind::RemoveVolume { name } => {
                observed.volumes.remove(name);
            }
        }
    }
}

fn service_spec() -> impl Strategy<Value = ServiceSpec> {
    (
        0u8..3,
        0u32..4,
        prop::collection::vec(any::<bool>(), 8),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn applying_a_plan_converges(
        before in prop::collection::vec(service_spec(), 0..8),
        after in prop::collection::vec(service_spec(), 1..8),
        before_internal in any::<bool>(),
        after_internal in any::<bool>(),
        stopped in prop::collection::vec(any::<bool>(), 32),
        remove_orphans in any::<bool>(),
    ) {
        let old = build(&before, before_internal);
        let new = build(&after, after_internal);
        let mut observed = applied(&old);
        for (c, stop) in observed.containers.iter_mut().zip(&stopped) {
            if *stop {
                c.state = Status::Exited;
            }
        }
        let opts = PlanOptions { remove_orphans, ..Default::default() };
        let first = plan(&new, &observed, &opts).expect("plan");

        // No service acts in a wave before (or with) one it depends on.
        let mut wave_of: BTreeMap<String, usize> = BTreeMap::new();
        for a in &first.actions {
            if let ActionKind::CreateContainer { service, .. }
            | ActionKind::RecreateContainer { service, .. }
            | ActionKind::StartContainer { service, .. } = &a.kind
            {
                wave_of.insert(service.clone(), a.wave);
            }
        }
        for (name, wave) in &wave_of {
            for dep in &new.services[name].depends_on {
                if let Some(dep_wave) = wave_of.get(&dep.service) {
                    prop_assert!(dep_wave < wave, "{} before its dependency {}", name, dep.service);
                }
            }
        }

        apply(&new, &mut observed, &first);
        let second = plan(&new, &observed, &opts).expect("plan again");
        prop_assert!(second.is_empty(), "not converged:\n{}\nthen:\n{}", first.render_text(), second.render_text());
        for s in new.services.values() {
            let n = observed.containers.iter().filter(|c| c.service == s.name).count();
            prop_assert_eq!(n, s.replicas as usize);
        }
    }
}
