//! Kubernetes target: render a normalized stack as Kubernetes objects, apply
//! them with server-side apply, prune what is no longer rendered, and wait.
//!
//! Rendering needs only the typed objects of `k8s-openapi` (Kubernetes 1.33
//! API, the oldest the crate supports, so the manifests suit every cluster
//! from 1.33 on). Talking to a cluster needs `kube` and is behind the `kube`
//! cargo feature, on by default.

pub mod check;
pub mod labels;
pub mod manifest;
pub mod names;
pub mod render;
pub mod warnings;

pub use manifest::{Kind, Manifests, Object};
pub use render::{render, BindMounts, RenderError, RenderOptions, Rendered, ServiceType};
pub use warnings::{Warning, Warnings};

#[cfg(feature = "kube")]
pub mod cluster;
