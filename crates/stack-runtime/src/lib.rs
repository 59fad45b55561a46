//! One container: namespaces, overlay rootfs, mounts, capabilities, seccomp,
//! cgroups, the first process, exec, and its lifecycle.
