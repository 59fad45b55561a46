//! Kubernetes target: render a normalized stack as Kubernetes objects, apply
//! them with server-side apply, prune what is no longer rendered, and wait.
