use std::collections::BTreeMap;

use stack_spec::{
    Dependency, DependencyCondition, Healthcheck, MountType, Network, Port, Project, Service,
    ServiceNetwork, ServiceVolume, Volume,
};

use super::*;
use crate::containers::NetworkMode;

fn project(services: Vec<Service>) -> Project {
    Project {
        name: "demo".into(),
        working_dir: std::env::temp_dir(),
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        volumes: BTreeMap::from([(
            "data".to_string(),
            Volume {
                name: "demo_data".into(),
                ..Volume::default()
            },
        )]),
        networks: BTreeMap::from([(
            "back".to_string(),
            Network {
                name: "demo_back".into(),
                ..Network::default()
            },
        )]),
        ..Project::default()
    }
}

fn slot(replica: u32) -> Slot<'static> {
    Slot {
        name: "demo-web-2",
        replica,
        config_hash: "abc",
        image_digest: Some("sha256:1234"),
    }
}

fn web() -> Service {
    Service {
        name: "web".into(),
        image: Some("busybox".into()),
        ..Service::default()
    }
}

#[test]
fn entrypoint_and_command_follow_compose() {
    let mut s = web();
    s.command = Some(vec!["httpd".into(), "-f".into()]);
    let p = project(vec![s.clone()]);
    let o = run_options(&p, &s, &slot(1)).expect("options");
    assert_eq!(o.process.entrypoint, None, "image entrypoint kept");
    assert_eq!(o.process.cmd, vec!["httpd", "-f"]);

    s.entrypoint = Some(vec!["/bin/sh".into(), "-c".into()]);
    s.command = Some(vec!["echo hi".into()]);
    let o = run_options(&p, &s, &slot(1)).expect("options");
    assert_eq!(
        o.process.entrypoint.as_deref(),
        Some(""),
        "image entrypoint cleared"
    );
    assert_eq!(o.process.cmd, vec!["/bin/sh", "-c", "echo hi"]);
}

#[test]
fn environment_drops_unset_keys() {
    let mut s = web();
    s.environment = BTreeMap::from([
        ("A".to_string(), Some("1".to_string())),
        ("GONE".to_string(), None),
    ]);
    let o = run_options(&project(vec![s.clone()]), &s, &slot(1)).expect("options");
    assert_eq!(o.process.env, vec!["A=1"]);
}

#[test]
fn labels_say_project_service_number_hash_and_dependencies() {
    let mut s = web();
    s.labels = BTreeMap::from([("mine".to_string(), "yes".to_string())]);
    s.depends_on = BTreeMap::from([(
        "redis".to_string(),
        Dependency {
            condition: DependencyCondition::ServiceHealthy,
            restart: true,
            required: true,
            from_link: false,
        },
    )]);
    let o = run_options(&project(vec![s.clone()]), &s, &slot(2)).expect("options");
    let l = &o.labels;
    assert_eq!(l["mine"], "yes");
    assert_eq!(l[crate::labels::PROJECT], "demo");
    assert_eq!(l[crate::labels::SERVICE], "web");
    assert_eq!(l[crate::labels::CONTAINER_NUMBER], "2");
    assert_eq!(l[crate::labels::CONFIG_HASH], "abc");
    assert_eq!(l[IMAGE_LABEL], "sha256:1234");
    assert_eq!(l[DEPENDS_ON_LABEL], "redis:service_healthy:true");
    assert_eq!(depends_on_from_label(&l[DEPENDS_ON_LABEL]), vec!["redis"]);
    assert_eq!(o.name.as_deref(), Some("demo-web-2"));
}

#[test]
fn named_volumes_use_their_full_name_and_tmpfs_mounts_carry_options() {
    let mut s = web();
    s.volumes = vec![
        ServiceVolume {
            kind: MountType::Volume,
            source: Some("data".into()),
            target: "/data".into(),
            read_only: true,
            bind: None,
            volume: None,
            tmpfs: None,
            consistency: None,
        },
        ServiceVolume {
            kind: MountType::Tmpfs,
            target: "/scratch".into(),
            tmpfs: Some(stack_spec::TmpfsOptions {
                size: Some(stack_spec::ByteSize(4096)),
                mode: Some(0o700),
            }),
            source: None,
            read_only: false,
            bind: None,
            volume: None,
            consistency: None,
        },
    ];
    let o = run_options(&project(vec![s.clone()]), &s, &slot(1)).expect("options");
    assert_eq!(o.volumes, vec!["demo_data:/data:ro"]);
    assert_eq!(o.tmpfs, vec!["/scratch:size=4096,mode=700"]);
}

#[test]
fn networks_get_the_service_alias_and_ports_the_short_syntax() {
    let mut s = web();
    s.networks = BTreeMap::from([(
        "back".to_string(),
        Some(ServiceNetwork {
            aliases: vec!["www".into()],
            ipv4_address: Some("10.5.0.9".into()),
            ..ServiceNetwork::default()
        }),
    )]);
    s.ports = vec![
        Port {
            target: 80,
            published: Some("8080".into()),
            protocol: "tcp".into(),
            host_ip: Some("127.0.0.1".into()),
            ..Port::default()
        },
        Port {
            target: 53,
            protocol: "udp".into(),
            ..Port::default()
        },
    ];
    let o = run_options(&project(vec![s.clone()]), &s, &slot(1)).expect("options");
    let NetworkMode::Networks(joins) = &o.network.mode else {
        panic!("networks expected: {:?}", o.network.mode)
    };
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0].network, "demo_back");
    assert_eq!(joins[0].aliases, vec!["web", "www"]);
    assert_eq!(joins[0].ipv4_address, Some("10.5.0.9".parse().expect("ip")));
    assert_eq!(o.network.publish, vec!["127.0.0.1:8080:80/tcp", "53/udp"]);

    let mut none = web();
    none.network_mode = Some("none".into());
    let o = run_options(&project(vec![none.clone()]), &none, &slot(1)).expect("options");
    assert_eq!(o.network.mode, NetworkMode::None);

    let plain = web();
    let o = run_options(&project(vec![plain.clone()]), &plain, &slot(1)).expect("options");
    let NetworkMode::Networks(joins) = &o.network.mode else {
        panic!("default network expected")
    };
    assert_eq!(joins[0].network, "demo_default");
}

#[test]
fn healthcheck_restart_and_stop_settings_reach_the_spec() {
    let mut s = web();
    s.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "true".into()],
        interval: Some(stack_spec::Duration(std::time::Duration::from_secs(2))),
        ..Healthcheck::default()
    });
    s.restart = Some(stack_spec::RestartPolicy::OnFailure(Some(3)));
    s.stop_signal = Some("SIGINT".into());
    s.stop_grace_period = Some(stack_spec::Duration(std::time::Duration::from_secs(4)));
    let o = run_options(&project(vec![s.clone()]), &s, &slot(1)).expect("options");
    let h = o.healthcheck.expect("healthcheck");
    assert_eq!(h.test, vec!["CMD-SHELL", "true"]);
    assert_eq!(h.interval_ms, 2000);
    assert_eq!(
        o.restart.policy,
        stack_runtime::spec::RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    assert_eq!(o.stop_signal, Some(2));
    assert_eq!(o.stop_timeout, Some(4));
}

#[test]
fn unsupported_security_opt_names_the_service() {
    let mut s = web();
    s.security_opt = vec!["apparmor=x".into()];
    let err = run_options(&project(vec![s.clone()]), &s, &slot(1))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("service web") && err.contains("apparmor"),
        "{err}"
    );
}
